package runner

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
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
	}
	return out
}

// NewReview retrains the predictor on every stored result and integrates
// again with the session's parameters (metric, budget, seed, weights,
// constraints, hardware), and compares the run's measurements with the
// session's predictions.
func NewReview(ctx context.Context, db *store.DB, cat *engine.Catalog, sess *store.Session, sum *Summary, now time.Time) (*Review, error) {
	results, err := db.AllResults(ctx)
	if err != nil {
		return nil, err
	}
	pred, err := engine.NewPredictor(ctx, cat, results, engine.PredictorOptions{Seed: sess.Params.Seed})
	if err != nil {
		return nil, fmt.Errorf("retrain: %w", err)
	}
	opts, err := IntegrateOptions(sess.Params, cat, results, now)
	if err != nil {
		return nil, err
	}
	rep, err := engine.Integrate(ctx, pred, opts)
	if err != nil {
		return nil, fmt.Errorf("integrate: %w", err)
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

// IntegrateOptions rebuilds the options a session was integrated with from
// its saved parameters (the Extra keys `perfpilot integrate --save` writes).
func IntegrateOptions(p store.SessionParams, cat *engine.Catalog, results []engine.Result, now time.Time) (engine.IntegrateOptions, error) {
	budget := p.Budget
	if budget <= 0 {
		budget = 10
	}
	metric := p.Metric
	if metric == "" {
		metric = engine.Throughput
	}
	opts := engine.IntegrateOptions{Budget: budget, Metric: metric, Seed: p.Seed, Now: now,
		InfoWeight: engine.DefaultInfoWeight, DecisionWeight: engine.DefaultDecisionWeight,
		Recommender: engine.Recommender{Weights: engine.DefaultScoreWeights}}
	x := p.Extra
	num := func(key string, dst *float64) error {
		if s := strings.TrimSpace(x[key]); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) {
				return fmt.Errorf("session parameter %s: %q is not a number", key, s)
			}
			*dst = v
		}
		return nil
	}
	for key, dst := range map[string]*float64{"info_weight": &opts.InfoWeight, "decision_weight": &opts.DecisionWeight,
		"max_power": &opts.Recommender.Constraints.MaxPowerW, "min_memory": &opts.Recommender.Constraints.MinMemoryGB} {
		if err := num(key, dst); err != nil {
			return opts, err
		}
	}
	if s := strings.TrimSpace(x["max_per_hardware"]); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return opts, fmt.Errorf("session parameter max_per_hardware: %q is not a whole number", s)
		}
		opts.MaxPerHardware = n
	}
	if s := strings.TrimSpace(x["availability_weighted"]); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return opts, fmt.Errorf("session parameter availability_weighted: %q is not true or false", s)
		}
		opts.AvailabilityWeighted = b
	}
	if s := strings.TrimSpace(x["hardware"]); s != "" {
		hw := strings.Split(s, ",")
		for _, id := range hw {
			if cat.Hardware(id) == nil {
				return opts, fmt.Errorf("session hardware %q is not in the catalog", id)
			}
		}
		space := engine.DefaultSpace(cat).WithMeasured(results)
		space.Hardware = hw
		opts.Space = &space
	}
	return opts, nil
}
