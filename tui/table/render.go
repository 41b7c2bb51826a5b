package table

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"perfpilot/tui/common"
)

// maxCachedRows bounds the row cache; it is dropped whole when it grows past.
const maxCachedRows = 4096

// flexMin is the narrowest a flex column gets before columns are dropped.
const flexMin = 12

func (t *Model[K, T]) ensureLayout() {
	lk := layoutKey{width: t.width, compact: t.ctx.Compact(), wide: t.ctx.Wide(), theme: t.ctx.Theme}
	if t.layout != nil && lk == t.laidFor {
		return
	}
	if lk != t.laidFor {
		clear(t.cache)
		clear(t.plain)
	}
	t.laidFor = lk
	t.computeLayout(lk)
}

// computeLayout fits the columns into the width: the flex column grows or
// shrinks, and when that is not enough, secondary columns go from the
// right. The sorted column always stays.
func (t *Model[K, T]) computeLayout(lk layoutKey) {
	t.layout = make([]int, len(t.cols))
	used, flex := 2, -1 // cursor and selection marks
	for i, c := range t.cols {
		if (lk.compact && c.Secondary) || (c.Wide && !lk.wide) {
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
		if t.layout[i] >= 0 && (t.cols[i].Secondary || t.cols[i].Wide) && i != t.sortCol {
			used -= t.layout[i] + 1
			t.layout[i] = -1
		}
	}
}

// joinVisible joins the cells of the visible columns with one space; both
// the header and the rows are laid out by it.
func (t *Model[K, T]) joinVisible(cell func(i int, c Column[T], w int) string) string {
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
// Cell text comes from data (ids, sources, file names), so it is made safe
// here, once for every table.
func (t *Model[K, T]) renderRow(e *entry[K, T], styled bool) string {
	return t.joinVisible(func(_ int, c Column[T], w int) string {
		cell := common.Fit(common.Safe(c.Cell(e.v)), w, c.Right)
		if styled && c.Style != nil {
			cell = c.Style(e.v, t.ctx.Theme).Render(cell)
		}
		return cell
	})
}

// header keeps the sort arrow visible however narrow the column: the
// title gives way, not the arrow.
func (t *Model[K, T]) header() string {
	return "  " + t.joinVisible(func(i int, c Column[T], w int) string {
		if i != t.sortCol {
			return common.Fit(c.Title, w, c.Right)
		}
		arrow := "▲"
		if t.desc {
			arrow = "▼"
		}
		return common.Fit(ansi.Truncate(c.Title, max(w-1, 0), "…")+arrow, w, c.Right)
	})
}

// View renders the header and the rows in view: at most the table's
// height in lines, each at most its width.
func (t *Model[K, T]) View(empty string) string {
	t.ensureLayout()
	th := t.ctx.Theme
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
		lines = append(lines, t.line(&t.items[t.rows[i]], i == t.cursor))
	}
	return strings.Join(lines, "\n")
}

func (t *Model[K, T]) line(e *entry[K, T], cursor bool) string {
	th := t.ctx.Theme
	mark := " "
	if t.sel != nil && t.sel.Has(e.key) {
		mark = "●"
	}
	if cursor {
		row, ok := t.plain[e.key]
		if !ok {
			row = t.renderRow(e, false)
			t.plain[e.key] = row
		}
		return th.CursorRow.Render(common.Fit(ansi.Truncate("›"+mark+row, t.width, ""), t.width, false))
	}
	row, ok := t.cache[e.key]
	if !ok {
		row = ansi.Truncate(t.renderRow(e, true), max(t.width-2, 0), "")
		t.cache[e.key] = row
	}
	if mark != " " {
		mark = th.Selected.Render(mark)
	}
	return " " + mark + row
}
