package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Fitting: hyperparameters by maximum a posteriori marginal likelihood on
// (a subsample of) the data, then a robust, per-device reweighting, then the
// posterior on all rows.
//
// Robustness: a heavy-tailed (contaminated normal) likelihood fitted by
// iteratively reweighted least squares on leave-one-out residuals (see
// robustWeight), so one wrong row cannot drag a device. Per-device noise: a device whose leave-one-out residuals are
// larger than the pooled noise predicts gets a larger noise variance, shrunk
// towards the pool with kappaPrior pseudo-observations.
const (
	maxHyperRows = 2000
	outlierShare = 0.02
	outlierScale = 10.0
	robustRounds = 2
	kappaPrior   = 6.0
	// FlagSigma is how far outside its predictive distribution (in standard
	// deviations, leave-one-out) a measurement must lie to be flagged.
	FlagSigma = 4.0
)

// ellGrid is the lengthscale's index in hyperGrids; reGridStart that of
// the first random-effect group (groups follow in their order).
const (
	ellGrid     = 2
	reGridStart = 4
)

var hyperGrids = []struct {
	set  func(*hyper, float64)
	get  func(*hyper) float64
	vals []float64
}{
	{func(h *hyper, v float64) { h.noise = v }, func(h *hyper) float64 { return h.noise }, []float64{0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.22, 0.32, 0.45}},
	{func(h *hyper, v float64) { h.rbf = v }, func(h *hyper) float64 { return h.rbf }, []float64{0.01, 0.03, 0.1, 0.3, 1}},
	{func(h *hyper, v float64) { h.ell = v }, func(h *hyper) float64 { return h.ell }, []float64{0.35, 0.6, 1, 1.7}},
	{func(h *hyper, v float64) { h.lin = v }, func(h *hyper) float64 { return h.lin }, []float64{0.003, 0.01, 0.03, 0.1, 0.3}},
	reGrid(reHardware), reGrid(reFamily), reGrid(reVendor), reGrid(reModel), reGrid(reHWPrecision), reGrid(reHWBatch),
	reGrid(reHWPhase), reGrid(reHWSplit),
}

// reValues is the grid of a random effect's prior variance. A machine's
// links may be several times slower than the prior assumes (llama.cpp rigs
// measured 2–12 GB/s between cards), so its split effect reaches further.
func reValues(g int) []float64 {
	if g == reHWSplit {
		return []float64{0.06, 0.25, 1, 4}
	}
	return []float64{0.001, 0.004, 0.015, 0.06, 0.25}
}

func reGrid(g int) struct {
	set  func(*hyper, float64)
	get  func(*hyper) float64
	vals []float64
} {
	return struct {
		set  func(*hyper, float64)
		get  func(*hyper) float64
		vals []float64
	}{func(h *hyper, v float64) { h.re[g] = v }, func(h *hyper) float64 { return h.re[g] }, reValues(g)}
}

// fitResult holds per-training-row diagnostics of the final fit.
type fitResult struct {
	z      []float64 // leave-one-out standardized residual
	loo    []float64 // leave-one-out predicted mean
	weight []float64 // robust weight (1: fully trusted)
}

