package engine

import (
	"context"
	"math"

	"gonum.org/v1/gonum/mat"
)

// selector scores candidates by how much measuring each would reduce the
// total predictive variance over all candidates, and conditions on each pick
// so a batch does not repeat itself. With posterior covariance Σ, candidate
// features φ_j, v_j = Σφ_j and A = Σ_j φ_jφ_jᵀ, measuring j removes
// R_j = v_jᵀ A v_j / (σ² + φ_jᵀ v_j) of variance; a pick updates every v_j
// by a rank-one step, O(D) per candidate.
type selector struct {
	rows   []int      // batch rows of the candidates
	phi    *mat.Dense // batch design (all rows)
	V      *mat.Dense // Σφ_j per batch row, updated in place
	W      *mat.Dense // A v_j per candidate
	A      *mat.Dense
	vars   []float64 // epistemic variance per candidate
	noise2 float64
	picked []bool
	r0max  float64
}

// newSelector builds the selector over candidate rows of a batch predicted
// with the metric's model kept.
func newSelector(ctx context.Context, b *Batch, rows []int) (*selector, error) {
	n := len(rows)
	s := &selector{rows: rows, phi: b.phi, V: b.V, noise2: b.model.hp.noise * b.model.hp.noise,
		picked: make([]bool, n), vars: make([]float64, n)}
	if n == 0 {
		return s, nil
	}
	_, d := b.phi.Dims()
	// A = Σ_j φ_jφ_jᵀ over candidates, and the candidates' V rows, gathered
	// in chunks.
	const chunk = 2048
	sym := mat.NewSymDense(d, nil)
	buf := mat.NewDense(min(chunk, n), d, nil)
	vc := mat.NewDense(n, d, nil)
	for lo := 0; lo < n; lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+chunk, n)
		part := buf.Slice(0, hi-lo, 0, d).(*mat.Dense)
		for i := lo; i < hi; i++ {
			copy(part.RawRowView(i-lo), b.phi.RawRowView(rows[i]))
			copy(vc.RawRowView(i), b.V.RawRowView(rows[i]))
		}
		sym.SymRankK(sym, 1, part.T())
	}
	s.V = vc
	s.A = mat.DenseCopyOf(sym)
	s.W = mat.NewDense(n, d, nil)
	s.W.Mul(s.V, s.A)
	for i, r := range rows {
		s.vars[i] = b.vars[r]
	}
	for i := 0; i < n; i++ {
		s.r0max = math.Max(s.r0max, s.reduction(i))
	}
	return s, nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// reduction is R_j under the current conditioning.
func (s *selector) reduction(j int) float64 {
	return math.Max(dot(s.V.RawRowView(j), s.W.RawRowView(j)), 0) / (s.noise2 + s.vars[j])
}

// gain is R_j relative to the most informative candidate before any pick,
// so it lies in [0,1] and falls as a batch fills up.
func (s *selector) gain(j int) float64 {
	if s.r0max <= 0 {
		return 0
	}
	return clamp(s.reduction(j)/s.r0max, 0, 1)
}

// condition updates the posterior as if candidate j had been measured (the
// variance update does not need the measured value).
func (s *selector) condition(j int) {
	s.picked[j] = true
	_, d := s.V.Dims()
	u := append([]float64(nil), s.V.RawRowView(j)...)
	den := s.noise2 + s.vars[j]
	au := make([]float64, d)
	mat.NewVecDense(d, au).MulVec(s.A, mat.NewVecDense(d, u))
	for i, r := range s.rows {
		c := dot(s.phi.RawRowView(r), u)
		if c == 0 {
			continue
		}
		f := c / den
		v, w := s.V.RawRowView(i), s.W.RawRowView(i)
		for k := 0; k < d; k++ {
			v[k] -= f * u[k]
			w[k] -= f * au[k]
		}
		s.vars[i] = math.Max(s.vars[i]-c*f, 0)
	}
}

// diversity is the distance of each given row to the nearest measured
// configuration in the raw feature space (batch and sizes log-scaled,
// categories one-hot), divided by the largest distance any candidate has,
// estimated over norm rows; 1 when nothing is measured.
func diversity(raw *mat.Dense, rows, norm []int, measured []int) []float64 {
	out := make([]float64, len(rows))
	if len(measured) == 0 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	nearest := func(r int) float64 {
		x := raw.RawRowView(r)
		best := math.Inf(1)
		for _, m := range measured {
			y := raw.RawRowView(m)
			d := 0.0
			for k := range x {
				t := x[k] - y[k]
				d += t * t
			}
			best = math.Min(best, d)
		}
		return math.Sqrt(best)
	}
	maxD := 0.0
	for _, r := range norm {
		maxD = math.Max(maxD, nearest(r))
	}
	for i, r := range rows {
		out[i] = nearest(r)
		if maxD > 0 {
			out[i] = math.Min(out[i]/maxD, 1)
		}
	}
	return out
}

// ActiveChoice is one pick of a pure active-learning batch.
type ActiveChoice struct {
	Config
	InformationGain float64
	Uncertainty     float64
}

// SelectBatch picks k configurations to measure next by expected
// information gain alone, greedily and conditioned on earlier picks.
// Candidates that are measured or infeasible are skipped.
func (p *Predictor) SelectBatch(ctx context.Context, candidates []Config, metric Metric, k int) ([]ActiveChoice, error) {
	b, err := p.predictAll(ctx, candidates, metric)
	if err != nil {
		return nil, err
	}
	var rows []int
	for i := range b.Preds {
		if b.Preds[i].Feasible && !b.Preds[i].Measured() {
			rows = append(rows, i)
		}
	}
	sel, err := newSelector(ctx, b, rows)
	if err != nil {
		return nil, err
	}
	var out []ActiveChoice
	for len(out) < k && len(out) < len(rows) {
		best, bestG := -1, -1.0
		for j := range rows {
			if sel.picked[j] {
				continue
			}
			if g := sel.reduction(j); g > bestG {
				best, bestG = j, g
			}
		}
		if best < 0 {
			break
		}
		pr := b.Preds[rows[best]]
		u := pr.LatencyUncertainty
		if metric == Memory {
			u = pr.MemoryUncertainty
		}
		out = append(out, ActiveChoice{Config: pr.Config, InformationGain: sel.gain(best), Uncertainty: u})
		sel.condition(best)
	}
	return out, nil
}
