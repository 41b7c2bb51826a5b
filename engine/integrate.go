package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"perfpilot/safetext"
)

// DefaultBudget is how many configurations a ranking returns when not told:
// the CLI, the dashboard and run's review all use it.
const DefaultBudget = 20

// Default score weights of the seed system.
const (
	DefaultInfoWeight     = 0.7
	DefaultDecisionWeight = 0.3
)

// RankParams are the typed parameters of a ranking: what `integrate` takes
// as flags, what the dashboard ranks with, and what a session saves. Zero
// values take the defaults (see WithDefaults).
type RankParams struct {
	Metric Metric `json:"metric"`
	Budget int    `json:"budget"`
	Seed   uint64 `json:"seed"`
	// InfoWeight and DecisionWeight form
	// combined = InfoWeight × expected_information_gain + DecisionWeight × decision_value.
	InfoWeight     float64 `json:"info_weight"`
	DecisionWeight float64 `json:"decision_weight"`
	// Models and Hardware limit the candidates to these ids (empty: the
	// default space widened by the measured results).
	Models   []string `json:"models,omitempty"`
	Hardware []string `json:"hardware,omitempty"`
	// MaxPerHardware caps picks per hardware (0: no cap).
	MaxPerHardware int `json:"max_per_hardware,omitempty"`
	// AvailabilityWeighted multiplies each candidate's combined score by its
	// hardware's availability when choosing.
	AvailabilityWeighted bool `json:"availability_weighted,omitempty"`
	// Constraints exclude hardware from the recommendations.
	Constraints Constraints `json:"constraints"`
	// PromptTokens and OutputTokens shape the text-generation candidates
	// (0: each model's defaults); GPUCount fixes their GPU count (0: one,
	// and more where the weights need them).
	PromptTokens int `json:"prompt_tokens,omitempty"`
	OutputTokens int `json:"output_tokens,omitempty"`
	GPUCount     int `json:"gpu_count,omitempty"`
}

// WithDefaults fills the zero fields: throughput, DefaultBudget and the
// default weights (when both weights are zero).
func (p RankParams) WithDefaults() RankParams {
	if p.Metric == "" {
		p.Metric = Throughput
	}
	if p.Budget == 0 {
		p.Budget = DefaultBudget
	}
	if p.InfoWeight == 0 && p.DecisionWeight == 0 {
		p.InfoWeight, p.DecisionWeight = DefaultInfoWeight, DefaultDecisionWeight
	}
	return p
}

// Validate checks every parameter against its range and the catalog,
// naming the parameter.
func (p RankParams) Validate(cat *Catalog) error {
	if _, err := ParseMetric(string(p.Metric)); err != nil {
		return fmt.Errorf("metric: %w", err)
	}
	if p.Budget <= 0 {
		return fmt.Errorf("budget: %d is not positive", p.Budget)
	}
	for _, w := range []struct {
		name string
		v    float64
	}{{"info_weight", p.InfoWeight}, {"decision_weight", p.DecisionWeight}} {
		if err := CheckNonNegative(w.v); err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
	}
	if p.InfoWeight+p.DecisionWeight == 0 {
		return errors.New("info_weight, decision_weight: both are zero")
	}
	if p.MaxPerHardware < 0 {
		return fmt.Errorf("max_per_hardware: %d is negative", p.MaxPerHardware)
	}
	for _, f := range []struct {
		name   string
		v, max int
	}{{"prompt_tokens", p.PromptTokens, MaxTokens}, {"output_tokens", p.OutputTokens, MaxTokens}, {"gpu_count", p.GPUCount, MaxGPUCount}} {
		if f.v < 0 || f.v > f.max {
			return fmt.Errorf("%s: %d is outside 0..%d", f.name, f.v, f.max)
		}
	}
	for _, id := range p.Models {
		if cat.Model(id) == nil {
			return fmt.Errorf("models: unknown model %s (valid: %s)", safetext.Quote(id), strings.Join(cat.ModelIDs(), ", "))
		}
	}
	for _, id := range p.Hardware {
		if cat.Hardware(id) == nil {
			return fmt.Errorf("hardware: unknown hardware %s (valid: %s)", safetext.Quote(id), strings.Join(cat.HardwareIDs(), ", "))
		}
	}
	return p.Constraints.Validate()
}

// CheckNonNegative accepts finite numbers ≥ 0.
func CheckNonNegative(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("%v is not a finite non-negative number", v)
	}
	return nil
}

// Plan is perfpilot's one ranking pipeline: it fits the predictor on the
// results and ranks the candidates with the parameters. The predictor comes
// back too, so a caller can Rank another metric or budget without refitting.
func Plan(ctx context.Context, cat *Catalog, results []Result, params RankParams, now time.Time) (*Report, *Predictor, error) {
	params = params.WithDefaults()
	if err := params.Validate(cat); err != nil {
		return nil, nil, err
	}
	p, err := NewPredictor(ctx, cat, results, PredictorOptions{Seed: params.Seed})
	if err != nil {
		return nil, nil, err
	}
	rep, err := Rank(ctx, p, params, now)
	if err != nil {
		return nil, nil, err
	}
	return rep, p, nil
}

