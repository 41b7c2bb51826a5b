package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"perfpilot/engine"
	"perfpilot/store"
	"perfpilot/tui/common"
)

// plantAnomaly makes the env's first result 5× too fast, which the
// predictor flags; it returns that result's configuration.
func plantAnomaly(e *testEnv) engine.Config {
	r := &e.st.results[0].Result
	r.LatencyMS /= 5
	r.Throughput *= 5
	return r.Config
}

// TestAnomaliesMarked: a measurement the predictor doubts carries ⚠ and
// its reason in the benchmarks view, the hardware view and the overview;
// no other row does.
func TestAnomaliesMarked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := plantAnomaly(e)
	m := newModel(t, e)
	if m.ctx.Anomalies.Len() != 1 {
		t.Fatalf("flags: %+v", m.pred.Flags())
	}
	keys(t, m, "6")
	s := screen(m)
	mustContain(t, s, "⚠ 1 in doubt", "⚠ result 1: measured", "faster than similar configurations predict — check it")
	if n := strings.Count(s, "⚠"); n != 4 { // summary, column title, the row, the reason
		t.Fatalf("%d ⚠ on the benchmarks view:\n%s", n, s)
	}
	keys(t, m, "j")
	mustNotContain(t, screen(m), "result 1:")

	m.hw.PickFrom(bad.Model, bad.BatchSize, bad.Precision)
	keys(t, m, "4")
	s = screen(m)
	row := lineWith(t, s, " "+bad.Hardware+" ")
	mustContain(t, row, "m⚠", "⚠ measured ", "× faster")
	if n := strings.Count(s, "⚠"); n != 2 {
		t.Fatalf("%d ⚠ on the hardware view:\n%s", n, s)
	}

	keys(t, m, "3")
	for range slices.Index(m.space.BatchSizes, bad.BatchSize) - slices.Index(m.space.BatchSizes, 1) {
		keys(t, m, "b")
	}
	for range slices.Index(m.space.Precisions, bad.Precision) - slices.Index(m.space.Precisions, engine.FP32) {
		keys(t, m, "p")
	}
	s = screen(m)
	mustContain(t, s, fmt.Sprintf("‹%d›", bad.BatchSize), "‹"+string(bad.Precision)+"›", "⚠ in doubt")
	mustContain(t, lineWith(t, s, "whisper-tiny"), "m⚠")
}

// TestAnomalyInSnapshotAndDetail: a row of a saved session measured since,
// with a value the predictor doubts, shows ⚠ instead of ✓ in the table,
// and the detail pane says why.
func TestAnomalyInSnapshotAndDetail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "ctrl+s")
	typeText(t, m, "monday")
	keys(t, m, "enter")
	row := m.report.Recommendations[0]
	later := fixedNow.Add(time.Hour)
	e.st.now = func() time.Time { return later }
	thr := row.Predicted.Throughput.Value * 40
	r := engine.Result{Config: row.Config(), ModelType: row.ModelType, Throughput: thr,
		LatencyMS: float64(row.BatchSize) * 1000 / thr, Source: "lab", Timestamp: later}
	if _, _, err := e.st.InsertResults(t.Context(), []engine.Result{r}); err != nil {
		t.Fatal(err)
	}
	keys(t, m, "r", "7", "enter", "g") // the measured row is the snapshot's first
	if m.snapshot == nil || len(m.marks[row.Config()].Flags) == 0 {
		t.Fatalf("snapshot %+v, mark %+v, flags %+v", m.snapshot, m.marks[row.Config()], m.pred.Flags())
	}
	mustContain(t, lineWith(t, screen(m), "›"), "⚠"+common.FmtVal(thr))
	keys(t, m, "enter")
	mustContain(t, screen(m), "⚠ this measurement: measured", "faster than similar configurations predict — check it")
}

// TestDetailSaysWhatAPickIsWorth: the detail pane says how many
// configurations a pick narrows, and that it is the first measurement on
// its hardware when no result there exists.
func TestDetailSaysWhatAPickIsWorth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.st.results = slices.DeleteFunc(e.st.results, func(r store.StoredResult) bool { return r.Hardware == "webnn" })
	m := newModel(t, e)
	first := slices.IndexFunc(m.report.Recommendations, func(r rec) bool { return r.FirstOnHardware })
	if first < 0 || m.report.Recommendations[first].Hardware != "webnn" {
		t.Fatalf("no first pick on webnn in %+v", m.report.Recommendations)
	}
	other := slices.IndexFunc(m.report.Recommendations, func(r rec) bool { return !r.FirstOnHardware })
	keys(t, m, "enter")
	for i := range max(first, other) + 1 {
		r := m.report.Recommendations[i]
		want := fmt.Sprintf("narrows %d configuration", r.Narrows)
		if r.FirstOnHardware {
			want = "first measurement on webnn: " + want
		}
		if i == first || i == other {
			mustContain(t, screen(m), want)
		}
		if !r.FirstOnHardware {
			mustNotContain(t, screen(m), "first measurement on")
		}
		keys(t, m, "j")
	}
}

// lineWith is the first line of s holding sub.
func lineWith(t *testing.T, s, sub string) string {
	t.Helper()
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	t.Fatalf("no line with %q:\n%s", sub, s)
	return ""
}

// TestExcludeFromBench: X on a result in doubt excludes it from learning
// (the store keeps it, Bench marks it ⊘, the refit learns from one fewer
// and no longer doubts anything); X again includes it.
func TestExcludeFromBench(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	plantAnomaly(e)
	m := newModel(t, e)
	keys(t, m, "6", "X")
	if got := len(m.pred.Results()); got != 95 || len(m.results) != 96 || m.ctx.Anomalies.Len() != 0 {
		t.Fatalf("after X: learned from %d of %d, %d flagged", got, len(m.results), m.ctx.Anomalies.Len())
	}
	s := screen(m)
	mustContain(t, s, "⊘ 1 excluded from learning", "⊘ result 1: excluded from learning (X includes it again)")
	keys(t, m, "L")
	mustContain(t, screen(m), "result 1 is excluded from learning (X includes it again)")
	keys(t, m, "L")
	mustContain(t, lineWith(t, s, "›"), "⊘")
	keys(t, m, "X")
	if got := len(m.pred.Results()); got != 96 || m.ctx.Anomalies.Len() != 1 {
		t.Fatalf("after X again: learned from %d, %d flagged", got, m.ctx.Anomalies.Len())
	}
	mustNotContain(t, screen(m), "⊘")

	ro := e.options()
	ro.ReadOnly = "opened with --read-only"
	m = sizedModel(t, ro, 120, 35)
	keys(t, m, "6", "X")
	if rs, _ := e.st.Results(t.Context(), store.ResultFilter{}); len(rs) != 96 {
		t.Fatalf("read-only X excluded a result: %d left", len(rs))
	}
	mustContain(t, screen(m), "read-only: cannot exclude results")
}
