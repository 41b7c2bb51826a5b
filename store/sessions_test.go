package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"perfpilot/engine"
	"perfpilot/formats"
)

// sampleReport is a report with awkward floats (not exactly representable
// in short decimal) so an inexact round trip would show.
func sampleReport() *engine.Report {
	iv := func(v float64) engine.Interval {
		return engine.Interval{Value: v, Low: v * 0.8123456789, High: v * 1.2345678901}
	}
	recs := []engine.Recommendation{
		{Rank: 1, ModelName: "bert-base-uncased", ModelType: "text_embedding", Hardware: "cuda", BatchSize: 8,
			Precision: engine.FP16, SequenceLength: 128, ExpectedInformationGain: 0.1 + 0.2, Uncertainty: 1.0 / 3,
			Diversity: 0.65, RecommendedHardware: "cuda", HardwareMatch: true, HardwareScore: 0.97, DecisionValue: 2.0 / 7,
			ExpectedImprovementPct: 0, CombinedScore: 0.7*(0.1+0.2) + 0.3*2.0/7,
			Alternatives: []engine.Alternative{{Hardware: "rocm", Score: 0.85}, {Hardware: "mps", Score: 0.8000000000000002}},
			Predicted:    engine.PredictedMetrics{Throughput: iv(1234.5678), LatencyMS: iv(6.4801), MemoryMB: engine.Interval{Value: 900, Low: 900, High: 900, Measured: true}}},
		{Rank: 2, ModelName: "gpt2", ModelType: "text_generation", Hardware: "cpu", BatchSize: 1, Precision: engine.FP32,
			SequenceLength: 1024, ExpectedInformationGain: 0.5, RecommendedHardware: "cuda", ExpectedImprovementPct: 1234.5,
			CombinedScore: 0.41, Alternatives: []engine.Alternative{}, Predicted: engine.PredictedMetrics{Throughput: iv(3.3)}},
		{Rank: 3, ModelName: "microsoft/resnet-50", ModelType: "vision", Hardware: "mps", BatchSize: 64, Precision: engine.INT8,
			SequenceLength: 224, ExpectedInformationGain: 1e-9, CombinedScore: 0.3, Predicted: engine.PredictedMetrics{LatencyMS: iv(1e6)}},
	}
	return &engine.Report{Recommendations: recs, TotalCandidates: 1234, EnhancedCandidates: 1200, FinalRecommendations: 3,
		OptimizationMetric: engine.Throughput, Strategy: engine.Strategy, Timestamp: "2026-02-01T12:00:00Z",
		Data: engine.DataSummary{Benchmarks: 96, Sources: map[string]int{"simulated": 96, "import:a.csv": 0}}, Seed: 1<<63 + 7}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSessionsReopenExactly(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	s := Session{
		Name: "q1 plan",
		Params: SessionParams{RankParams: engine.RankParams{Metric: engine.Throughput, Budget: 3, Seed: 1<<63 + 7, Hardware: []string{"cpu", "cuda"},
			Constraints: engine.Constraints{MaxPowerW: 300}}, Template: "bench {model}"},
		Report:   sampleReport(),
		Selected: []int{2, 0, 2},
	}
	wantReport, wantParams := mustJSON(t, s.Report), mustJSON(t, s.Params)
	if err := db.SaveSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		got, err := db.Session(ctx, "q1 plan")
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if g := mustJSON(t, got.Report); g != wantReport {
			t.Fatalf("%s: report changed\n got %s\nwant %s", when, g, wantReport)
		}
		if g := mustJSON(t, got.Params); g != wantParams {
			t.Fatalf("%s: params %s, want %s", when, g, wantParams)
		}
		if !reflect.DeepEqual(got.Selected, []int{0, 2}) {
			t.Fatalf("%s: selected %v, want [0 2]", when, got.Selected)
		}
	}
	check("after save")

	// More data arriving must not change a saved snapshot.
	if _, err := importData(t, db, "more.csv", strings.NewReader(genCSV(100, "")), ""); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openDB(t, db.Path())
	check("after import and reopen")

	if err := db.SaveSession(ctx, s); !errors.Is(err, ErrSessionExists) || !strings.Contains(err.Error(), `session "q1 plan" already exists`) {
		t.Fatalf("saving a taken name: %v", err)
	}
	if _, err := db.Session(ctx, "nope"); !errors.Is(err, ErrSessionNotFound) || !strings.Contains(err.Error(), `session "nope" not found`) {
		t.Fatalf("loading a missing session: %v", err)
	}
	if err := db.SaveSession(ctx, Session{Name: "bad", Report: sampleReport(), Selected: []int{3}}); err == nil {
		t.Fatal("a selection past the last row was accepted")
	}
}