// fit chooses hyperparameters, weights and the posterior.
func (b *blr) fit(ctx context.Context, ts *trainSet) (*fitResult, error) {
	n := len(ts.y)
	b.n = n
	b.assignLevels(ts.lev)
	b.devRows = map[string]int{}
	for _, l := range ts.lev {
		b.devRows[l.key[reHardware]]++
	}
	d := b.newDesign(ts.x, ts.lev, b.lev, true)
	if n == 0 {
		b.setPrior()
		return &fitResult{}, nil
	}
	// Hyperparameters and weights are chosen on at most maxHyperRows rows.
	var sub []int
	if n > maxHyperRows {
		rng := rand.New(rand.NewPCG(b.seed, 0x5ab5))
		sub = rng.Perm(n)[:maxHyperRows]
		sort.Ints(sub)
	}
	subRows := sub
	if subRows == nil {
		subRows = make([]int, n)
		for i := range subRows {
			subRows[i] = i
		}
	}
	w := make([]float64, n)
	robust := make([]float64, n)
	for i := range w {
		w[i], robust[i] = 1, 1
	}
	st := &searchState{b: b, d: d, rows: sub, y: ts.y, phi: map[float64][]float64{}, cache: map[float64]*suff{}}
	hp := b.hp
	learn := n >= 8 // too few points to learn hyperparameters: keep the prior
	// Screen under the prior first, so outliers cannot steer the search
	// (an outlier fitted as noise would inflate it for every row), then
	// search with those weights, then reweight and refine.
	var s *suff
	var err error
	for round := 0; round <= robustRounds+1; round++ {
		if s, err = st.gram(ctx, hp.ell, w, false); err != nil {
			return nil, err
		}
		if round == robustRounds+1 {
			break
		}
		if err := b.setPosterior(s, hp); err != nil {
			return nil, err
		}
		z, _, err := b.loo(ctx, d, subRows, w, ts.y)
		if err != nil {
			return nil, err
		}
		b.reweight(ts.lev, subRows, z, robust, w)
		if round == 0 && learn {
			st.w = slices.Clone(w)
			if hp, err = st.search(ctx, hp, nil, false); err != nil {
				return nil, err
			}
		}
	}
	if learn {
		// Refine the noise and prior variances under the final weights.
		if hp, err = st.search(ctx, hp, s, true); err != nil {
			return nil, err
		}
	}
	// Calibrate on the rows a posterior was fitted on: all of them, or the
	// subsample (then refit on everything).
	if err := b.setPosterior(s, hp); err != nil {
		return nil, err
	}
	if b.calib, err = b.calibrate(ctx, d, subRows, w, ts.y); err != nil {
		return nil, err
	}
	// Rows of a device measured only a few times carry its calibration
	// factor as extra noise, so one measurement there moves the device no
	// further than the training devices say it should; rows outside the
	// subsample take their device's noise inflation.
	refit := sub != nil
	for i := range w {
		hw := ts.lev[i].key[reHardware]
		wi := robust[i] / (b.kappaOf(hw) * math.Max(b.varFactor(hw), 1))
		refit = refit || wi != w[i]
		w[i] = wi
	}
	if refit {
		if s, err = b.gram(ctx, d, nil, w, ts.y, hp.ell, b.dim(), nil); err != nil {
			return nil, err
		}
		if err := b.setPosterior(s, hp); err != nil {
			return nil, err
		}
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	z, loo, err := b.loo(ctx, d, all, w, ts.y)
	if err != nil {
		return nil, err
	}
	return &fitResult{z: z, loo: loo, weight: robust}, nil
}

// assignLevels gives every level seen in training a column, in sorted order.
func (b *blr) assignLevels(lev []levels) {
	seen := map[levelKey]bool{}
	var keys []levelKey
	for _, l := range lev {
		for g := 0; g < nGroups; g++ {
			if l.key[g] == "" {
				continue
			}
			k := levelKey{g, l.key[g]}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].key < keys[j].key
	})
	b.lev = map[levelKey]int{}
	b.levGroup = make([]int, len(keys))
	for i, k := range keys {
		b.lev[k] = b.dd() + i
		b.levGroup[i] = k.group
	}
}

// setPrior sets the posterior to the prior (no data).
func (b *blr) setPrior() {
	pv := b.priorVar(b.hp, b.levGroup)
	P := len(pv)
	b.mean, b.cov = make([]float64, P), make([]float64, P*P)
	for i, v := range pv {
		b.cov[i*P+i] = v
	}
}

func (b *blr) setPosterior(s *suff, hp hyper) error {
	b.hp = hp
	A, m, lml, err := b.posterior(s, b.priorVar(hp, b.levGroup), hp)
	if err != nil {
		return err
	}
	b.mean, b.cov, b.lml = m, invertChol(A, s.P), lml
	return nil
}

// searchState caches, per lengthscale, the subsample's dense rows and its
// sufficient statistics under the search's weights w: every other
// hyperparameter candidate reuses them.
type searchState struct {
	b     *blr
	d     *design
	rows  []int // subsample (nil: all rows)
	y     []float64
	w     []float64
	phi   map[float64][]float64
	cache map[float64]*suff
}

// gram returns the statistics at ell: with the search's weights (cached)
// when cached, else with w.
func (st *searchState) gram(ctx context.Context, ell float64, w []float64, cached bool) (*suff, error) {
	if cached {
		if s, ok := st.cache[ell]; ok {
			return s, nil
		}
		w = st.w
	}
	phi, ok := st.phi[ell]
	if !ok {
		var err error
		if phi, err = st.b.denseRows(ctx, st.d, st.rows, ell); err != nil {
			return nil, err
		}
		st.phi[ell] = phi
	}
	s, err := st.b.gram(ctx, st.d, st.rows, w, st.y, ell, st.b.dim(), phi)
	if err == nil && cached {
		st.cache[ell] = s
	}
	return s, err
}

