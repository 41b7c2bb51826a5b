package tui

import (
	"strings"
	"testing"

	"perfpilot/engine"
)

func TestDetailPaneTogglesAndFollowsCursor(t *testing.T) {
	m := newModel(t, newEnv(t))
	_, cmd := m.Update(press("enter"))
	if !m.detailOpen || !m.isPending(jobDetail) {
		t.Fatalf("enter: open %v, pending %v", m.detailOpen, m.isPending(jobDetail))
	}
	mustContain(t, screen(m), "ranking hardware…")
	drive(t, m, cmd)
	r, _ := m.recs.Current()
	hr := m.detail.ranking
	if hr == nil || hr.Model != r.ModelName || hr.BatchSize != r.BatchSize || hr.Precision != r.Precision || hr.Metric != engine.Throughput {
		t.Fatalf("detail ranking %+v for row %s", hr, recID(r))
	}
	// The same ranking the engine gives for that row.
	want, _ := m.pred.RecommendHardware(t.Context(), engine.Config{Model: r.ModelName, BatchSize: r.BatchSize, Precision: r.Precision, SequenceLength: r.SequenceLength}, engine.Throughput, nil, engine.Recommender{})
	if want.RecommendedHardware != hr.RecommendedHardware || len(want.Ranking) != len(hr.Ranking) {
		t.Fatalf("detail recommends %s, engine %s", hr.RecommendedHardware, want.RecommendedHardware)
	}
	s := screen(m)
	mustContain(t, s, "recommended "+hr.RecommendedHardware, "score breakdown", "performance", "memory_headroom", "total",
		"throughput (items/s), 80% interval", "█", "◀")
	for _, hs := range hr.Ranking {
		mustContain(t, s, " "+hs.Hardware+" ")
		if !hs.Feasible {
			mustContain(t, s, hwStatus(hs))
		}
	}
	keys(t, m, "j")
	r2, _ := m.recs.Current()
	if m.detail.ranking == nil || m.detail.ranking.Model != r2.ModelName || m.detail.ranking.BatchSize != r2.BatchSize {
		t.Fatal("detail did not follow the cursor")
	}
	keys(t, m, "enter")
	if m.detailOpen {
		t.Fatal("enter did not close the detail pane")
	}
	mustNotContain(t, screen(m), "score breakdown")
}

