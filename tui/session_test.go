package tui

import (
	"slices"
	"testing"
	"time"

	"perfpilot/engine"
	"perfpilot/tui/dialog"
)

// TestStaleSessionBanner: a session reopened after measurements shows them
// marked and says how old the snapshot is.
func TestStaleSessionBanner(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "space", "space", "ctrl+s")
	typeText(t, m, "monday")
	keys(t, m, "enter")
	if m.sessionName != "monday" {
		t.Fatalf("not saved: %q", m.status.Text)
	}
	measured := m.report.Recommendations[1]
	later := fixedNow.Add(2 * time.Hour)
	e.st.now = func() time.Time { return later }
	r := engine.Result{Config: measured.Config(), ModelType: measured.ModelType, Throughput: 123, LatencyMS: 8, Source: "lab", Timestamp: later}
	if _, _, err := e.st.InsertResults(t.Context(), []engine.Result{r}); err != nil {
		t.Fatal(err)
	}
	keys(t, m, "r", "7", "enter")
	if m.sessionName != "monday" || m.snapshot == nil || m.snapshot.measuredSince != 1 {
		t.Fatalf("reopen: session %q snapshot %+v", m.sessionName, m.snapshot)
	}
	s := screen(m)
	mustContain(t, s, "snapshot from", "1 row(s) measured since", "r re-ranks", "✓123", "2 selected")
	keys(t, m, "r")
	mustNotContain(t, screen(m), "snapshot from")
}

func TestSessionsSaveOpenRenameDelete(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "l", "j", "space", "space", "ctrl+s")
	typeText(t, m, "lat")
	keys(t, m, "enter")
	saved := configs(m.recs.Selected())
	keys(t, m, "m", "+", "esc")
	if m.sel.Len() != 0 || m.report.OptimizationMetric != engine.Memory {
		t.Fatal("setup")
	}
	keys(t, m, "7")
	mustContain(t, screen(m), "1 saved session(s)", "lat", "latency")
	keys(t, m, "enter")
	if m.view != viewRecs || m.sessionName != "lat" || m.report.OptimizationMetric != engine.Latency || m.budget != 20 {
		t.Fatalf("open: view %v session %q metric %s budget %d", m.view, m.sessionName, m.report.OptimizationMetric, m.budget)
	}
	if !sameSet(configs(m.recs.Selected()), saved) {
		t.Fatal("selection not restored")
	}
	keys(t, m, "7", "n")
	typeText(t, m, "ency")
	keys(t, m, "enter")
	if !slices.Equal(m.sessions.Names(), []string{"latency"}) || m.sessionName != "latency" {
		t.Fatalf("rename: %v, open %q", m.sessions.Names(), m.sessionName)
	}
	for _, k := range []string{"enter", "n", "esc", "q"} {
		keys(t, m, "d")
		if _, ok := m.dialog.(*dialog.Confirm); !ok {
			t.Fatal("d asked nothing")
		}
		keys(t, m, k)
		if len(m.sessions.Names()) != 1 {
			t.Fatalf("%s deleted the session", k)
		}
	}
	keys(t, m, "d", "y")
	if len(m.sessions.Names()) != 0 || m.sessionName != "" {
		t.Fatalf("y: sessions %v, open %q", m.sessions.Names(), m.sessionName)
	}
}

func TestSaveUnderAnExistingNameAsks(t *testing.T) {
	m := newModel(t, newEnv(t))
	keys(t, m, "space", "ctrl+s")
	typeText(t, m, "a")
	keys(t, m, "enter", "ctrl+s")
	clearInput(t, m)
	typeText(t, m, "b")
	keys(t, m, "enter", "space", "ctrl+s")
	clearInput(t, m)
	typeText(t, m, "a")
	keys(t, m, "enter")
	if _, ok := m.dialog.(*dialog.Confirm); !ok {
		t.Fatal("no replace question")
	}
	keys(t, m, "y")
	if s, _ := m.opts.Store.Session(t.Context(), "a"); len(s.Selected) != 2 || m.sessionName != "a" {
		t.Fatal("y did not replace session a")
	}
}
