package runner

import (
	"context"
	"fmt"
	"time"

	"perfpilot/engine"
	"perfpilot/store"
)

// Comparison puts one measured metric of a configuration beside what the
// session predicted for it.
type Comparison struct {
	Row       int             `json:"row"`
	Config    engine.Config   `json:"config"`
	Status    Status          `json:"status"`
	Metric    engine.Metric   `json:"metric"`
	Predicted engine.Interval `json:"predicted"`
	Measured  float64         `json:"measured"`
	// ErrorPct is (predicted − measured) / measured × 100: positive means
	// the prediction was too high.
	ErrorPct float64 `json:"error_pct"`
	// Inside reports whether the measurement fell in the 80% interval.
	Inside bool `json:"inside_80"`
}

// Review is what a run taught: predictions against measurements, and the
// ranking recomputed with the new results.
type Review struct {
	Comparisons []Comparison   `json:"comparisons"`
	Coverage    float64        `json:"coverage_80"` // share of comparisons inside their interval
	Report      *engine.Report `json:"report"`
}

// Compare lists, for every measured or previously measured job, each metric
// it measured against the session snapshot's prediction.
func Compare(sum *Summary) []Comparison {
	var out []Comparison
	for _, j := range sum.Jobs {
		if j.Status != StatusMeasured && j.Status != StatusSkipped {
			continue
		}
		pred := j.Recommendation.Predicted
		for _, c := range []struct {
			m    engine.Metric
			iv   engine.Interval
			meas float64
		}{{engine.Throughput, pred.Throughput, j.Metrics.Throughput}, {engine.Latency, pred.LatencyMS, j.Metrics.LatencyMS},
			{engine.Memory, pred.MemoryMB, j.Metrics.MemoryMB}} {
			if c.meas <= 0 {
				continue
			}
			cmp := Comparison{Row: j.Row, Config: j.Config, Status: j.Status, Metric: c.m, Predicted: c.iv, Measured: c.meas,
				Inside: c.meas >= c.iv.Low && c.meas <= c.iv.High}
			cmp.ErrorPct = (c.iv.Value - c.meas) / c.meas * 100
			out = append(out, cmp)
		}
		out = append(out, comparePhases(j, pred)...)
	}
	return out
}

// comparePhases puts an LLM tool's phase measurements beside the session's
// TTFT and TPOT when the tool ran the request's own shape (its batch, its
// prompt; a decode step at the request's mean context). The comparison's
// configuration is the phase's.
func comparePhases(j Job, pred engine.PredictedMetrics) []Comparison {
	cfg := j.Config
	pre, dec := cfg, cfg
	pre.Phase, dec.Phase = engine.Prefill, engine.Decode
	pre, dec = pre.Canonical(), dec.Canonical()
	var out []Comparison
	for _, pm := range j.Metrics.Generation {
		var iv *engine.Interval
		c := cfg
		same := func(got, want int) bool { return got == 0 || got == want }
		switch {
		case pm.Phase == engine.Prefill && same(pm.BatchSize, cfg.BatchSize) && same(pm.PromptTokens, cfg.PromptTokens):
			iv, c = pred.TTFTMS, pre
		case pm.Phase == engine.Decode && same(pm.BatchSize, cfg.BatchSize) && same(pm.ContextTokens, dec.ContextTokens):
			iv, c = pred.TPOTMS, dec
		}
		if iv == nil || !(pm.LatencyMS > 0) {
			continue
		}
		out = append(out, Comparison{Row: j.Row, Config: c, Status: j.Status, Metric: engine.Latency, Predicted: *iv,
			Measured: pm.LatencyMS, Inside: pm.LatencyMS >= iv.Low && pm.LatencyMS <= iv.High,
			ErrorPct: (iv.Value - pm.LatencyMS) / pm.LatencyMS * 100})
	}
	return out
}

// NewReview retrains the predictor on every stored result and ranks again
// with the session's parameters, and compares the run's measurements with
// the session's predictions.
func NewReview(ctx context.Context, db *store.DB, cat *engine.Catalog, sess *store.Session, sum *Summary, now time.Time) (*Review, error) {
	results, err := db.AllResults(ctx)
	if err != nil {
		return nil, err
	}
	rep, _, err := engine.Plan(ctx, cat, results, sess.Params.RankParams, now)
	if err != nil {
		return nil, fmt.Errorf("re-rank session %q: %w", sess.Name, err)
	}
	rv := &Review{Comparisons: Compare(sum), Report: rep}
	if n := len(rv.Comparisons); n > 0 {
		in := 0
		for _, c := range rv.Comparisons {
			if c.Inside {
				in++
			}
		}
		rv.Coverage = float64(in) / float64(n)
	}
	return rv, nil
}