// Rank ranks the candidates with a fitted predictor (see Plan).
func Rank(ctx context.Context, p *Predictor, params RankParams, now time.Time) (*Report, error) {
	params = params.WithDefaults()
	if err := params.Validate(p.cat); err != nil {
		return nil, err
	}
	space := DefaultSpace(p.cat).WithMeasured(p.results)
	if len(params.Hardware) > 0 {
		space.Hardware = slices.Clone(params.Hardware)
	}
	if len(params.Models) > 0 {
		space.Models = slices.Clone(params.Models)
	}
	space.PromptTokens, space.OutputTokens, space.GPUCount = params.PromptTokens, params.OutputTokens, params.GPUCount
	opts := integrateOptions{RankParams: params, Now: now, Space: &space}
	rep, err := integrate(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(reflect.ValueOf(rep).Elem(), "report"); err != nil {
		return nil, fmt.Errorf("rank: internal error: %w", err)
	}
	return rep, nil
}

// checkFinite is the engine's promise that no NaN or Inf leaves it: it
// walks a value and names the first non-finite float.
func checkFinite(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s is %v", path, f)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				if err := checkFinite(v.Field(i), path+"."+v.Type().Field(i).Name); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkFinite(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkFinite(v.Elem(), path)
		}
	}
	return nil
}

// integrateOptions are the resolved parameters of integrate.
type integrateOptions struct {
	RankParams
	// Space is the candidate space; nil means DefaultSpace widened by the
	// measured results.
	Space *Space
	Now   time.Time
}

