package table

// Selection is a set of rows by key that remembers each row's last value,
// so a selected row that is no longer shown (it left the ranking, or a
// filter hides it) stays selected and reachable. Keys keep the order they
// were selected in.
type Selection[K comparable, T any] struct {
	vals  map[K]T
	order []K
}

// NewSelection makes an empty selection.
func NewSelection[K comparable, T any]() *Selection[K, T] {
	return &Selection[K, T]{vals: map[K]T{}}
}

// Has reports whether k is selected.
func (s *Selection[K, T]) Has(k K) bool { _, ok := s.vals[k]; return ok }

// Len counts the selected rows.
func (s *Selection[K, T]) Len() int { return len(s.vals) }

// Add selects k (with its value v).
func (s *Selection[K, T]) Add(k K, v T) {
	if _, ok := s.vals[k]; !ok {
		s.order = append(s.order, k)
	}
	s.vals[k] = v
}

// Toggle flips k.
func (s *Selection[K, T]) Toggle(k K, v T) {
	if s.Has(k) {
		s.Remove(k)
		return
	}
	s.Add(k, v)
}

// Remove unselects k.
func (s *Selection[K, T]) Remove(k K) {
	if _, ok := s.vals[k]; !ok {
		return
	}
	delete(s.vals, k)
	for i, o := range s.order {
		if o == k {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// Clear unselects everything.
func (s *Selection[K, T]) Clear() {
	clear(s.vals)
	s.order = s.order[:0]
}

// Keys returns the selected keys in selection order (the slice is the
// selection's own: read it, do not keep it).
func (s *Selection[K, T]) Keys() []K { return s.order }

// Values returns the selected rows' last values in selection order.
func (s *Selection[K, T]) Values() []T {
	out := make([]T, len(s.order))
	for i, k := range s.order {
		out[i] = s.vals[k]
	}
	return out
}

// refresh updates a selected row's value.
func (s *Selection[K, T]) refresh(k K, v T) {
	if _, ok := s.vals[k]; ok {
		s.vals[k] = v
	}
}
