package tui

import (
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Column describes one table column.
type Column[T any] struct {
	Title string
	// Width is the column width; a Flex column takes the space left over,
	// and gives up to Width-flexMin cells when space is short.
	Width int
	Flex  bool
	Right bool
	// Secondary columns are dropped on narrow terminals.
	Secondary bool
	Cell      func(T) string
	// Style, when set, colours the cell (not on the cursor row).
	Style func(T, *Theme) lipgloss.Style
	// Cmp orders rows for sorting; nil makes the column unsortable.
	Cmp func(a, b T) int
}

// Selection is a set of row IDs; tables showing the same rows can share one.
type Selection map[string]struct{}

type entry[T any] struct {
	id     string
	search string
	v      T
}

// Table is a generic table: it renders only the rows in view, caches each
// row's rendering, keeps the selection keyed by row ID, and keeps the cursor
// on the same row across re-sorts, filters and data updates.
type Table[T any] struct {
	cols   []Column[T]
	id     func(T) string
	search func(T) string

	items   []entry[T]
	rows    []int // indexes into items after filter and sort
	filter  string
	sortCol int // -1: natural order
	desc    bool
	cursor  int
	offset  int
	sel     Selection
	width   int
	height  int
	compact bool
	theme   *Theme

	layout []int // width per column, -1 hidden
	cache  map[string]string
	plain  map[string]string
}

// NewTable makes a table. id gives a row's stable ID; search gives the text
// the filter matches against.
func NewTable[T any](cols []Column[T], id, search func(T) string) *Table[T] {
	return &Table[T]{cols: cols, id: id, search: search, sortCol: -1, sel: Selection{},
		cache: map[string]string{}, plain: map[string]string{}}
}

// ShareSelection makes the table use sel as its selection set.
func (t *Table[T]) ShareSelection(sel Selection) { t.sel = sel }

// SetColumns replaces the columns (for example when the metric changes).
func (t *Table[T]) SetColumns(cols []Column[T]) {
	t.cols = cols
	if t.sortCol >= len(cols) {
		t.sortCol = -1
	}
	t.invalidate()
}

// SetItems replaces the rows, keeping the cursor on the same row ID when it
// is still there.
func (t *Table[T]) SetItems(items []T) {
	cur, ok := t.CurrentID()
	t.items = make([]entry[T], len(items))
	for i, v := range items {
		t.items[i] = entry[T]{id: t.id(v), search: strings.ToLower(t.search(v)), v: v}
	}
	t.invalidate()
	t.refresh(cur, ok)
}

// Items returns every row, filtered or not, in natural order.
func (t *Table[T]) Items() []T {
	out := make([]T, len(t.items))
	for i := range t.items {
		out[i] = t.items[i].v
	}
	return out
}

// Len is the number of visible (filtered) rows; Total counts all rows.
func (t *Table[T]) Len() int   { return len(t.rows) }
func (t *Table[T]) Total() int { return len(t.items) }

// SetSize sets the space the table may use, header included.
func (t *Table[T]) SetSize(width, height int, compact bool, theme *Theme) {
	if width != t.width || compact != t.compact || theme != t.theme {
		t.invalidate()
	}
	t.width, t.height, t.compact, t.theme = width, max(height, 2), compact, theme
	t.clampOffset()
}

func (t *Table[T]) invalidate() {
	t.layout = nil
	clear(t.cache)
	clear(t.plain)
}

// Filter returns the current filter text.
func (t *Table[T]) Filter() string { return t.filter }

// SetFilter narrows the rows to those whose search text contains s
// (case-insensitive), keeping the cursor on the same row when it survives.
func (t *Table[T]) SetFilter(s string) {
	if s == t.filter {
		return
	}
	cur, ok := t.CurrentID()
	t.filter = s
	t.refresh(cur, ok)
}

// CycleSort moves the sort to the next sortable column, then back to the
// natural order.
func (t *Table[T]) CycleSort() {
	cur, ok := t.CurrentID()
	for i := t.sortCol + 1; ; i++ {
		if i >= len(t.cols) {
			t.sortCol = -1
			break
		}
		if t.cols[i].Cmp != nil && t.visibleCol(i) {
			t.sortCol = i
			break
		}
	}
	t.desc = false
	t.refresh(cur, ok)
}

// ReverseSort flips the sort direction.
func (t *Table[T]) ReverseSort() {
	cur, ok := t.CurrentID()
	t.desc = !t.desc
	t.refresh(cur, ok)
}

// SortState describes the sort for the status line.
func (t *Table[T]) SortState() (col string, desc bool) {
	if t.sortCol < 0 {
		return "", t.desc
	}
	return t.cols[t.sortCol].Title, t.desc
}

func (t *Table[T]) visibleCol(i int) bool {
	if t.layout != nil && i < len(t.layout) && t.layout[i] < 0 {
		return false
	}
	return !(t.compact && t.cols[i].Secondary)
}

// refresh recomputes the visible rows and puts the cursor back on id.
func (t *Table[T]) refresh(id string, keep bool) {
	q := strings.ToLower(strings.TrimSpace(t.filter))
	t.rows = t.rows[:0]
	for i := range t.items {
		if q == "" || strings.Contains(t.items[i].search, q) {
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
			if t.items[r].id == id {
				t.cursor = i
				t.clampOffset()
				return
			}
		}
	}
	t.cursor = min(t.cursor, max(len(t.rows)-1, 0))
	t.clampOffset()
}

// Current returns the row under the cursor.
func (t *Table[T]) Current() (T, bool) {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		var zero T
		return zero, false
	}
	return t.items[t.rows[t.cursor]].v, true
}

