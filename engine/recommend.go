package engine

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// ScoreWeights weigh the parts of a hardware score. They need not sum to 1;
// scores are divided by the sum so they stay in [0,1].
type ScoreWeights struct {
	Performance  float64 `json:"performance"`
	Power        float64 `json:"power"`
	Headroom     float64 `json:"memory_headroom"`
	Availability float64 `json:"availability"`
	Deployment   float64 `json:"deployment"`
}

// DefaultScoreWeights put half the weight on the optimised metric.
var DefaultScoreWeights = ScoreWeights{Performance: 0.5, Power: 0.15, Headroom: 0.1, Availability: 0.15, Deployment: 0.1}

func (w ScoreWeights) sum() float64 {
	return w.Performance + w.Power + w.Headroom + w.Availability + w.Deployment
}

// Constraints exclude hardware from a recommendation. Zero means no limit.
type Constraints struct {
	MaxPowerW     float64 `json:"max_power_w,omitempty"`
	MinMemoryGB   float64 `json:"min_memory_gb,omitempty"`
	MaxDeployment float64 `json:"max_deployment_complexity,omitempty"`
}

func (c Constraints) none() bool { return c == Constraints{} }

// Validate checks the limits: power and memory finite and non-negative,
// deployment complexity in 0..1.
func (c Constraints) Validate() error {
	if err := CheckNonNegative(c.MaxPowerW); err != nil {
		return fmt.Errorf("max_power_w: %w", err)
	}
	if err := CheckNonNegative(c.MinMemoryGB); err != nil {
		return fmt.Errorf("min_memory_gb: %w", err)
	}
	if err := CheckNonNegative(c.MaxDeployment); err != nil || c.MaxDeployment > 1 {
		return fmt.Errorf("max_deployment_complexity: %v is outside 0..1", c.MaxDeployment)
	}
	return nil
}

// String names the active limits as the flags that set them.
func (c Constraints) String() string {
	var parts []string
	if c.MaxPowerW > 0 {
		parts = append(parts, fmt.Sprintf("--max-power %g", c.MaxPowerW))
	}
	if c.MinMemoryGB > 0 {
		parts = append(parts, fmt.Sprintf("--min-memory %g", c.MinMemoryGB))
	}
	if c.MaxDeployment > 0 {
		parts = append(parts, fmt.Sprintf("--max-deployment %g", c.MaxDeployment))
	}
	return strings.Join(parts, ", ")
}

// ConstraintError says that no candidate configuration has any hardware
// within the constraints, and why each hardware was excluded.
type ConstraintError struct {
	Constraints Constraints
	Reasons     []string
}

func (e *ConstraintError) Error() string {
	// Many groups repeat the same per-hardware reason; list each once.
	seen := map[string]bool{}
	var reasons []string
	for _, r := range e.Reasons {
		if !seen[r] {
			seen[r] = true
			reasons = append(reasons, r)
		}
	}
	sort.Strings(reasons)
	const maxShown = 12
	more := ""
	if len(reasons) > maxShown {
		more = fmt.Sprintf("\n  … and %d more", len(reasons)-maxShown)
		reasons = reasons[:maxShown]
	}
	return fmt.Sprintf("no hardware satisfies %s for any candidate configuration:\n  %s%s", e.Constraints, strings.Join(reasons, "\n  "), more)
}

func (c Constraints) violation(h *Hardware) string {
	var why []string
	if c.MaxPowerW > 0 && h.TDPWatts > c.MaxPowerW {
		why = append(why, fmt.Sprintf("%.0f W exceeds --max-power %.0f W", h.TDPWatts, c.MaxPowerW))
	}
	if c.MinMemoryGB > 0 && h.MemoryGB < c.MinMemoryGB {
		why = append(why, fmt.Sprintf("%.0f GB is below --min-memory %.0f GB", h.MemoryGB, c.MinMemoryGB))
	}
	if c.MaxDeployment > 0 && h.DeploymentComplexity > c.MaxDeployment {
		why = append(why, fmt.Sprintf("deployment complexity %.2f exceeds %.2f", h.DeploymentComplexity, c.MaxDeployment))
	}
	return strings.Join(why, "; ")
}