func TestDetailPaneMarksInfeasibleHardware(t *testing.T) {
	m := newModel(t, newEnv(t))
	// Move to a row in fp16 or int8: some device lacks that precision.
	idx := -1
	for i, r := range m.recs.rowsForTest() {
		if r.Precision != engine.FP32 {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Skip("no reduced-precision row in the ranking")
	}
	m.recs.Move(idx)
	keys(t, m, "enter")
	hr := m.detail.ranking
	if hr == nil {
		t.Fatal("no ranking")
	}
	found := false
	for _, s := range hr.Ranking {
		if !s.Feasible {
			found = true
			mustContain(t, screen(m), " "+s.Hardware+" ", hwStatus(s), s.Reason)
		}
	}
	if !found {
		t.Fatalf("no infeasible hardware for %s", hr.Precision)
	}
	// Llama-2-7b fp32 at batch 64 does not fit a 16 GB device: OOM.
	hr2, err := m.pred.RecommendHardware(t.Context(), engine.Config{Model: "meta-llama/Llama-2-7b-hf", BatchSize: 64, Precision: engine.FP32, SequenceLength: 0}, engine.Throughput, nil, engine.Recommender{})
	if err != nil {
		t.Fatal(err)
	}
	bars := detailPane{th: m.ctx.Theme, row: rec{ModelName: hr2.Model, Hardware: "cuda", BatchSize: 64, Precision: engine.FP32},
		rv: rankingView{ranking: hr2}, metric: engine.Throughput, width: 120, height: 30}.View()
	mustContain(t, bars, "OOM", "out of memory")
}

func TestMismatchesView(t *testing.T) {
	m := newModel(t, newEnv(t))
	keys(t, m, "2")
	want := 0
	for _, r := range m.report.Recommendations {
		if !r.HardwareMatch {
			want++
		}
	}
	if m.mism.Total() != want || want == 0 {
		t.Fatalf("mismatches %d, want %d", m.mism.Total(), want)
	}
	for _, r := range m.mism.Items() {
		if r.HardwareMatch || r.RecommendedHardware == r.Hardware {
			t.Fatalf("matching row %s in mismatches", recID(r))
		}
	}
	s := screen(m)
	mustContain(t, s, "Improve", "%", itoa(want)+" of 20 ranked configurations")
	r, _ := m.mism.Current()
	mustContain(t, s, fmtPct(r.ExpectedImprovementPct))
	// enter opens the detail pane here too, for the mismatch row.
	keys(t, m, "enter")
	if m.detail.ranking == nil || m.detail.ranking.Model != r.ModelName {
		t.Fatal("no detail for the mismatch row")
	}
	// Selection is shared with the recommendations (same row IDs).
	keys(t, m, "space")
	if !m.recs.IsSelected(recID(r)) {
		t.Fatal("selection in Mismatches not seen by Recommendations")
	}
}

func TestHardwareView(t *testing.T) {
	m := newModel(t, newEnv(t))
	cur, _ := m.recs.Current()
	keys(t, m, "3")
	hr := m.hwView.ranking
	if hr == nil || hr.Model != cur.ModelName || hr.BatchSize != cur.BatchSize || hr.Precision != cur.Precision {
		t.Fatalf("hardware view did not start on the cursor row: %+v", hr)
	}
	if m.hw.Total() != len(m.hwSpace.Hardware) {
		t.Fatalf("%d hardware rows, want %d", m.hw.Total(), len(m.hwSpace.Hardware))
	}
	s := screen(m)
	mustContain(t, s, "model ‹"+cur.ModelName+"›", "o/O", "b/B", "p/P", "Perf", "Power", "Headrm", "Avail", "Deploy", "Status",
		"recommended "+hr.RecommendedHardware)
	models, batches, precs := m.hardwareChoices()
	step := func(vals int, i, d int) int { return (i + d + vals) % vals }
	for _, tc := range []struct {
		key   string
		field int
		n     int
		d     int
	}{{"o", 0, len(models), 1}, {"O", 0, len(models), -1}, {"b", 1, len(batches), 1}, {"B", 1, len(batches), -1},
		{"p", 2, len(precs), 1}, {"P", 2, len(precs), -1}} {
		before := m.hwPick
		keys(t, m, tc.key)
		if m.hwPick[tc.field] != step(tc.n, before[tc.field], tc.d) {
			t.Fatalf("%s: pick %v from %v", tc.key, m.hwPick, before)
		}
		model, batch, prec, _ := m.hardwarePick()
		hr := m.hwView.ranking
		if hr.Model != model || hr.BatchSize != batch || hr.Precision != prec {
			t.Fatalf("%s: ranking for %s/%d/%s, pick %s/%d/%s", tc.key, hr.Model, hr.BatchSize, hr.Precision, model, batch, prec)
		}
	}
	// The metric key re-ranks the hardware for the new metric.
	keys(t, m, "l")
	if m.hwView.ranking.Metric != engine.Latency {
		t.Fatalf("hardware ranked by %s after l", m.hwView.ranking.Metric)
	}
	mustContain(t, screen(m), "Lat ms", "ranked by latency (ms)")
	// Ranked best first, eligible before the rest.
	rows := m.hw.Items()
	for i := 1; i < len(rows); i++ {
		if rows[i].Eligible && (!rows[i-1].Eligible || rows[i].Score > rows[i-1].Score) {
			t.Fatal("hardware not ranked by score")
		}
	}
}

func TestBenchmarksViewFilterable(t *testing.T) {
	m := newModel(t, newEnv(t))
	keys(t, m, "4")
	if m.bench.Total() != 96 {
		t.Fatalf("%d benchmarks", m.bench.Total())
	}
	s := screen(m)
	mustContain(t, s, "Source", "simulated", "96 measured results · sources: simulated 96", "demo data")
	keys(t, m, "/")
	typeText(t, m, "qnn")
	keys(t, m, "enter")
	if m.bench.Len() == 0 || m.bench.Len() == 96 {
		t.Fatalf("filter qnn left %d rows", m.bench.Len())
	}
	for _, r := range m.bench.rowsForTest() {
		if r.Hardware != "qnn" {
			t.Fatalf("row on %s passed the qnn filter", r.Hardware)
		}
	}
	keys(t, m, "esc", "s", "s")
	if col, _ := m.bench.SortState(); col != "Model" {
		t.Fatalf("sort %q", col)
	}
	// Filters are per view: the recommendations are untouched.
	if m.recs.Filter() != "" {
		t.Fatal("benchmark filter leaked into recommendations")
	}
	if strings.Contains(screen(m), "selected") {
		t.Fatal("selection count shown outside the recommendation views")
	}
}
