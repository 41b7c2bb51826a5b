package runner

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
)

// TestRunStoresLLMPhases runs text-generation rows through real processes
// that print captured llama-bench and vLLM output: each run stores the
// phases the tool measured, in the shape it ran, and the predictor learns
// from them.
func TestRunStoresLLMPhases(t *testing.T) {
	ctx := context.Background()
	cat := engine.MustBuiltinCatalog()
	for _, tc := range []struct {
		file   string
		phases map[engine.Phase]int
		check  func(t *testing.T, r engine.Result)
	}{
		{"llama-bench.md.txt", map[engine.Phase]int{engine.Prefill: 1, engine.Decode: 2}, func(t *testing.T, r engine.Result) {
			if r.PrecisionLabel != "q4_0" || r.Stack != "llama.cpp build 4500 (8e672efe)" || r.BatchSize != 1 {
				t.Errorf("llama-bench result %+v", r)
			}
		}},
		{"vllm-bench-serve.txt", map[engine.Phase]int{engine.Prefill: 1, engine.Decode: 1, engine.Generate: 1}, func(t *testing.T, r engine.Result) {
			if r.BatchSize != 16 || r.PromptTokens != 1024 || r.OutputTokens != 128 {
				t.Errorf("vLLM result %+v", r)
			}
			if r.Phase == engine.Decode && (r.ContextTokens != 1088 || r.LatencyMS != 20.79) {
				t.Errorf("vLLM decode %+v", r)
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			db := newDB(t, cat)
			limit := &engine.RankParams{Models: []string{"meta-llama/Llama-2-7b-hf"}, Hardware: []string{"cuda"}}
			sess := saveSession(t, db, cat, "llm", 1, limit, nil)
			if r := sess.Report.Recommendations[0]; r.Phase != engine.Generate {
				t.Fatalf("row %s is not a generation request", r.Config())
			}
			path, err := filepath.Abs(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Run(ctx, Options{DB: db, Session: "llm", Template: "cat " + cmdtmpl.Quote(path), OutputDir: t.TempDir(),
				Now: func() time.Time { return testNow }}, nil); err != nil {
				t.Fatalf("Run: %v", err)
			}
			got := runResults(t, db, "llm")
			count := map[engine.Phase]int{}
			for _, r := range got {
				count[r.Phase]++
				tc.check(t, r.Result)
				if n, err := cat.Normalize(r.Config); err != nil || n != r.Config {
					t.Errorf("stored %+v is not canonical: %v", r.Config, err)
				}
			}
			for ph, n := range tc.phases {
				if count[ph] != n {
					t.Errorf("%d %s results, want %d (%v)", count[ph], ph, n, count)
				}
			}
			// vLLM ran the request's own shape when the session asked for
			// it: its TTFT and TPOT are compared with the session's.
			if tc.file == "vllm-bench-serve.txt" {
				cfg := sess.Report.Recommendations[0].Config()
				cfg.BatchSize, cfg.PromptTokens, cfg.OutputTokens = 16, 1024, 128
				j := Job{Config: cfg.Canonical(), Status: StatusMeasured, Metrics: Metrics{Generation: []PhaseMetrics{
					{Phase: engine.Prefill, BatchSize: 16, PromptTokens: 1024, LatencyMS: 305.41},
					{Phase: engine.Decode, BatchSize: 16, ContextTokens: 1088, LatencyMS: 20.79}}}}
				ttft, tpot := engine.Interval{Value: 300, Low: 250, High: 360}, engine.Interval{Value: 25, Low: 21, High: 30}
				j.Recommendation.Predicted = engine.PredictedMetrics{TTFTMS: &ttft, TPOTMS: &tpot}
				cs := Compare(&Summary{Jobs: []Job{j}})
				if len(cs) != 2 || cs[0].Config.Phase != engine.Prefill || !cs[0].Inside || cs[1].Config.Phase != engine.Decode || cs[1].Inside {
					t.Errorf("comparisons %+v", cs)
				}
			}
			// Run again: the request counts as measured by its phases.
			again, err := Run(ctx, Options{DB: db, Session: "llm", Template: "false", OutputDir: t.TempDir(),
				Now: func() time.Time { return testNow }}, nil)
			if err != nil || len(again.Jobs) != 1 || again.Jobs[0].Status != StatusSkipped || len(again.Jobs[0].Metrics.Generation) == 0 {
				t.Errorf("second run: %v, %+v", err, again)
			}
			all, err := db.AllResults(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := engine.NewPredictor(ctx, cat, all, engine.PredictorOptions{Seed: 1}); err != nil {
				t.Errorf("the predictor does not take the stored phases: %v", err)
			}
		})
	}
}