// CurrentID returns the ID of the row under the cursor.
func (t *Table[T]) CurrentID() (string, bool) {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		return "", false
	}
	return t.items[t.rows[t.cursor]].id, true
}

// Cursor is the cursor's index among the visible rows.
func (t *Table[T]) Cursor() int { return t.cursor }

// Move moves the cursor by n rows, clamped.
func (t *Table[T]) Move(n int) {
	t.cursor = max(0, min(t.cursor+n, len(t.rows)-1))
	t.clampOffset()
}

// Top and Bottom jump to the first and last row.
func (t *Table[T]) Top()    { t.Move(-len(t.rows)) }
func (t *Table[T]) Bottom() { t.Move(len(t.rows)) }

// PageSize is the number of rows in view.
func (t *Table[T]) PageSize() int { return max(1, t.height-1) }

func (t *Table[T]) clampOffset() {
	page := t.PageSize()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+page {
		t.offset = t.cursor - page + 1
	}
	t.offset = max(0, min(t.offset, len(t.rows)-page))
}

// ToggleSelect flips the selection of the row under the cursor and moves
// down.
func (t *Table[T]) ToggleSelect() {
	id, ok := t.CurrentID()
	if !ok {
		return
	}
	if _, on := t.sel[id]; on {
		delete(t.sel, id)
	} else {
		t.sel[id] = struct{}{}
	}
	t.Move(1)
}

// SelectAll selects every visible row.
func (t *Table[T]) SelectAll() {
	for _, r := range t.rows {
		t.sel[t.items[r].id] = struct{}{}
	}
}

// IsSelected reports whether the row with id is selected.
func (t *Table[T]) IsSelected(id string) bool { _, ok := t.sel[id]; return ok }

// Selected returns the selected rows that the table holds, in natural order.
func (t *Table[T]) Selected() []T {
	var out []T
	for i := range t.items {
		if _, ok := t.sel[t.items[i].id]; ok {
			out = append(out, t.items[i].v)
		}
	}
	return out
}

// maxCachedRows bounds the row cache; it is dropped whole when it grows past.
const maxCachedRows = 4096

// flexMin is the narrowest a flex column gets before columns are dropped.
const flexMin = 12

