// Package table is the dashboard's table component: generic over the row key K and the row type T, it
// handles its own navigation, selection and sort keys and the mouse, keeps
// the cursor on the same row across re-sorts, filters and new data, and
// renders only the rows in view (each cached until it changes).
package table

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"perfpilot/tui/common"
)

// Column describes one column. Columns are data: a view declares its
// columns as a slice of these, and adding a column is adding an element.
type Column[T any] struct {
	Title string
	// Width is the column width; a Flex column takes the space left over,
	// and gives up to Width-flexMin cells when space is short.
	Width int
	Flex  bool
	Right bool
	// Secondary columns are dropped on narrow terminals; Wide columns are
	// only shown on wide ones (common.WideWidth and up).
	Secondary, Wide bool
	Cell            func(T) string
	// Style, when set, colours the cell (not on the cursor row).
	Style func(T, *common.Theme) lipgloss.Style
	// Cmp orders rows for sorting; nil makes the column unsortable.
	Cmp func(a, b T) int
}

// Event says what a key or mouse message did to the table.
type Event uint8

const (
	Moved Event = 1 << iota
	SelectionChanged
	Sorted
)

type entry[K comparable, T any] struct {
	key    K
	search string
	v      T
}

// Model is a table of T keyed by K.
type Model[K comparable, T any] struct {
	ctx    *common.Context
	cols   []Column[T]
	key    func(T) K
	search func(T) string
	match  func(T, string) bool

	items   []entry[K, T]
	rows    []int // indexes into items after filter and sort
	filter  string
	sortCol int // -1: natural order
	desc    bool
	cursor  int
	offset  int
	sel     *Selection[K, T] // nil: rows cannot be selected
	width   int
	height  int

	layout  []int // width per column, -1 hidden
	laidFor layoutKey
	cache   map[K]string
	plain   map[K]string
}

type layoutKey struct {
	width         int
	compact, wide bool
	theme         *common.Theme
}

// New makes a table. key gives a row's stable key; search the text the
// filter matches against (lower-cased once per row).
func New[K comparable, T any](ctx *common.Context, cols []Column[T], key func(T) K, search func(T) string) *Model[K, T] {
	return &Model[K, T]{ctx: ctx, cols: cols, key: key, search: search, sortCol: -1,
		cache: map[K]string{}, plain: map[K]string{}}
}

// SetMatcher replaces substring matching: match gets a row and the
// lower-cased filter text.
func (t *Model[K, T]) SetMatcher(match func(T, string) bool) { t.match = match }

// SetSelection makes rows selectable, sharing sel (several tables showing
// the same rows can share one).
func (t *Model[K, T]) SetSelection(sel *Selection[K, T]) { t.sel = sel }

// SetColumns replaces the columns (for example when the metric changes).
func (t *Model[K, T]) SetColumns(cols []Column[T]) {
	t.cols = cols
	if t.sortCol >= len(cols) {
		t.sortCol = -1
	}
	t.Invalidate()
}

// SetRows replaces the rows, keeping the cursor on the same key when it is
// still there. Selected rows get their new values.
func (t *Model[K, T]) SetRows(rows []T) {
	cur, ok := t.CurrentKey()
	t.items = make([]entry[K, T], len(rows))
	for i, v := range rows {
		k := t.key(v)
		t.items[i] = entry[K, T]{key: k, search: strings.ToLower(t.search(v)), v: v}
		if t.sel != nil {
			t.sel.refresh(k, v)
		}
	}
	t.Invalidate()
	t.refresh(cur, ok)
}

// Rows returns every row, filtered or not, in natural order.
func (t *Model[K, T]) Rows() []T {
	out := make([]T, len(t.items))
	for i := range t.items {
		out[i] = t.items[i].v
	}
	return out
}

// Visible returns the rows that pass the filter, in display order.
func (t *Model[K, T]) Visible() []T {
	out := make([]T, len(t.rows))
	for i, r := range t.rows {
		out[i] = t.items[r].v
	}
	return out
}

// Len is the number of rows that pass the filter; Total counts all rows.
func (t *Model[K, T]) Len() int   { return len(t.rows) }
func (t *Model[K, T]) Total() int { return len(t.items) }

// SetSize sets the space the table may use, header included.
func (t *Model[K, T]) SetSize(width, height int) {
	t.width, t.height = width, max(height, 2)
	t.clampOffset()
}

// Invalidate drops the cached rendering of every row (for example when
// something a cell shows changed outside the row values).
func (t *Model[K, T]) Invalidate() {
	t.layout = nil
	clear(t.cache)
	clear(t.plain)
}

// Filter returns the current filter text.
func (t *Model[K, T]) Filter() string { return t.filter }

// SetFilter narrows the rows to those matching s (case-insensitive),
// keeping the cursor on the same row when it survives.
func (t *Model[K, T]) SetFilter(s string) {
	if s == t.filter {
		return
	}
	cur, ok := t.CurrentKey()
	t.filter = s
	t.refresh(cur, ok)
}

// SortState names the sort column ("" for natural order) and direction.
func (t *Model[K, T]) SortState() (col string, desc bool) {
	if t.sortCol < 0 {
		return "", t.desc
	}
	return t.cols[t.sortCol].Title, t.desc
}