// integrate is the seed's integrate_with_hardware_recommender made real: for
// every unmeasured feasible configuration it computes the information gain
// of measuring it and the chance that the measurement changes a hardware
// recommendation, then picks Budget configurations greedily by the combined
// score, conditioning each pick on the ones before.
func integrate(ctx context.Context, p *Predictor, opts integrateOptions) (*Report, error) {
	opts.RankParams = opts.RankParams.WithDefaults()
	if opts.Budget <= 0 {
		return nil, fmt.Errorf("budget %d is not positive", opts.Budget)
	}
	recommender := Recommender{Weights: DefaultScoreWeights, Constraints: opts.Constraints}
	space := DefaultSpace(p.cat).WithMeasured(p.results)
	if opts.Space != nil {
		space = *opts.Space
	}
	cfgs := space.Configs(p.cat)
	lb, err := p.predictLearn(ctx, cfgs, opts.Metric)
	if err != nil {
		return nil, err
	}
	// Rank hardware per group (the configuration minus its hardware) to
	// score its candidates, on the same memory; the rankings are not kept:
	// a pick's group is ranked again for its recommendation (rankings of
	// every group held tens of MB, issue 11).
	groupOf, members := groupRows(cfgs)
	var rankBuf []rankRow
	var scoreBuf []HardwareScore
	rankGroup := func(g int32) (*HardwareRanking, error) {
		rankBuf = rankBuf[:0]
		for _, r := range members[g] {
			rankBuf = append(rankBuf, lb.rankRow(int(r)))
		}
		scoreBuf = slices.Grow(scoreBuf[:0], len(rankBuf))[:len(rankBuf)]
		return recommender.rank(p.cat, rankBuf, opts.Metric, nil, scoreBuf)
	}
	// Every candidate needs its decision value to be scored; the rest of
	// a recommendation is built for the picks only.
	ranked, dv := make([]bool, len(members)), make([]float64, len(cfgs))
	var noHardware []string
	enhanced := 0
	for g := range members {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hr, err := rankGroup(int32(g))
		var none *NoHardwareError
		switch {
		case err == nil:
			ranked[g] = true
			for _, r := range members[g] {
				if row := &lb.rows[r]; row.feasible && !row.measured {
					enhanced++
					dv[r] = decisionValue(hr, cfgs[r].Hardware, recommender.Weights)
				}
			}
		case errors.As(err, &none):
			noHardware = append(noHardware, none.Reasons...)
		default:
			return nil, err
		}
	}
	// Candidates: unmeasured feasible configurations (the open rows; at
	// are their places there).
	var rows, at []int
	for k, r := range lb.openRows {
		// Under constraints, a configuration whose group has no eligible
		// hardware cannot lead to a recommendation: it is not a candidate.
		if opts.Constraints.none() || ranked[groupOf[r]] {
			rows, at = append(rows, r), append(at, k)
		}
	}
	if len(rows) == 0 && !opts.Constraints.none() {
		return nil, &ConstraintError{Constraints: opts.Constraints, Reasons: noHardware}
	}
	rep := &Report{OptimizationMetric: opts.Metric, Strategy: Strategy, Timestamp: FormatTimestamp(opts.Now),
		Data: Summarize(p.results), Seed: opts.Seed, TotalCandidates: len(rows), EnhancedCandidates: enhanced,
		Recommendations: []Recommendation{}}
	sel, err := newSelector(ctx, lb.open, at)
	if err != nil {
		return nil, err
	}
	recommendation := func(j int) (*Recommendation, error) {
		r := rows[j]
		cfg := cfgs[r]
		rec := NewRecommendation(cfg, p.cat.Model(cfg.Model).ModelType)
		rec.Uncertainty, rec.Alternatives = round4(lb.rows[r].uncertainty), []Alternative{}
		if g := groupOf[r]; ranked[g] {
			hr, err := rankGroup(g)
			if err != nil {
				return nil, err
			}
			rec.RecommendedHardware = hr.RecommendedHardware
			rec.HardwareMatch = hr.RecommendedHardware == cfg.Hardware
			if s := hr.Score(cfg.Hardware); s != nil {
				rec.HardwareScore = s.Score
			}
			rec.Alternatives = hr.Alternatives
			rec.DecisionValue = round4(dv[r])
			rec.ExpectedImprovementPct = math.Round(improvementPct(hr, cfg.Hardware, opts.Metric)*10) / 10
		}
		return &rec, nil
	}
	perHW := map[string]int{}
	var pickIndex []int
	for len(rep.Recommendations) < opts.Budget {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		best, bestScore := -1, math.Inf(-1)
		for j, r := range rows {
			if sel.picked[j] {
				continue
			}
			hw := cfgs[r].Hardware
			if opts.MaxPerHardware > 0 && perHW[hw] >= opts.MaxPerHardware {
				continue
			}
			s := opts.InfoWeight*sel.gain(j) + opts.DecisionWeight*dv[r]
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
		rec, err := recommendation(best)
		if err != nil {
			return nil, err
		}
		rec.ExpectedInformationGain = round4(sel.gain(best))
		rec.CombinedScore = round4(opts.InfoWeight*sel.gain(best) + opts.DecisionWeight*dv[rows[best]])
		rec.Rank = len(rep.Recommendations) + 1
		rec.FirstOnHardware = perHW[rec.Hardware] == 0 && !sel.measuredOn(rec.Hardware)
		rec.Narrows = sel.condition(best)
		rep.Recommendations = append(rep.Recommendations, *rec)
		perHW[rec.Hardware]++
		pickIndex = append(pickIndex, best)
	}
	rep.FinalRecommendations = len(rep.Recommendations)
	// The learner's batch holds no intervals: the picks' come from a
	// whole prediction.
	picks := make([]Config, len(pickIndex))
	for i, j := range pickIndex {
		picks[i] = cfgs[rows[j]]
	}
	whole, err := p.PredictAll(ctx, picks)
	if err != nil {
		return nil, err
	}
	for i := range rep.Recommendations {
		rep.Recommendations[i].Predicted = whole.Preds[i].Intervals()
	}
	// Diversity is reported, not scored: compute it for the picks only,
	// normalised by the largest distance over an even sample of candidates.
	var sample []int
	step := max(1, len(rows)/512)
	for j := 0; j < len(rows); j += step {
		sample = append(sample, j)
	}
	// Diversity's rows are the open rows.
	picked := make([]int, len(pickIndex))
	for i, j := range pickIndex {
		picked[i] = at[j]
	}
	for i, j := range sample {
		sample[i] = at[j]
	}
	raw := func(i int) []float64 { return lb.open.raw.at(i)[:] }
	div := diversity(raw, picked, append(sample, picked...), &lb.measured)
	for i := range rep.Recommendations {
		rep.Recommendations[i].Diversity = round4(div[i])
	}
	return rep, nil
}

// groupRows numbers the groups of configurations (each configuration minus
// its hardware) in order of first appearance, and returns each
// configuration's group and each group's configurations, in order.
func groupRows(cfgs []Config) (groupOf []int32, members [][]int32) {
	ids := map[Config]int32{}
	groupOf = make([]int32, len(cfgs))
	var count []int32
	for i, c := range cfgs {
		k := c.Group()
		g, ok := ids[k]
		if !ok {
			g = int32(len(count))
			ids[k] = g
			count = append(count, 0)
		}
		groupOf[i] = g
		count[g]++
	}
	// One backing array for every group's rows.
	all := make([]int32, 0, len(cfgs))
	members = make([][]int32, len(count))
	for g, n := range count {
		members[g] = all[len(all) : len(all) : len(all)+int(n)]
		all = all[:len(all)+int(n)]
	}
	for i, g := range groupOf {
		members[g] = append(members[g], int32(i))
	}
	return groupOf, members
}