// ScoreComponent is one line of a score breakdown.
type ScoreComponent struct {
	Name         string  `json:"name"`
	Value        float64 `json:"value"`
	Weight       float64 `json:"weight"`
	Contribution float64 `json:"contribution"`
}

// HardwareScore is one hardware's place in a ranking.
type HardwareScore struct {
	Hardware  string           `json:"hardware"`
	Score     float64          `json:"score"`
	Feasible  bool             `json:"feasible"`
	Eligible  bool             `json:"eligible"`
	Reason    string           `json:"reason,omitempty"`
	Predicted PredictedMetrics `json:"predicted"`
	Breakdown []ScoreComponent `json:"breakdown,omitempty"`
	row       rankRow
	static    float64 // score part that does not depend on the metric
}

// rankRow is what ranking reads of one hardware's prediction: integrate
// ranks from these alone (engine/integrate.go), not from full predictions.
type rankRow struct {
	cfg *Config
	// value and std are the ranked metric's estimate and its log standard
	// deviation; memoryMB is the predicted memory.
	value, std, memoryMB float64
	feasible             bool
	reason               string
}

// HardwareRanking ranks every hardware for one model, batch and precision.
type HardwareRanking struct {
	Model          string    `json:"model_name"`
	BatchSize      int       `json:"batch_size"`
	Precision      Precision `json:"precision"`
	SequenceLength int       `json:"sequence_length"`
	// Text generation (omitted for a forward pass).
	Phase               Phase           `json:"phase,omitempty"`
	GPUCount            int             `json:"gpu_count,omitempty"`
	PromptTokens        int             `json:"prompt_tokens,omitempty"`
	OutputTokens        int             `json:"output_tokens,omitempty"`
	PrecisionLabel      string          `json:"precision_label,omitempty"`
	Metric              Metric          `json:"optimization_metric"`
	RecommendedHardware string          `json:"recommended_hardware"`
	Alternatives        []Alternative   `json:"alternatives"`
	Ranking             []HardwareScore `json:"ranking"`
}

// Config is the configuration ranked, without hardware (the split and KV
// type are those of the ranked rows).
func (h *HardwareRanking) Config() Config {
	c := Config{Model: h.Model, BatchSize: h.BatchSize, Precision: h.Precision, SequenceLength: h.SequenceLength,
		Phase: h.Phase, GPUCount: h.GPUCount, PromptTokens: h.PromptTokens, OutputTokens: h.OutputTokens, PrecisionLabel: h.PrecisionLabel}
	if len(h.Ranking) > 0 && h.Ranking[0].row.cfg != nil {
		c = *h.Ranking[0].row.cfg
		c.Hardware = ""
	}
	return c
}

// NoHardwareError says why no hardware qualified.
type NoHardwareError struct {
	Model   string
	Reasons []string
}

func (e *NoHardwareError) Error() string {
	return fmt.Sprintf("no hardware satisfies the constraints for %s:\n  %s", e.Model, strings.Join(e.Reasons, "\n  "))
}

// Recommender ranks hardware with a transparent weighted score.
type Recommender struct {
	Weights     ScoreWeights
	Constraints Constraints
}

// MaxAlternatives and AlternativeShare define the alternatives list.
const (
	MaxAlternatives  = 3
	AlternativeShare = 0.8
)

// Rank scores the predictions of one (model, batch, precision) group, one
// prediction per hardware. It fails with *NoHardwareError when no hardware
// is feasible and within the constraints: it never falls back silently.
func (r Recommender) Rank(cat *Catalog, preds []*Prediction, metric Metric) (*HardwareRanking, error) {
	rows := make([]rankRow, len(preds))
	for i, p := range preds {
		rows[i] = rankRowOf(p, metric)
	}
	return r.rank(cat, rows, metric, func(i int) PredictedMetrics { return preds[i].Intervals() }, make([]HardwareScore, len(rows)))
}

// rankRowOf is what ranking on metric reads of a prediction.
func rankRowOf(p *Prediction, metric Metric) rankRow {
	e := p.Get(metric)
	return rankRow{cfg: &p.Config, value: e.Value, std: e.Std, memoryMB: p.Memory.Value, feasible: p.Feasible, reason: p.Reason}
}

