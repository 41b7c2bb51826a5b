package tui

import (
	"cmp"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

type trow struct {
	id   string
	name string
	n    int
}

func testTable(calls *int) *Table[trow] {
	cols := []Column[trow]{
		{Title: "Name", Width: 8, Flex: true, Cell: func(r trow) string { *calls++; return r.name }, Cmp: func(a, b trow) int { return strings.Compare(a.name, b.name) }},
		{Title: "N", Width: 5, Right: true, Cell: func(r trow) string { return fmt.Sprint(r.n) }, Cmp: func(a, b trow) int { return cmp.Compare(a.n, b.n) }},
		{Title: "Extra", Width: 10, Secondary: true, Cell: func(r trow) string { return "extra" }},
	}
	return NewTable(cols, func(r trow) string { return r.id }, func(r trow) string { return r.name })
}

func rowsN(n int) []trow {
	out := make([]trow, n)
	for i := range out {
		out[i] = trow{id: fmt.Sprint("id", i), name: fmt.Sprintf("row-%05d", (i*7919)%n), n: i}
	}
	return out
}

func TestTableRendersOnlyTheVisibleWindow(t *testing.T) {
	calls := 0
	tb := testTable(&calls)
	tb.SetItems(rowsN(20000))
	tb.SetSize(60, 11, false, NewTheme(true, true))
	out := ansi.Strip(tb.View(""))
	if lines := strings.Count(out, "\n") + 1; lines != 11 {
		t.Fatalf("%d lines, want 11 (header + 10 rows)", lines)
	}
	if calls != 10 {
		t.Fatalf("rendered %d rows for a 10-row window", calls)
	}
	calls = 0
	ansi.Strip(tb.View("")) // cached
	tb.Move(1)              // cursor moves: only the two changed rows re-render
	ansi.Strip(tb.View(""))
	if calls > 2 {
		t.Fatalf("re-rendered %d rows after moving the cursor", calls)
	}
}

func TestTableCursorFollowsItsRow(t *testing.T) {
	calls := 0
	tb := testTable(&calls)
	tb.SetItems(rowsN(50))
	tb.SetSize(60, 11, false, nil)
	tb.Move(17)
	id, _ := tb.CurrentID()
	tb.CycleSort() // by name
	if cur, _ := tb.CurrentID(); cur != id {
		t.Fatalf("after sort the cursor is on %s, want %s", cur, id)
	}
	tb.ReverseSort()
	if cur, _ := tb.CurrentID(); cur != id {
		t.Fatal("after reverse the cursor moved to another row")
	}
	r, _ := tb.Current()
	tb.SetFilter(r.name[:7]) // a prefix that keeps the row
	if cur, _ := tb.CurrentID(); cur != id {
		t.Fatal("after filtering the cursor moved to another row")
	}
	tb.SetFilter("")
	// New data with the row elsewhere: the cursor stays on it.
	items := rowsN(50)
	items[0], items[17] = items[17], items[0]
	tb.SetItems(items)
	if cur, _ := tb.CurrentID(); cur != id {
		t.Fatal("after SetItems the cursor moved to another row")
	}
	// The row is gone: the cursor stays in range.
	tb.SetItems(items[:3])
	if tb.Cursor() < 0 || tb.Cursor() >= 3 {
		t.Fatalf("cursor %d out of range", tb.Cursor())
	}
}

func TestTableSelectionIsKeyedByID(t *testing.T) {
	calls := 0
	tb := testTable(&calls)
	tb.SetItems(rowsN(10))
	tb.SetSize(60, 20, false, nil)
	tb.ToggleSelect()
	tb.ToggleSelect()
	if tb.Cursor() != 2 || tb.SelectionLen() != 2 {
		t.Fatalf("cursor %d, %d selected", tb.Cursor(), tb.SelectionLen())
	}
	tb.CycleSort()
	tb.ReverseSort()
	if !tb.IsSelected("id0") || !tb.IsSelected("id1") || tb.IsSelected("id2") {
		t.Fatal("selection changed with the sort")
	}
	got := tb.Selected()
	if len(got) != 2 || got[0].id != "id0" || got[1].id != "id1" {
		t.Fatalf("Selected() = %v", got)
	}
	tb.SetFilter("row-00003")
	tb.SelectAll() // adds the visible rows to the selection
	if tb.Len() != 1 || tb.SelectionLen() != 3 {
		t.Fatalf("select all over %d visible rows: %d selected", tb.Len(), tb.SelectionLen())
	}
	tb.ClearSelection()
	if tb.SelectionLen() != 0 {
		t.Fatal("ClearSelection left rows selected")
	}
}

func TestTableDropsSecondaryColumnsWhenNarrow(t *testing.T) {
	calls := 0
	tb := testTable(&calls)
	tb.SetItems(rowsN(3))
	tb.SetSize(60, 5, false, nil)
	if !strings.Contains(ansi.Strip(tb.View("")), "Extra") {
		t.Fatal("wide table lacks the secondary column")
	}
	tb.SetSize(60, 5, true, nil)
	if strings.Contains(ansi.Strip(tb.View("")), "Extra") {
		t.Fatal("compact table kept the secondary column")
	}
	tb.SetSize(26, 5, false, nil) // too narrow for all: secondary goes
	out := ansi.Strip(tb.View(""))
	if strings.Contains(out, "Extra") || !strings.Contains(out, "N") {
		t.Fatalf("narrow layout:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if len([]rune(l)) > 26 {
			t.Fatalf("line wider than 26: %q", l)
		}
	}
}
