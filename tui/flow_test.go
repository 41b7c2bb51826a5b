package tui

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"perfpilot/engine"
)

// TestFlowLatencyExport drives the real program: start → l → select three
// rows → e → enter, then checks the exported JSON holds exactly those three
// configurations ranked by latency.
func TestFlowLatencyExport(t *testing.T) {
	e := newEnv(t)
	ranked := make(chan engine.Metric, 8)
	var mu sync.Mutex
	var selected []string
	// The filter sees every message with the model it is about to update:
	// it tells the test when a ranking has landed and what is selected.
	observe := func(mod tea.Model, msg tea.Msg) tea.Msg {
		m := mod.(*Model)
		if r, ok := msg.(rankedMsg); ok && r.err == nil && m.pending[jobRank] == r.id {
			ranked <- r.report.OptimizationMetric
		}
		if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "e" {
			mu.Lock()
			selected = ids(m.recs.Selected())
			mu.Unlock()
		}
		return msg
	}
	m := New(t.Context(), e.options())
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 35),
		teatest.WithProgramOptions(tea.WithFilter(observe)))
	waitRanked := func(want engine.Metric) {
		t.Helper()
		for {
			select {
			case got := <-ranked:
				if got == want {
					return
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("no %s ranking", want)
			}
		}
	}
	waitRanked(engine.Throughput)
	tm.Send(press("l"))
	waitRanked(engine.Latency)
	tm.Send(press("space"))
	tm.Send(press("space"))
	tm.Send(press("j"))
	tm.Send(press("space"))
	tm.Send(press("e"))
	tm.Send(press("enter"))

	path := filepath.Join(e.dir, "perfpilot-export-20260314-150926.json")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("export file never appeared")
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := readExport(t, path)
	if got.OptimizationMetric != engine.Latency || len(got.Recommendations) != 3 {
		t.Fatalf("exported %d rows by %s", len(got.Recommendations), got.OptimizationMetric)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(ids(got.Recommendations), selected) {
		t.Fatalf("exported %v, selected %v", ids(got.Recommendations), selected)
	}
	for _, r := range got.Recommendations {
		if r.Predicted.LatencyMS.Value <= 0 {
			t.Fatalf("row %s has no latency", recID(r))
		}
	}
	// Quitting asks (three unsaved selected rows); y confirms.
	tm.Send(press("q"))
	tm.Send(press("y"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(*Model)
	if len(final.sel) != 3 || final.report.OptimizationMetric != engine.Latency {
		t.Fatalf("final: %d selected, metric %s", len(final.sel), final.report.OptimizationMetric)
	}
}