// rank is Rank over rows into scores (len(rows) of them; the ranking's
// memory); intervals gives row i's predicted intervals. With intervals nil
// it ranks only to score (integrate): no intervals and no breakdowns.
func (r Recommender) rank(cat *Catalog, rows []rankRow, metric Metric, intervals func(i int) PredictedMetrics, scores []HardwareScore) (*HardwareRanking, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("no hardware to rank")
	}
	w := r.Weights
	if w.sum() <= 0 {
		w = DefaultScoreWeights
	}
	tot := w.sum()
	first := rows[0].cfg
	out := &HardwareRanking{Model: first.Model, BatchSize: first.BatchSize, Precision: first.Precision,
		SequenceLength: first.SequenceLength, Phase: first.Phase, GPUCount: first.GPUCount, PromptTokens: first.PromptTokens,
		OutputTokens: first.OutputTokens, PrecisionLabel: first.PrecisionLabel, Metric: metric}
	best, minTDP := 0.0, math.Inf(1)
	if !metric.HigherIsBetter() {
		best = math.Inf(1)
	}
	eligible := false
	for i, p := range rows {
		h := cat.Hardware(p.cfg.Hardware)
		s := HardwareScore{Hardware: p.cfg.Hardware, Feasible: p.feasible, Reason: p.reason, row: p}
		if intervals != nil {
			s.Predicted = intervals(i)
		}
		if p.feasible {
			if v := r.Constraints.violation(h); v != "" {
				s.Reason = v
			} else {
				s.Eligible = true
				val := p.value
				if metric.HigherIsBetter() {
					best = math.Max(best, val)
				} else {
					best = math.Min(best, val)
				}
				minTDP = math.Min(minTDP, h.TDPWatts)
			}
		}
		eligible = eligible || s.Eligible
		scores[i] = s
	}
	// Why no hardware qualifies, in the rows' order.
	var reasons []string
	if !eligible {
		for i := range scores {
			reasons = append(reasons, fmt.Sprintf("%s: %s", scores[i].Hardware, scores[i].Reason))
		}
	}
	for i := range scores {
		s := &scores[i]
		if !s.Eligible {
			continue
		}
		h := cat.Hardware(s.Hardware)
		val := s.row.value
		perf := val / best
		if !metric.HigherIsBetter() {
			perf = best / val
		}
		comps := [...]ScoreComponent{
			{Name: "performance", Value: perf, Weight: w.Performance},
			{Name: "power", Value: minTDP / h.TDPWatts, Weight: w.Power},
			{Name: "memory_headroom", Value: clamp(1-s.row.memoryMB/h.UsableMemoryMB(), 0, 1), Weight: w.Headroom},
			{Name: "availability", Value: h.Availability, Weight: w.Availability},
			{Name: "deployment", Value: 1 - h.DeploymentComplexity, Weight: w.Deployment},
		}
		for k := range comps {
			c := &comps[k]
			c.Contribution = c.Value * c.Weight / tot
			s.Score += c.Contribution
			if k > 0 {
				s.static += c.Contribution
			}
			c.Value, c.Contribution = round4(c.Value), round4(c.Contribution)
		}
		if intervals != nil {
			s.Breakdown = append([]ScoreComponent(nil), comps[:]...)
		}
	}
	slices.SortStableFunc(scores, func(a, b HardwareScore) int {
		switch {
		case a.Eligible != b.Eligible:
			return boolOrder(a.Eligible)
		case a.Feasible != b.Feasible:
			return boolOrder(a.Feasible)
		case a.Score != b.Score:
			return boolOrder(a.Score > b.Score)
		}
		return strings.Compare(a.Hardware, b.Hardware)
	})
	out.Ranking = scores
	if !scores[0].Eligible {
		return out, &NoHardwareError{Model: fmt.Sprintf("%s (batch %d, %s)", first.Model, first.BatchSize, first.Precision), Reasons: reasons}
	}
	out.RecommendedHardware = scores[0].Hardware
	out.Alternatives = []Alternative{}
	for _, s := range scores[1:] {
		if s.Eligible && s.Score >= AlternativeShare*scores[0].Score && len(out.Alternatives) < MaxAlternatives {
			out.Alternatives = append(out.Alternatives, Alternative{Hardware: s.Hardware, Score: round4(s.Score)})
		}
	}
	for i := range out.Ranking {
		out.Ranking[i].Score = round4(out.Ranking[i].Score)
	}
	return out, nil
}

