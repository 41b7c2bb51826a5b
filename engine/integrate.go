package engine

import (
	"context"
	"fmt"
	"math"
	"time"
)

// IntegrateOptions configure Integrate. Zero values take the defaults.
type IntegrateOptions struct {
	Budget int
	Metric Metric
	// Space is the candidate space; zero means DefaultSpace widened by the
	// measured results.
	Space *Space
	// InfoWeight and DecisionWeight form
	// combined = InfoWeight × expected_information_gain + DecisionWeight × decision_value.
	InfoWeight, DecisionWeight float64
	Recommender                Recommender
	// MaxPerHardware caps picks per hardware (0: no cap).
	MaxPerHardware int
	// AvailabilityWeighted multiplies each candidate's combined score by its
	// hardware's availability when choosing.
	AvailabilityWeighted bool
	Now                  time.Time
	Seed                 uint64
}

// Default score weights of the seed system.
const (
	DefaultInfoWeight     = 0.7
	DefaultDecisionWeight = 0.3
)

// Integrate is the seed's integrate_with_hardware_recommender made real: for
// every unmeasured feasible configuration it computes the information gain
// of measuring it and the chance that the measurement changes a hardware
// recommendation, then picks Budget configurations greedily by the combined
// score, conditioning each pick on the ones before.
func Integrate(ctx context.Context, p *Predictor, opts IntegrateOptions) (*Report, error) {
	if opts.Budget <= 0 {
		return nil, fmt.Errorf("budget %d is not positive", opts.Budget)
	}
	if opts.Metric == "" {
		opts.Metric = Throughput
	}
	if opts.InfoWeight == 0 && opts.DecisionWeight == 0 {
		opts.InfoWeight, opts.DecisionWeight = DefaultInfoWeight, DefaultDecisionWeight
	}
	if opts.Recommender.Weights.sum() <= 0 {
		opts.Recommender.Weights = DefaultScoreWeights
	}
	space := DefaultSpace(p.cat).WithMeasured(p.results)
	if opts.Space != nil {
		space = *opts.Space
	}
	cfgs := space.Configs(p.cat)
	b, err := p.predictAll(ctx, cfgs, opts.Metric)
	if err != nil {
		return nil, err
	}
	// Rank hardware per (model, batch, precision) group.
	type groupKey struct {
		model string
		batch int
		prec  Precision
		seq   int
	}
	groups := map[groupKey][]*Prediction{}
	var order []groupKey
	for i := range b.Preds {
		pr := &b.Preds[i]
		k := groupKey{pr.Model, pr.BatchSize, pr.Precision, pr.SequenceLength}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], pr)
	}
	rankings := map[groupKey]*HardwareRanking{}
	for _, k := range order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hr, err := opts.Recommender.Rank(p.cat, groups[k], opts.Metric)
		if err == nil {
			rankings[k] = hr
		}
	}
	// Candidates: unmeasured feasible configurations.
	var rows, measuredRows []int
	for i := range b.Preds {
		pr := &b.Preds[i]
		if pr.Measured() {
			measuredRows = append(measuredRows, i)
			continue
		}
		if pr.Feasible {
			rows = append(rows, i)
		}
	}
	rep := &Report{OptimizationMetric: opts.Metric, Strategy: Strategy, Timestamp: FormatTimestamp(opts.Now),
		Data: Summarize(p.results), Seed: opts.Seed, TotalCandidates: len(rows), Recommendations: []Recommendation{}}
	sel, err := newSelector(ctx, b, rows)
	if err != nil {
		return nil, err
	}
	recs := make([]*Recommendation, len(rows))
	dv := make([]float64, len(rows))
	for j, r := range rows {
		pr := &b.Preds[r]
		hr := rankings[groupKey{pr.Model, pr.BatchSize, pr.Precision, pr.SequenceLength}]
		u := pr.LatencyUncertainty
		if opts.Metric == Memory {
			u = pr.MemoryUncertainty
		}
		rec := &Recommendation{ModelName: pr.Model, ModelType: pr.ModelType, Hardware: pr.Hardware, BatchSize: pr.BatchSize,
			Precision: pr.Precision, SequenceLength: pr.SequenceLength, Uncertainty: round4(u),
			Alternatives: []Alternative{}, Predicted: pr.Intervals()}
		if hr != nil {
			rep.EnhancedCandidates++
			rec.RecommendedHardware = hr.RecommendedHardware
			rec.HardwareMatch = hr.RecommendedHardware == pr.Hardware
			if s := hr.Score(pr.Hardware); s != nil {
				rec.HardwareScore = s.Score
			}
			rec.Alternatives = hr.Alternatives
			dv[j] = decisionValue(hr, pr.Hardware, opts.Metric, opts.Recommender.Weights)
			rec.DecisionValue = round4(dv[j])
			rec.ExpectedImprovementPct = math.Round(improvementPct(hr, pr.Hardware, opts.Metric)*10) / 10
		}
		recs[j] = rec
	}
	perHW := map[string]int{}
	var pickIndex []int
	for len(rep.Recommendations) < opts.Budget {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		best, bestScore := -1, math.Inf(-1)
		for j := range rows {
			if sel.picked[j] {
				continue
			}
			hw := recs[j].Hardware
			if opts.MaxPerHardware > 0 && perHW[hw] >= opts.MaxPerHardware {
				continue
			}
			s := opts.InfoWeight*sel.gain(j) + opts.DecisionWeight*dv[j]
			if opts.AvailabilityWeighted {
				s *= p.cat.Hardware(hw).Availability
			}
			if s > bestScore {
				best, bestScore = j, s
			}
		}
		if best < 0 {
			break
		}
		rec := recs[best]
		rec.ExpectedInformationGain = round4(sel.gain(best))
		rec.CombinedScore = round4(opts.InfoWeight*sel.gain(best) + opts.DecisionWeight*dv[best])
		rec.Rank = len(rep.Recommendations) + 1
		rep.Recommendations = append(rep.Recommendations, *rec)
		perHW[rec.Hardware]++
		pickIndex = append(pickIndex, best)
		sel.condition(best)
	}
	rep.FinalRecommendations = len(rep.Recommendations)
	// Diversity is reported, not scored: compute it for the picks only,
	// normalised by the largest distance over an even sample of candidates.
	var picked, sample []int
	for _, r := range rep.Recommendations {
		picked = append(picked, rows[pickIndex[r.Rank-1]])
	}
	step := max(1, len(rows)/512)
	for i := 0; i < len(rows); i += step {
		sample = append(sample, rows[i])
	}
	div := diversity(b.raw, picked, append(sample, picked...), measuredRows)
	for i := range rep.Recommendations {
		rep.Recommendations[i].Diversity = round4(div[i])
	}
	return rep, nil
}