func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	rep := sampleReport()
	for _, name := range []string{"alpha", "beta"} {
		if err := db.SaveSession(ctx, Session{Name: name, Params: SessionParams{RankParams: engine.RankParams{Metric: engine.Latency, Budget: 3}}, Report: rep, Selected: []int{1}}); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := db.History(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 6 || hist[0].ID <= hist[5].ID || hist[0].SessionID == 0 {
		t.Fatalf("history after two saves: %d rows, newest %+v", len(hist), hist[0])
	}
	// Newest first: beta's rows, in reverse order of the report.
	h := hist[0]
	want := rep.Recommendations[2]
	if h.ModelName != want.ModelName || h.Hardware != want.Hardware || h.BatchSize != want.BatchSize || h.Precision != want.Precision ||
		h.CombinedScore != want.CombinedScore || h.InformationGain != want.ExpectedInformationGain || h.OptimizationMetric != engine.Throughput {
		t.Fatalf("newest history row %+v does not match %+v", h, want)
	}

	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"rename to a taken name", func() error { return db.RenameSession(ctx, "alpha", "beta") }, ErrSessionExists},
		{"rename a missing session", func() error { return db.RenameSession(ctx, "gamma", "delta") }, ErrSessionNotFound},
		{"rename", func() error { return db.RenameSession(ctx, "alpha", "alpha v2") }, nil},
		{"select in a missing session", func() error { return db.UpdateSelection(ctx, "alpha", []int{0}) }, ErrSessionNotFound},
		{"select out of range", func() error { return db.UpdateSelection(ctx, "alpha v2", []int{5}) }, nil},
		{"select", func() error { return db.UpdateSelection(ctx, "alpha v2", []int{2, 0}) }, nil},
		{"delete a missing session", func() error { return db.DeleteSession(ctx, "alpha") }, ErrSessionNotFound},
		{"delete", func() error { return db.DeleteSession(ctx, "beta") }, nil},
	}
	for _, st := range steps {
		err := st.do()
		if st.name == "select out of range" {
			if err == nil {
				t.Fatalf("%s: accepted", st.name)
			}
			continue
		}
		if !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Fatalf("%s: error %v, want %v", st.name, err, st.want)
		}
	}
	infos, err := db.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 {
		t.Fatalf("sessions %+v, want only alpha v2", infos)
	}
	in := infos[0]
	if in.Name != "alpha v2" || in.Metric != engine.Latency || in.Budget != 3 || in.Rows != 3 || in.Selected != 2 || !in.UpdatedAt.After(in.CreatedAt) {
		t.Fatalf("session info %+v", in)
	}
	got, err := db.Session(ctx, "alpha v2")
	if err != nil || !reflect.DeepEqual(got.Selected, []int{0, 2}) {
		t.Fatalf("selection after update: %v, %v", got, err)
	}

	// Replacing keeps the creation time and swaps the rows.
	small := sampleReport()
	small.Recommendations = small.Recommendations[:1]
	if err := db.ReplaceSession(ctx, Session{Name: "alpha v2", Params: SessionParams{RankParams: engine.RankParams{Metric: engine.Memory, Budget: 1}}, Report: small}); err != nil {
		t.Fatal(err)
	}
	got, err = db.Session(ctx, "alpha v2")
	if err != nil || len(got.Report.Recommendations) != 1 || len(got.Selected) != 0 || !got.CreatedAt.Equal(in.CreatedAt) || got.Params.Metric != engine.Memory {
		t.Fatalf("after replace: %+v, %v", got, err)
	}

	// History outlives deleted sessions; rows of beta lose their session.
	hist, err = db.History(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	orphans := 0
	for _, h := range hist {
		if h.SessionID == 0 {
			orphans++
		}
	}
	if len(hist) != 7 || orphans != 3 {
		t.Fatalf("history %d rows with %d orphans, want 7 and 3", len(hist), orphans)
	}
	if err := db.RecordHistory(ctx, rep); err != nil {
		t.Fatal(err)
	}
	if hist, err = db.History(ctx, 2); err != nil || len(hist) != 2 || hist[0].SessionID != 0 {
		t.Fatalf("History(2) = %+v, %v", hist, err)
	}
}