// search is one sweep of coordinate ascent on the log marginal likelihood
// plus the hyperprior over fixed grids (deterministic; a coordinate's
// candidates are scored in parallel and the first best wins). local, with
// fixed statistics (weighted, after reweighting), refines every coordinate
// but the lengthscale over its grid neighbours: the second sweep.
func (st *searchState) search(ctx context.Context, hp hyper, fixed *suff, local bool) (hyper, error) {
	b := st.b
	score := func(h hyper) (float64, error) {
		s := fixed
		if s == nil {
			var err error
			if s, err = st.gram(ctx, h.ell, nil, true); err != nil {
				return 0, err
			}
		}
		_, _, lml, err := b.posterior(s, b.priorVar(h, b.levGroup), h)
		if err != nil {
			return math.Inf(-1), nil
		}
		return lml + h.logPrior(), nil
	}
	best, err := score(hp)
	if err != nil {
		return hp, err
	}
	var levelsIn [nGroups]int
	for _, g := range b.levGroup {
		levelsIn[g]++
	}
	{
		for gi, g := range hyperGrids {
			if fixed != nil && gi == ellGrid {
				continue
			}
			// A group with fewer than two levels in the data says nothing
			// about how much its levels differ: its variance keeps the prior.
			if g := gi - reGridStart; g >= 0 && levelsIn[g] < 2 {
				continue
			}
			vals := g.vals
			if local {
				vals = neighbours(g.vals, g.get(&hp))
			}
			var cands []hyper
			for _, v := range vals {
				h := hp
				g.set(&h, v)
				if h != hp {
					cands = append(cands, h)
				}
			}
			if gi == ellGrid {
				// New lengthscales need their statistics first (in order).
				for _, h := range cands {
					if _, err := st.gram(ctx, h.ell, nil, true); err != nil {
						return hp, err
					}
				}
			}
			scores := make([]float64, len(cands))
			errs := make([]error, len(cands))
			var wg sync.WaitGroup
			sem := make(chan struct{}, runtime.GOMAXPROCS(0))
			for i, h := range cands {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					scores[i], errs[i] = score(h)
				}()
			}
			wg.Wait()
			for i, h := range cands {
				if errs[i] != nil {
					return hp, errs[i]
				}
				if scores[i] > best+1e-9 {
					best, hp = scores[i], h
				}
			}
		}
	}
	return hp, nil
}

// neighbours are the grid values next to v.
func neighbours(grid []float64, v float64) []float64 {
	i := sort.SearchFloat64s(grid, v)
	var out []float64
	if i > 0 {
		out = append(out, grid[i-1])
	}
	if i+1 < len(grid) && grid[i] == v {
		out = append(out, grid[i+1])
	} else if i < len(grid) && grid[i] != v {
		out = append(out, grid[i])
	}
	return out
}

// loo returns, for training rows, the leave-one-out standardized residual
// and mean: with h = w·φᵀΣφ/σ², removing a row moves its mean to
// y − r/(1−h) and its epistemic variance to φᵀΣφ/(1−h).
func (b *blr) loo(ctx context.Context, d *design, rows []int, w, y []float64) (z, mean []float64, err error) {
	mu, epi, _, err := b.predictDesign(ctx, d, rows, nil)
	if err != nil {
		return nil, nil, err
	}
	s2 := b.hp.noise * b.hp.noise
	z, mean = make([]float64, len(rows)), make([]float64, len(rows))
	for k, i := range rows {
		h := math.Min(w[i]*epi[k]/s2, 1-1e-9)
		r := y[i] - mu[k]
		mean[k] = y[i] - r/(1-h)
		noise := s2 * b.kappaOf(d.lev[i].key[reHardware])
		z[k] = (r / (1 - h)) / math.Sqrt(noise+epi[k]/(1-h))
	}
	return z, mean, nil
}

// kappaOf is the noise inflation of a device.
func (b *blr) kappaOf(hw string) float64 {
	if k, ok := b.kappa[hw]; ok {
		return k
	}
	return b.kappaPool
}

