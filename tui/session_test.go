package tui

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/store"
	"perfpilot/tui/dialog"
)

// labResult is a plausible measurement of a row made after a session was
// saved. The stale-session tests share it, and with it one fit
// (cachedRanker).
func labResult(r engine.Recommendation) engine.Result {
	return engine.Result{Config: r.Config(), ModelType: r.ModelType, Throughput: 140, Source: "lab"}
}

// TestStaleSessionBanner: a session reopened after measurements shows them
// marked and says how old the snapshot is.
func TestStaleSessionBanner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "space", "space", "ctrl+s")
	typeText(t, m, "monday")
	keys(t, m, "enter")
	if m.sessionName != "monday" {
		t.Fatalf("not saved: %q", m.status.Text)
	}
	later := fixedNow.Add(2 * time.Hour)
	e.st.now = func() time.Time { return later }
	if _, _, err := e.st.InsertResults(t.Context(), []engine.Result{labResult(m.report.Recommendations[0])}); err != nil {
		t.Fatal(err)
	}
	keys(t, m, "r", "7", "enter")
	if m.sessionName != "monday" || m.snapshot == nil || m.snapshot.measuredSince != 1 {
		t.Fatalf("reopen: session %q snapshot %+v", m.sessionName, m.snapshot)
	}
	s := screen(m)
	mustContain(t, s, "snapshot from", "1 row(s) measured since", "r re-ranks", "✓140", "2 selected")
	keys(t, m, "r")
	mustNotContain(t, screen(m), "snapshot from")
}

func TestSessionsSaveOpenRenameDelete(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// TestSavedSelectionKeepsRowsOffTheRanking: rows selected from an earlier
// ranking that left the one on screen are saved with the session; after
// reopening it in a new dashboard, v, export and x act on exactly that
// selection, and running it again updates the same session rows.
func TestSavedSelectionKeepsRowsOffTheRanking(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "space", "j", "space", "j", "space")
	want := configs(m.recs.Selected())
	m.budget = 2
	keys(t, m, "-", "ctrl+s")
	typeText(t, m, "kept")
	keys(t, m, "enter")
	off := m.recs.OffRanking()
	if off != 2 || !strings.Contains(m.status.Text, "2 of them not in this ranking") {
		t.Fatalf("off-ranking %d, status %q", off, m.status.Text)
	}
	if infos, _ := e.st.Sessions(t.Context()); len(infos) != 1 || infos[0].Rows != 1 || infos[0].Selected != 3 {
		t.Fatalf("session list: %+v", infos)
	}

	m = newModel(t, e) // a new dashboard on the same store
	keys(t, m, "7", "enter")
	if m.sessionName != "kept" || len(m.report.Recommendations) != 1 || !sameSet(configs(m.recs.Selected()), want) || m.recs.OffRanking() != 2 {
		t.Fatalf("reopened: %q, %d rows, selected %v (want %v)", m.sessionName, len(m.report.Recommendations), configs(m.recs.Selected()), want)
	}
	mustContain(t, screen(m), "2 selected not in the top 1", "3 selected")
	keys(t, m, "v")
	if m.recs.Table().Len() != 3 {
		t.Fatalf("v shows %d rows", m.recs.Table().Len())
	}
	keys(t, m, "e", "enter")
	if got := readExport(t, filepath.Join(e.dir, "perfpilot-export-20260314-150926.json")); !sameSet(configs(got.Recommendations), want) {
		t.Fatalf("export: %v, want %v", configs(got.Recommendations), want)
	}
	m.opts.Runner = &fakeRunner{st: e.st}
	keys(t, m, "x")
	mustContain(t, screen(m), "Run 3 configurations?", `Session "kept" gets this selection`)
	keys(t, m, "y")
	rs, _ := e.st.Results(t.Context(), store.ResultFilter{Source: runner.Source("kept")})
	var ran []engine.Config
	for _, r := range rs {
		ran = append(ran, r.Config)
	}
	if !sameSet(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
	if s, _ := e.st.Session(t.Context(), "kept"); len(s.Report.Recommendations) != 3 || len(s.Selected) != 3 {
		t.Fatalf("session after the run: %d rows, selected %v", len(s.Report.Recommendations), s.Selected)
	}
}

// Quitting asks only when the selection is not what a session stores: a
// re-ranking of a saved session (as after a run) loses nothing, a changed
// selection or one never saved does.
func TestQuitAsksOnlyForAnUnsavedSelection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		after []string // keys after saving "s" with two rows selected
		asks  bool
	}{
		{"saved, re-ranked by memory", []string{"m"}, false},
		{"saved, then re-ranked by latency and back", []string{"l", "t"}, false},
		{"saved, then one more row selected", []string{"j", "j", "j", "space"}, true},
		{"saved, then the selection cleared", []string{"esc"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			m := newModel(t, e)
			keys(t, m, "space", "j", "space", "ctrl+s")
			typeText(t, m, "s")
			keys(t, m, "enter")
			if m.sessionName != "s" {
				t.Fatalf("not saved: %q", m.status.Text)
			}
			keys(t, m, tc.after...)
			quit := keys(t, m, "q")
			if asked := m.dialog != nil && strings.Contains(screen(m), "Quit?"); asked != tc.asks || quit == tc.asks {
				t.Errorf("after %v: asked %v, quit %v; want asked %v", tc.after, asked, quit, tc.asks)
			}
		})
	}
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "space")
	if keys(t, m, "q") || !strings.Contains(screen(m), "Quit?") {
		t.Error("a selection never saved: q quit without asking")
	}
}