func TestEmptySessionReopensExactly(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	for name, recs := range map[string][]engine.Recommendation{"nil": nil, "empty": {}} {
		rep := &engine.Report{Recommendations: recs, OptimizationMetric: engine.Memory, Strategy: engine.Strategy}
		if err := db.SaveSession(ctx, Session{Name: name, Report: rep}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Session(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := mustJSON(t, got.Report), mustJSON(t, rep); g != w {
			t.Fatalf("%s: got %s, want %s", name, g, w)
		}
	}
}

func TestCatalogAdditionsPersist(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	cat := engine.MustBuiltinCatalog()
	doc := `{"hardware": [{"id": "my-npu", "backend": "qnn", "peak_tflops": {"int8": 40}, "memory_bandwidth_gbps": 100, "memory_gb": 8, "tdp_watts": 10}],
	 "models": [{"id": "tiny-bert", "model_type": "text_embedding", "params": 4.4e6, "layers": 2, "hidden": 128, "heads": 2, "intermediate": 512, "vocab": 30522, "sequence_length": 64}]}`
	if err := cat.AddJSON([]byte(doc), "mine.json"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // saving the same additions twice keeps one copy
		if err := db.SaveCatalogAdditions(ctx, "mine.json", cat.Additions()); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.sql.QueryRow("SELECT count(*) FROM catalog_additions").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d stored documents (%v), want 1", n, err)
	}
	fresh := engine.MustBuiltinCatalog()
	if err := db.LoadCatalog(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if fresh.Hardware("my-npu") == nil || fresh.Model("tiny-bert") == nil {
		t.Fatal("stored additions did not load")
	}
	// Results on the added entries import once the catalog is loaded.
	pf, err := formats.ParseResults("npu.csv", strings.NewReader("model_name,hardware,batch_size,precision,throughput\ntiny-bert,my-npu,4,int8,900\n"), fresh, formats.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if added, _, err := db.InsertResults(ctx, pf.Results); err != nil || added != 1 {
		t.Fatalf("import on added entries: %d, %v", added, err)
	}
}

// TestSessionKeepsSelectedRowsOffItsRanking: rows of rank 0 after the
// ranking (selected from an earlier ranking, as the dashboard saves them)
// reopen exactly, count as selected but not as ranked rows, and stay out
// of the recommendation history.
func TestSessionKeepsSelectedRowsOffItsRanking(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	rep := sampleReport()
	off := rep.Recommendations[2]
	off.Rank, off.Hardware = 0, "cpu"
	rep.Recommendations = append(rep.Recommendations, off)
	s := Session{Name: "kept", Params: SessionParams{RankParams: engine.RankParams{Metric: engine.Throughput, Budget: 3}},
		Report: rep, Selected: []int{1, 3}}
	if err := db.SaveSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.Session(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	if g, w := mustJSON(t, got.Report), mustJSON(t, rep); g != w || !reflect.DeepEqual(got.Selected, []int{1, 3}) {
		t.Fatalf("reopened %s selected %v\nwant %s [1 3]", g, got.Selected, w)
	}
	infos, err := db.Sessions(ctx)
	if err != nil || len(infos) != 1 || infos[0].Rows != 3 || infos[0].Selected != 2 {
		t.Fatalf("list: %+v, %v", infos, err)
	}
	hist, err := db.History(ctx, 0)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history has %d rows, want the 3 ranked: %v", len(hist), err)
	}
	for _, h := range hist {
		if h.Hardware == "cpu" && h.ModelName == off.ModelName {
			t.Fatalf("history records the row off the ranking: %+v", h)
		}
	}
}