// reweight sets robust weights from leave-one-out residuals, then per-device
// noise inflation from the robustly weighted squared residuals, and writes
// the combined weights w = robust/κ for the given rows.
func (b *blr) reweight(lev []levels, rows []int, z, robust, w []float64) {
	type acc struct{ sz, sw float64 }
	per := map[string]*acc{}
	var order []string
	var pool acc
	for k, i := range rows {
		robust[i] = robustWeight(z[k])
		hw := lev[i].key[reHardware]
		a := per[hw]
		if a == nil {
			a = &acc{}
			per[hw] = a
			order = append(order, hw)
		}
		// z was standardized with the current κ: undo it.
		z2 := z[k] * z[k] * b.kappaOf(hw)
		a.sz += robust[i] * z2
		a.sw += robust[i]
		pool.sz += robust[i] * z2
		pool.sw += robust[i]
	}
	poolK := 1.0
	if pool.sw > 0 {
		poolK = math.Max(pool.sz/pool.sw, 0.25)
	}
	kappa := map[string]float64{}
	for _, hw := range order {
		a := per[hw]
		kappa[hw] = (kappaPrior*poolK + a.sz) / (kappaPrior + a.sw)
	}
	b.kappa, b.kappaPool = kappa, poolK
	for _, i := range rows {
		w[i] = robust[i] / b.kappaOf(lev[i].key[reHardware])
	}
}

// robustWeight is the probability that a row with leave-one-out residual z
// is an ordinary measurement under a contaminated-normal likelihood: a
// share outlierShare of rows comes from a component outlierScale times
// wider. That is the weight iteratively reweighted least squares (EM)
// gives it: 1 for ordinary residuals, ~0.3 at 4σ, ~0 beyond 5σ, so a wrong
// row neither drags its device nor inflates the noise.
func robustWeight(z float64) float64 {
	if math.IsNaN(z) {
		return 1
	}
	in := (1 - outlierShare) * math.Exp(-0.5*z*z)
	u := z / outlierScale
	out := outlierShare * math.Exp(-0.5*u*u) / outlierScale
	return in / (in + out)
}

// predictDesign returns, for design rows (all when rows is nil), the
// posterior mean, epistemic variance and prior variance of the latent
// residual. Levels without a column contribute their prior variance.
// Chunks run in parallel; each row's numbers depend only on that row.
func (b *blr) predictDesign(ctx context.Context, d *design, rows []int, skip []bool) (mean, epi, prior []float64, err error) {
	n := d.n
	if rows != nil {
		n = len(rows)
	}
	dd, P := b.dd(), b.dim()
	mean, epi, prior = make([]float64, n), make([]float64, n), make([]float64, n)
	pv := b.priorVar(b.hp, b.levGroup)
	covDD := blas64.General{Rows: dd, Cols: dd, Stride: P, Data: b.cov}
	phis, Ts := scratch(n, chunkRows*dd), scratch(n, chunkRows*dd)
	idxs := make([][]int, workers(n))
	err = parallelChunks(ctx, n, func(wk, _, lo, hi int) {
		idx := idxs[wk][:0]
		for k := lo; k < hi; k++ {
			i := k
			if rows != nil {
				i = rows[k]
			}
			if skip != nil && skip[i] {
				continue
			}
			idx = append(idx, k)
		}
		if len(idx) == 0 {
			return
		}
		idxs[wk] = idx
		m := len(idx)
		phi, T := phis[wk][:m*dd], Ts[wk][:m*dd]
		drows := idx
		if rows != nil {
			drows = make([]int, m)
			for r, k := range idx {
				drows[r] = rows[k]
			}
		}
		b.denseBlock(phi, d, drows, b.hp.ell)
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, blas64.General{Rows: m, Cols: dd, Stride: dd, Data: phi}, covDD,
			0, blas64.General{Rows: m, Cols: dd, Stride: dd, Data: T})
		for r, k := range idx {
			i := k
			if rows != nil {
				i = rows[k]
			}
			p, t := phi[r*dd:(r+1)*dd], T[r*dd:(r+1)*dd]
			mu, e, pr := dot(p, b.mean[:dd]), dot(p, t), 0.0
			for j, v := range p {
				pr += v * v * pv[j]
			}
			cols, vals := &d.col[i], &d.val[i]
			for g := 0; g < nGroups; g++ {
				if d.lev[i].key[g] == "" {
					continue
				}
				v := vals[g]
				tv := b.hp.re[g] * v * v
				pr += tv
				cg := int(cols[g])
				if cg < 0 {
					e += tv
					continue
				}
				mu += v * b.mean[cg]
				e += 2 * v * dot(b.cov[cg*P:cg*P+dd], p)
				for h := 0; h < nGroups; h++ {
					if ch := int(cols[h]); ch >= 0 {
						e += v * vals[h] * b.cov[cg*P+ch]
					}
				}
			}
			mean[k], epi[k], prior[k] = mu, math.Max(e, 0), pr
		}
	})
	return mean, epi, prior, err
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