// computeLayout fits the columns into the width: the flex column grows or
// shrinks, and when that is not enough, secondary columns go from the right.
func (t *Table[T]) computeLayout() {
	t.layout = make([]int, len(t.cols))
	used, flex := 2, -1 // cursor and selection marks
	for i, c := range t.cols {
		if !t.visibleCol(i) {
			t.layout[i] = -1
			continue
		}
		t.layout[i] = c.Width
		used += c.Width + 1
		if c.Flex && flex < 0 {
			flex = i
		}
	}
	used-- // no gap after the last column
	if flex >= 0 && used != t.width {
		w := max(t.layout[flex]+t.width-used, min(flexMin, t.cols[flex].Width))
		used += w - t.layout[flex]
		t.layout[flex] = w
	}
	for i := len(t.cols) - 1; i >= 0 && used > t.width; i-- {
		if t.layout[i] >= 0 && t.cols[i].Secondary {
			used -= t.layout[i] + 1
			t.layout[i] = -1
		}
	}
}

func fit(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	pad := w - ansi.StringWidth(s)
	if right {
		return strings.Repeat(" ", pad) + s
	}
	return s + strings.Repeat(" ", pad)
}

// joinVisible joins the cells of the visible columns with one space; both
// the header and the rows are laid out by it.
func (t *Table[T]) joinVisible(cell func(i int, c Column[T], w int) string) string {
	var b strings.Builder
	first := true
	for i, c := range t.cols {
		w := t.layout[i]
		if w < 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(cell(i, c, w))
	}
	return b.String()
}

// renderRow renders a row's cells, styled or plain, without the marks.
func (t *Table[T]) renderRow(e *entry[T], styled bool) string {
	return t.joinVisible(func(_ int, c Column[T], w int) string {
		cell := fit(c.Cell(e.v), w, c.Right)
		if styled && c.Style != nil && t.theme != nil {
			cell = c.Style(e.v, t.theme).Render(cell)
		}
		return cell
	})
}

func (t *Table[T]) header() string {
	return "  " + t.joinVisible(func(i int, c Column[T], w int) string {
		title := c.Title
		if i == t.sortCol {
			if t.desc {
				title += "▼"
			} else {
				title += "▲"
			}
		}
		return fit(title, w, c.Right)
	})
}

// View renders the header and the rows in view, exactly t.height lines
// (fewer when there are fewer rows) of at most t.width cells.
func (t *Table[T]) View(empty string) string {
	if t.layout == nil {
		t.computeLayout()
	}
	th := t.theme
	if th == nil {
		th = NewTheme(true, true)
	}
	lines := make([]string, 0, t.height)
	lines = append(lines, th.ColHeader.Render(ansi.Truncate(t.header(), t.width, "")))
	if len(t.rows) == 0 {
		lines = append(lines, th.Muted.Render(ansi.Truncate("  "+empty, t.width, "…")))
		return strings.Join(lines, "\n")
	}
	if len(t.cache) > maxCachedRows {
		clear(t.cache)
		clear(t.plain)
	}
	end := min(len(t.rows), t.offset+t.PageSize())
	for i := t.offset; i < end; i++ {
		e := &t.items[t.rows[i]]
		mark := " "
		if _, ok := t.sel[e.id]; ok {
			mark = "●"
		}
		if i == t.cursor {
			row, ok := t.plain[e.id]
			if !ok {
				row = t.renderRow(e, false)
				t.plain[e.id] = row
			}
			line := ansi.Truncate("›"+mark+row, t.width, "")
			lines = append(lines, th.CursorRow.Render(fit(line, t.width, false)))
			continue
		}
		row, ok := t.cache[e.id]
		if !ok {
			row = ansi.Truncate(t.renderRow(e, true), max(t.width-2, 0), "")
			t.cache[e.id] = row
		}
		if mark != " " {
			mark = th.Selected.Render(mark)
		}
		lines = append(lines, " "+mark+row)
	}
	return strings.Join(lines, "\n")
}

// ClearSelection empties the selection set.
func (t *Table[T]) ClearSelection() { clear(t.sel) }

// SelectionLen counts the selected IDs.
func (t *Table[T]) SelectionLen() int { return len(t.sel) }

// rowsForTest returns the visible rows in order.
func (t *Table[T]) rowsForTest() []T {
	out := make([]T, len(t.rows))
	for i, r := range t.rows {
		out[i] = t.items[r].v
	}
	return out
}