func (t *Model[K, T]) cycleSort() {
	cur, ok := t.CurrentKey()
	t.ensureLayout()
	for i := t.sortCol + 1; ; i++ {
		if i >= len(t.cols) {
			t.sortCol = -1
			break
		}
		if t.cols[i].Cmp != nil && t.layout[i] >= 0 {
			t.sortCol = i
			break
		}
	}
	t.desc = false
	t.layout = nil
	t.refresh(cur, ok)
}

func (t *Model[K, T]) reverseSort() {
	cur, ok := t.CurrentKey()
	t.desc = !t.desc
	t.layout = nil
	t.refresh(cur, ok)
}

// refresh recomputes the visible rows and puts the cursor back on key.
func (t *Model[K, T]) refresh(k K, keep bool) {
	q := strings.ToLower(strings.TrimSpace(t.filter))
	t.rows = t.rows[:0]
	for i := range t.items {
		if q == "" || t.matches(&t.items[i], q) {
			t.rows = append(t.rows, i)
		}
	}
	if t.sortCol >= 0 {
		cmp := t.cols[t.sortCol].Cmp
		slices.SortStableFunc(t.rows, func(a, b int) int {
			c := cmp(t.items[a].v, t.items[b].v)
			if t.desc {
				c = -c
			}
			return c
		})
	} else if t.desc {
		slices.Reverse(t.rows)
	}
	if keep {
		for i, r := range t.rows {
			if t.items[r].key == k {
				t.cursor = i
				t.clampOffset()
				return
			}
		}
	}
	t.cursor = min(t.cursor, max(len(t.rows)-1, 0))
	t.clampOffset()
}

func (t *Model[K, T]) matches(e *entry[K, T], q string) bool {
	if t.match != nil {
		return t.match(e.v, q)
	}
	return strings.Contains(e.search, q)
}

// Current returns the row under the cursor.
func (t *Model[K, T]) Current() (T, bool) {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		var zero T
		return zero, false
	}
	return t.items[t.rows[t.cursor]].v, true
}

// CurrentKey returns the key of the row under the cursor.
func (t *Model[K, T]) CurrentKey() (K, bool) {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		var zero K
		return zero, false
	}
	return t.items[t.rows[t.cursor]].key, true
}

// Cursor is the cursor's index among the visible rows.
func (t *Model[K, T]) Cursor() int { return t.cursor }

// Move moves the cursor by n rows, clamped.
func (t *Model[K, T]) Move(n int) {
	t.cursor = max(0, min(t.cursor+n, len(t.rows)-1))
	t.clampOffset()
}

// GoTo puts the cursor on the row with key k, if it is visible.
func (t *Model[K, T]) GoTo(k K) bool {
	for i, r := range t.rows {
		if t.items[r].key == k {
			t.cursor = i
			t.clampOffset()
			return true
		}
	}
	return false
}

// PageSize is the number of rows in view.
func (t *Model[K, T]) PageSize() int { return max(1, t.height-1) }

func (t *Model[K, T]) clampOffset() {
	page := t.PageSize()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+page {
		t.offset = t.cursor - page + 1
	}
	t.offset = max(0, min(t.offset, len(t.rows)-page))
}

// Update handles the table's keys (common.TableKeys) and the mouse: the
// wheel scrolls, a click puts the cursor on the row clicked. Mouse
// coordinates are relative to the table's top-left corner (its header).
func (t *Model[K, T]) Update(msg tea.Msg) Event {
	before := t.cursor
	var ev Event
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		ev = t.key1(msg)
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			t.Move(-3)
		case tea.MouseWheelDown:
			t.Move(3)
		}
	case tea.MouseClickMsg:
		if row := t.offset + msg.Y - 1; msg.Button == tea.MouseLeft && msg.Y >= 1 && row < len(t.rows) {
			t.cursor = row
			t.clampOffset()
		}
	}
	if t.cursor != before {
		ev |= Moved
	}
	return ev
}

func (t *Model[K, T]) key1(msg tea.KeyPressMsg) Event {
	k := t.ctx.Keys.Table
	switch {
	case key.Matches(msg, k.Up):
		t.Move(-1)
	case key.Matches(msg, k.Down):
		t.Move(1)
	case key.Matches(msg, k.Top):
		t.Move(-len(t.rows))
	case key.Matches(msg, k.Bottom):
		t.Move(len(t.rows))
	case key.Matches(msg, k.PageUp):
		t.Move(-t.PageSize())
	case key.Matches(msg, k.PageDown):
		t.Move(t.PageSize())
	case key.Matches(msg, k.Sort):
		t.cycleSort()
		return Sorted
	case key.Matches(msg, k.SortReverse):
		t.reverseSort()
		return Sorted
	case t.sel != nil && key.Matches(msg, k.Select):
		if v, ok := t.Current(); ok {
			t.sel.Toggle(t.key(v), v)
			t.Move(1)
			return SelectionChanged
		}
	case t.sel != nil && key.Matches(msg, k.SelectAll):
		for _, r := range t.rows {
			t.sel.Add(t.items[r].key, t.items[r].v)
		}
		return SelectionChanged
	}
	return 0
}

// KeyBindings are the table's keys, for help.
func (t *Model[K, T]) KeyBindings() []key.Binding {
	k := t.ctx.Keys.Table
	out := []key.Binding{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.Sort, k.SortReverse}
	if t.sel != nil {
		out = append(out, k.Select, k.SelectAll)
	}
	return out
}