// Score returns the named hardware's entry, or nil.
func (hr *HardwareRanking) Score(hw string) *HardwareScore {
	for i := range hr.Ranking {
		if hr.Ranking[i].Hardware == hw {
			return &hr.Ranking[i]
		}
	}
	return nil
}

// RecommendHardware ranks the given hardware (the default candidate hardware
// when empty) for the group of cfg: cfg's own hardware is ignored.
func (p *Predictor) RecommendHardware(ctx context.Context, cfg Config, metric Metric, hardware []string, rec Recommender) (*HardwareRanking, error) {
	if len(hardware) == 0 {
		hardware = DefaultSpace(p.cat).WithMeasured(p.results).Hardware
	}
	cfgs := make([]Config, 0, len(hardware))
	for _, hw := range hardware {
		c := cfg
		c.Hardware = hw
		if h := p.cat.Hardware(hw); h != nil && c.GPUCount > h.MaxGPUs() {
			continue // no machine holds that many: not a candidate
		}
		cfg, err := p.cat.Normalize(c)
		if err != nil {
			return nil, err
		}
		cfgs = append(cfgs, cfg)
	}
	b, err := p.PredictAll(ctx, cfgs)
	if err != nil {
		return nil, err
	}
	preds := make([]*Prediction, len(b.Preds))
	for i := range b.Preds {
		preds[i] = &b.Preds[i]
	}
	return rec.Rank(p.cat, preds, metric)
}

// decisionValue is the probability that measuring configuration c changes
// the group's recommendation: for a mismatch, that c truly outscores the
// recommended hardware; for the recommended hardware itself, that it truly
// falls below the runner-up. The metric's log uncertainty of both sides is
// what can move; the rest of the score is fixed.
func decisionValue(hr *HardwareRanking, hw string, w ScoreWeights) float64 {
	tot := w.sum()
	if tot <= 0 {
		w, tot = DefaultScoreWeights, DefaultScoreWeights.sum()
	}
	wp := w.Performance / tot
	if wp <= 0 || len(hr.Ranking) == 0 {
		return 0
	}
	rec := &hr.Ranking[0]
	c := hr.Score(hw)
	if c == nil || !c.Eligible {
		return 0
	}
	other := rec
	if hw == rec.Hardware {
		other = nil
		for i := 1; i < len(hr.Ranking); i++ {
			if hr.Ranking[i].Eligible {
				other = &hr.Ranking[i]
				break
			}
		}
		if other == nil {
			return 0
		}
	}
	perf := func(s *HardwareScore) float64 { return (s.Score - s.static) / wp }
	sd := math.Hypot(c.row.std, other.row.std)
	var z float64
	if hw == rec.Hardware {
		// Perf the recommended hardware must fall to for the runner-up to win.
		need := (other.Score - c.static) / wp
		if need <= 0 {
			return 0
		}
		z = math.Log(perf(c) / need)
	} else {
		need := (rec.Score - c.static) / wp
		if need <= 0 {
			return 1
		}
		z = math.Log(need / math.Max(perf(c), 1e-12))
	}
	if sd == 0 {
		if z < 0 {
			return 1
		}
		return 0
	}
	return normalCDF(-z / sd)
}

// boolOrder orders a first when first holds (a and b differing).
func boolOrder(first bool) int {
	if first {
		return -1
	}
	return 1
}

func normalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// improvementPct is the predicted gain of the recommended hardware over hw
// on the metric, in percent (negative when hw is better on the metric alone).
func improvementPct(hr *HardwareRanking, hw string, metric Metric) float64 {
	rec, c := hr.Score(hr.RecommendedHardware), hr.Score(hw)
	if rec == nil || c == nil || hw == hr.RecommendedHardware {
		return 0
	}
	rv, cv := rec.row.value, c.row.value
	if metric.HigherIsBetter() {
		return (rv/cv - 1) * 100
	}
	return (cv/rv - 1) * 100
}
