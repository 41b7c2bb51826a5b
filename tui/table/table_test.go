package table

import (
	"cmp"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/tui/common"
)

type trow struct {
	id   string
	name string
	n    int
}

func testCtx(width int) *common.Context {
	return &common.Context{Width: width, Height: 30, Theme: common.NewTheme(true, true), Keys: common.DefaultKeyMap(nil)}
}

func testTable(ctx *common.Context, calls *int) *Model[string, trow] {
	cols := []Column[trow]{
		{Title: "Name", Width: 8, Flex: true, Cell: func(r trow) string { *calls++; return r.name }, Cmp: func(a, b trow) int { return strings.Compare(a.name, b.name) }},
		{Title: "N", Width: 5, Right: true, Cell: func(r trow) string { return fmt.Sprint(r.n) }, Cmp: func(a, b trow) int { return cmp.Compare(a.n, b.n) }},
		{Title: "Extra", Width: 10, Secondary: true, Cell: func(r trow) string { return "extra" }},
		{Title: "Wide", Width: 10, Wide: true, Cell: func(r trow) string { return "wide" }},
	}
	return New(ctx, cols, func(r trow) string { return r.id }, func(r trow) string { return r.name })
}

func rowsN(n int) []trow {
	out := make([]trow, n)
	for i := range out {
		out[i] = trow{id: fmt.Sprint("id", i), name: fmt.Sprintf("row-%05d", (i*7919)%n), n: i}
	}
	return out
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "S":
		return tea.KeyPressMsg{Code: 's', Text: "S", Mod: tea.ModShift}
	case "ctrl+a":
		return tea.KeyPressMsg{Code: 'a', Mod: tea.ModCtrl}
	}
	return tea.KeyPressMsg{Code: rune(s[0]), Text: s}
}

func TestRendersOnlyTheVisibleWindow(t *testing.T) {
	calls := 0
	tb := testTable(testCtx(60), &calls)
	tb.SetRows(rowsN(20000))
	tb.SetSize(60, 11)
	out := ansi.Strip(tb.View(""))
	if lines := strings.Count(out, "\n") + 1; lines != 11 {
		t.Fatalf("%d lines, want 11 (header + 10 rows)", lines)
	}
	if calls != 10 {
		t.Fatalf("rendered %d rows for a 10-row window", calls)
	}
	calls = 0
	tb.View("")
	tb.Update(press("j")) // only the two rows that changed re-render
	tb.View("")
	if calls > 2 {
		t.Fatalf("re-rendered %d rows after moving the cursor", calls)
	}
}

func TestCursorFollowsItsRow(t *testing.T) {
	calls := 0
	tb := testTable(testCtx(60), &calls)
	tb.SetRows(rowsN(50))
	tb.SetSize(60, 11)
	tb.Move(17)
	id, _ := tb.CurrentKey()
	for _, k := range []string{"s", "S"} {
		if ev := tb.Update(press(k)); ev&Sorted == 0 {
			t.Fatalf("%s: event %v", k, ev)
		}
		if cur, _ := tb.CurrentKey(); cur != id {
			t.Fatalf("after %s the cursor is on %s, want %s", k, cur, id)
		}
	}
	r, _ := tb.Current()
	tb.SetFilter(r.name[:7])
	if cur, _ := tb.CurrentKey(); cur != id {
		t.Fatal("after filtering the cursor moved to another row")
	}
	tb.SetFilter("")
	items := rowsN(50)
	items[0], items[17] = items[17], items[0]
	tb.SetRows(items)
	if cur, _ := tb.CurrentKey(); cur != id {
		t.Fatal("after SetRows the cursor moved to another row")
	}
	tb.SetRows(items[:3])
	if tb.Cursor() < 0 || tb.Cursor() >= 3 {
		t.Fatalf("cursor %d out of range", tb.Cursor())
	}
}

func TestSelectionIsKeyedAndKeepsRowsThatLeft(t *testing.T) {
	calls := 0
	tb := testTable(testCtx(60), &calls)
	sel := NewSelection[string, trow]()
	tb.SetSelection(sel)
	tb.SetRows(rowsN(10))
	tb.SetSize(60, 20)
	tb.Update(press("space"))
	if ev := tb.Update(press("space")); ev&SelectionChanged == 0 || tb.Cursor() != 2 || sel.Len() != 2 {
		t.Fatalf("cursor %d, %d selected, event %v", tb.Cursor(), sel.Len(), ev)
	}
	tb.Update(press("s"))
	if !sel.Has("id0") || !sel.Has("id1") || sel.Has("id2") {
		t.Fatal("selection changed with the sort")
	}
	tb.SetRows(rowsN(10)[5:]) // the selected rows leave
	if sel.Len() != 2 || sel.Values()[0].id != "id0" {
		t.Fatalf("rows that left the table were unselected: %v", sel.Values())
	}
	tb.SetFilter("row-00003")
	tb.Update(press("ctrl+a"))
	if tb.Len() != 1 || sel.Len() != 3 {
		t.Fatalf("select all over %d visible rows: %d selected", tb.Len(), sel.Len())
	}
}

func TestColumnsByWidth(t *testing.T) {
	calls := 0
	for _, tc := range []struct {
		width     int
		has, lack []string
	}{
		{120, []string{"Extra"}, []string{"Wide"}},
		{60, nil, []string{"Extra", "Wide"}},
		{200, []string{"Extra", "Wide"}, nil},
		{26, []string{"N"}, []string{"Extra"}},
	} {
		ctx := testCtx(tc.width)
		tb := testTable(ctx, &calls)
		tb.SetRows(rowsN(3))
		tb.SetSize(tc.width, 5)
		out := ansi.Strip(tb.View(""))
		for _, s := range tc.has {
			if !strings.Contains(out, s) {
				t.Errorf("%d cols: lacks %s:\n%s", tc.width, s, out)
			}
		}
		for _, s := range tc.lack {
			if strings.Contains(out, s) {
				t.Errorf("%d cols: has %s:\n%s", tc.width, s, out)
			}
		}
		for _, l := range strings.Split(out, "\n") {
			if ansi.StringWidth(l) > tc.width {
				t.Errorf("%d cols: line %q too wide", tc.width, l)
			}
		}
	}
}

func TestSortArrowSurvivesNarrowColumns(t *testing.T) {
	calls := 0
	ctx := testCtx(20)
	tb := testTable(ctx, &calls)
	tb.SetRows(rowsN(3))
	tb.SetSize(20, 5)
	tb.Update(press("s"))
	tb.Update(press("s")) // N: 5 cells wide
	head := strings.Split(ansi.Strip(tb.View("")), "\n")[0]
	if !strings.Contains(head, "N▲") {
		t.Fatalf("header %q", head)
	}
}

func TestMouse(t *testing.T) {
	calls := 0
	tb := testTable(testCtx(60), &calls)
	tb.SetRows(rowsN(50))
	tb.SetSize(60, 11)
	tb.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if tb.Cursor() != 3 {
		t.Fatalf("wheel: cursor %d", tb.Cursor())
	}
	tb.Update(tea.MouseClickMsg{Button: tea.MouseLeft, Y: 5})
	if tb.Cursor() != 4 {
		t.Fatalf("click on the 5th row: cursor %d", tb.Cursor())
	}
	tb.Update(tea.MouseClickMsg{Button: tea.MouseLeft, Y: 0}) // the header
	if tb.Cursor() != 4 {
		t.Fatal("a click on the header moved the cursor")
	}
}
