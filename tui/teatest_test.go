package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"perfpilot/engine"
)

// TestProgramFlows drives the real program (teatest): a selection made
// with the mouse and keys survives t→m→t, esc closes the detail pane then
// the selection, a click on a tab switches view, and q quits only once no
// overlay is open.
func TestProgramFlows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := New(t.Context(), e.options())
	tm, wait := startProgram(t, m)
	wait("ranked 20 of")
	tm.Send(tea.MouseClickMsg{Button: tea.MouseLeft, X: 10, Y: headerLines + 1 + 2}) // third row
	tm.Send(press("space"))
	tm.Send(tea.MouseWheelMsg{Button: tea.MouseWheelDown, Y: 10})
	tm.Send(press("space"))
	for _, k := range []string{"t", "m", "t"} {
		tm.Send(press(k))
	}
	wait("re-ranking by memory", "re-ranking by throughput")
	tm.Send(press("enter")) // detail pane
	tm.Send(press("?"))
	tm.Send(press("q")) // closes help
	tm.Send(press("esc"))
	tm.Send(tea.MouseClickMsg{Button: tea.MouseLeft, X: 2, Y: headerLines - 1}) // the first tab
	tm.Send(press("esc"))                                                       // clears the selection
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
	final := tm.FinalModel(t).(*Model)
	if final.detailOpen || final.showHelp || final.view != viewRecs || final.sel.Len() != 0 {
		t.Fatalf("detail %v help %v view %v selected %d", final.detailOpen, final.showHelp, final.view, final.sel.Len())
	}
	if final.report.OptimizationMetric != "throughput" {
		t.Fatalf("ranked by %s", final.report.OptimizationMetric)
	}
	var cleared bool
	for _, e := range final.log.Entries() {
		cleared = cleared || e.Text == "selection cleared"
	}
	if !cleared {
		t.Fatal("the selection made with the mouse did not survive t→m→t to be cleared by esc")
	}
}

// TestProgramStaleSession: a session saved, then measured, then reopened
// in the running program says how stale it is and marks the row.
func TestProgramStaleSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := New(t.Context(), e.options())
	tm, wait := startProgram(t, m)
	wait("ranked 20 of")
	tm.Send(press("ctrl+s"))
	tm.Type("monday")
	tm.Send(press("enter"))
	wait(`saved session "monday"`)
	later := fixedNow.Add(time.Hour)
	e.st.mu.Lock()
	e.st.now = func() time.Time { return later }
	e.st.mu.Unlock()
	r := firstRow(t, e)
	if _, _, err := e.st.InsertResults(t.Context(), []engine.Result{labResult(r)}); err != nil {
		t.Fatal(err)
	}
	tm.Send(press("r"))
	wait("[97 results loaded]")
	tm.Send(press("7"))
	tm.Send(press("enter"))
	wait(`opened session "monday"`)
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
	final := tm.FinalModel(t).(*Model)
	mustContain(t, screen(final), "snapshot from", "1 row(s) measured since", "✓140")
}

// firstRow is the first row of the demo ranking.
func firstRow(t *testing.T, e *testEnv) engine.Recommendation {
	return newModel(t, e).report.Recommendations[0]
}
