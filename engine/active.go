package engine

import (
	"context"
	"encoding/binary"
	"math"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
)

// selector scores candidates by how much measuring each would reduce the
// total predictive variance over all candidates, and conditions on each pick
// so a batch does not repeat itself. With posterior covariance Σ (extended
// with the prior of every random-effect level the candidates touch, so the
// first measurement on an unmeasured device informs all its
// configurations), candidate features φ_j and A = Σ_k φ_kφ_kᵀ, measuring j
// removes R_j = φ_jᵀ M φ_j / (σ_j² + φ_jᵀΣφ_j) of variance, M = ΣAΣ.
// A pick is a rank-one update of Σ and rank-two of M; every candidate's two
// quadratic forms follow in O(d), so the selector holds no N×d matrix of
// its own (it reads the candidates' dense blocks the prediction computed)
// and a few vectors.
type selector struct {
	rows  []int // open rows of the candidates
	model *blr
	// Candidate j's level columns (−1: none) and values.
	col [][nGroups]int32
	val [][nGroups]float64
	// Candidate j's dense block is the bias, its raw features (open row
	// rows[j]) and its random features: at position at[j] of the open rows'
	// rff, or −at[j]−1 of extra (rows the prediction did not keep).
	open   *openRows
	extra  []float64
	at     []int32
	P      int
	sigma  []float64 // P×P current Σ
	M      []float64 // P×P current ΣAΣ
	s, q   []float64 // φᵀΣφ and φᵀMφ per candidate
	noise2 []float64
	picked []bool
	r0max  float64
}

// newSelector builds the selector over candidate open rows of a batch
// predicted with the metric's model kept.
func newSelector(ctx context.Context, o *openRows, rows []int) (*selector, error) {
	n := len(rows)
	s := &selector{rows: rows, model: o.model, picked: make([]bool, n), noise2: make([]float64, n)}
	if n == 0 {
		return s, nil
	}
	m := o.model
	dd := m.dd()
	// Columns: the model's, then every level the candidates touch that
	// training never saw (prior only, uncorrelated).
	colOf := make(map[levelKey]int, len(m.lev))
	for k, c := range m.lev {
		colOf[k] = c
	}
	var newGroups []int
	s.open, s.at = o, make([]int32, n)
	var missing []int
	for j, r := range rows {
		if s.at[j] = *o.rffAt.at(r); s.at[j] < 0 {
			s.at[j] = -int32(len(missing)) - 1
			missing = append(missing, r)
		}
		s.noise2[j] = *o.noise2.at(r)
		keys := o.keys(r)
		for g := 0; g < nGroups; g++ {
			if key := keys[g]; key != "" {
				if _, ok := colOf[levelKey{g, key}]; !ok {
					colOf[levelKey{g, key}] = m.dim() + len(newGroups)
					newGroups = append(newGroups, g)
				}
			}
		}
	}
	P := m.dim() + len(newGroups)
	s.P = P
	s.col, s.val = make([][nGroups]int32, n), make([][nGroups]float64, n)
	memo := make([]colMemo, runtime.GOMAXPROCS(0))
	parallelRows(n, func(w, j int) {
		l := o.levels(rows[j])
		memo[w].resolve(&s.col[j], &l, colOf)
		s.val[j] = l.val
	})
	if len(missing) > 0 {
		raw := make([]float64, len(missing)*nRaw)
		for k, r := range missing {
			copy(raw[k*nRaw:], o.raw.at(r)[:])
		}
		extra := &design{n: len(missing), x: raw}
		if err := m.cacheRFF(ctx, extra, nil, 0); err != nil {
			return nil, err
		}
		s.extra = extra.rff
	}
	s.sigma = make([]float64, P*P)
	Pm := m.dim()
	for i := 0; i < Pm; i++ {
		copy(s.sigma[i*P:i*P+Pm], m.cov[i*Pm:(i+1)*Pm])
	}
	for i, g := range newGroups {
		c := Pm + i
		s.sigma[c*P+c] = m.hp.re(g)
	}
	A, err := s.gramA(ctx)
	if err != nil {
		return nil, err
	}
	// M = Σ A Σ.
	tmp := make([]float64, P*P)
	gen := func(x []float64) blas64.General { return blas64.General{Rows: P, Cols: P, Stride: P, Data: x} }
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, gen(s.sigma), gen(A), 0, gen(tmp))
	s.M = make([]float64, P*P)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, gen(tmp), gen(s.sigma), 0, gen(s.M))
	// φᵀΣφ is the epistemic variance the batch already holds (unseen
	// levels at their prior there too); φᵀMφ is new.
	s.s, s.q = make([]float64, n), make([]float64, n)
	for j, r := range rows {
		s.s[j] = *o.vars.at(r)
	}
	Ts, phis := scratch(n, chunkRows*dd), scratch(n, chunkRows*dd)
	defer release(Ts, phis)
	half := halfUpper(s.M, P, dd)
	if err := parallelChunks(ctx, n, func(wk, _, lo, hi int) {
		s.quadForms(lo, hi, s.M, half, s.q, s.block(lo, hi, phis[wk]), Ts[wk])
	}); err != nil {
		return nil, err
	}
	for j := 0; j < n; j++ {
		s.r0max = math.Max(s.r0max, s.reduction(j))
	}
	return s, nil
}

// parts are candidate j's raw and random features.
func (s *selector) parts(j int) (x, f []float64) {
	x = s.open.raw.at(s.rows[j])[:]
	if k := int(s.at[j]); k >= 0 {
		return x, s.open.rff.at(k)[:]
	}
	k := -int(s.at[j]) - 1
	return x, s.extra[k*nRFF : (k+1)*nRFF]
}

// phiInto writes candidate j's dense block into dst.
func (s *selector) phiInto(dst []float64, j int) {
	x, f := s.parts(j)
	dst[0] = 1
	copy(dst[1:1+nRaw], x)
	copy(dst[1+nRaw:s.model.dd()], f)
}

// block gathers the dense blocks of candidates lo..hi into buf (row-major).
func (s *selector) block(lo, hi int, buf []float64) []float64 {
	dd := s.model.dd()
	for j := lo; j < hi; j++ {
		s.phiInto(buf[(j-lo)*dd:(j-lo+1)*dd], j)
	}
	return buf[:(hi-lo)*dd]
}

// gramA is A = Σ_k φ_kφ_kᵀ over the candidates (full P×P).
func (s *selector) gramA(ctx context.Context) ([]float64, error) {
	n := len(s.rows)
	dd, P := s.model.dd(), s.P
	A := make([]float64, P*P)
	sum := newOrderedSum(n, func(G *[]float64) { floats.Add(A, *G) },
		func() *[]float64 { G := zeroBuf(P * P); return &G }, func(G *[]float64) { clear(*G) })
	cross, phis := scratch(n, (P-dd)*dd), scratch(n, chunkRows*dd)
	defer release(cross, phis)
	defer sum.recycle(func(G *[]float64) { putBuf(*G) })
	err := parallelChunks(ctx, n, func(wk, c, lo, hi int) {
		Gp := sum.part()
		G := *Gp
		blk := s.block(lo, hi, phis[wk])
		blas64.Syrk(blas.Trans, 1, blas64.General{Rows: hi - lo, Cols: dd, Stride: dd, Data: blk}, 0,
			blas64.Symmetric{N: dd, Stride: P, Data: G, Uplo: blas.Upper})
		// Level × dense products level-major (contiguous), then transposed.
		X := cross[wk]
		clear(X)
		for j := lo; j < hi; j++ {
			phi := blk[(j-lo)*dd : (j-lo+1)*dd]
			cols, vals := &s.col[j], &s.val[j]
			for g := 0; g < nGroups; g++ {
				cg := int(cols[g])
				if cg < 0 {
					continue
				}
				floats.AddScaled(X[(cg-dd)*dd:(cg-dd+1)*dd], vals[g], phi)
				for h := 0; h < nGroups; h++ {
					if ch := int(cols[h]); ch >= cg {
						G[cg*P+ch] += vals[g] * vals[h]
					}
				}
			}
		}
		for l := 0; l < P-dd; l++ {
			for k, v := range X[l*dd : (l+1)*dd] {
				G[k*P+dd+l] += v
			}
		}
		sum.add(c, Gp)
	})
	if err != nil {
		return nil, err
	}
	for i := 0; i < P; i++ {
		for j := i + 1; j < P; j++ {
			A[j*P+i] = A[i*P+j]
		}
	}
	return A, nil
}

// quadForms writes φ_jᵀBφ_j for candidates lo..hi (B full, symmetric,
// half its halfUpper; phi their dense blocks, buf scratch).
func (s *selector) quadForms(lo, hi int, B, half []float64, out, phi, buf []float64) {
	dd, P := s.model.dd(), s.P
	m := hi - lo
	T := buf[:m*dd]
	triRows(T, phi, half, m, dd)
	for j := lo; j < hi; j++ {
		p := phi[(j-lo)*dd : (j-lo+1)*dd]
		v := 2 * dot(p, T[(j-lo)*dd:(j-lo+1)*dd])
		cols, vals := &s.col[j], &s.val[j]
		for g := 0; g < nGroups; g++ {
			cg := int(cols[g])
			if cg < 0 {
				continue
			}
			v += 2 * vals[g] * dot(B[cg*P:cg*P+dd], p)
			for h := 0; h < nGroups; h++ {
				if ch := int(cols[h]); ch >= 0 {
					v += vals[g] * vals[h] * B[cg*P+ch]
				}
			}
		}
		out[j] = v
	}
}

// times returns Bφ_j (B full, symmetric) as a P-vector.
func (s *selector) times(B []float64, j int) []float64 {
	dd, P := s.model.dd(), s.P
	out, phi := make([]float64, P), make([]float64, dd)
	s.phiInto(phi, j)
	blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: P, Cols: dd, Stride: P, Data: B},
		blas64.Vector{N: dd, Inc: 1, Data: phi}, 0, blas64.Vector{N: P, Inc: 1, Data: out})
	cols, vals := &s.col[j], &s.val[j]
	for g := 0; g < nGroups; g++ {
		if cg := int(cols[g]); cg >= 0 {
			for i := 0; i < P; i++ {
				out[i] += vals[g] * B[i*P+cg]
			}
		}
	}
	return out
}

// apply is φ_jᵀx for a P-vector x.
func (s *selector) apply(j int, x []float64) float64 {
	dd := s.model.dd()
	xs, f := s.parts(j)
	v := x[0] + dot(xs, x[1:1+nRaw]) + dot(f, x[1+nRaw:dd])
	cols, vals := &s.col[j], &s.val[j]
	for g := 0; g < nGroups; g++ {
		if cg := int(cols[g]); cg >= 0 {
			v += vals[g] * x[cg]
		}
	}
	return v
}

// measuredOn reports whether the model has any measurement on a device.
func (s *selector) measuredOn(hw string) bool { return s.model != nil && s.model.devRows[hw] > 0 }

// reduction is R_j under the current conditioning.
func (s *selector) reduction(j int) float64 {
	return math.Max(s.q[j], 0) / (s.noise2[j] + s.s[j])
}

// gain is R_j relative to the most informative candidate before any pick,
// so it lies in [0,1] and falls as a batch fills up.
func (s *selector) gain(j int) float64 {
	if s.r0max <= 0 {
		return 0
	}
	return clamp(s.reduction(j)/s.r0max, 0, 1)
}

// narrowShare is the share of a candidate's predictive variance a
// measurement must remove to count as narrowing it: its 80% interval then
// shrinks by at least 10%.
const narrowShare = 1 - 0.9*0.9

// condition updates the posterior as if candidate j had been measured (the
// variance update does not need the measured value) and returns how many
// candidates' intervals that measurement narrows by 10% or more.
func (s *selector) condition(j int) int {
	s.picked[j] = true
	u, a := s.times(s.sigma, j), s.times(s.M, j)
	den := s.noise2[j] + s.s[j]
	qj := s.q[j]
	n := len(s.rows)
	narrowed := make([]bool, n)
	_ = parallelChunks(context.Background(), n, func(_, _, lo, hi int) {
		for i := lo; i < hi; i++ {
			c := s.apply(i, u)
			if c == 0 {
				continue
			}
			e := s.apply(i, a)
			drop := c * c / den
			narrowed[i] = drop >= narrowShare*(s.noise2[i]+s.s[i])
			s.s[i] = math.Max(s.s[i]-drop, 0)
			s.q[i] += -2*c*e/den + qj*c*c/(den*den)
		}
	})
	P := s.P
	for r := 0; r < P; r++ {
		for c := 0; c < P; c++ {
			s.sigma[r*P+c] -= u[r] * u[c] / den
			s.M[r*P+c] += -(a[r]*u[c]+u[r]*a[c])/den + qj*u[r]*u[c]/(den*den)
		}
	}
	count := 0
	for _, v := range narrowed {
		if v {
			count++
		}
	}
	return count
}

// measuredFeatures holds the raw features of the measured rows for
// diversity, bucketed by the features that do not change with batch size
// (every feature but batchDims): a bucket keeps those once, and each of its
// rows only its batch features (every measured row in full held 23 MB with
// 100,000 measured configurations, issue 11).
type measuredFeatures struct {
	index   map[string]int
	buckets []*measuredBucket
	key     []byte
}

type measuredBucket struct {
	head  [nRaw]float64 // its first row
	batch []float64     // each row's batch features (batchDimIdx), row after row
}

// batchDimIdx lists batchDims.
var batchDimIdx = func() []int {
	var out []int
	for k, b := range batchDims {
		if b {
			out = append(out, k)
		}
	}
	return out
}()

// add appends a measured row's raw features.
func (mf *measuredFeatures) add(y []float64) {
	if mf.index == nil {
		mf.index = map[string]int{}
	}
	mf.key = mf.key[:0]
	for k, v := range y {
		if !batchDims[k] {
			mf.key = binary.LittleEndian.AppendUint64(mf.key, math.Float64bits(v))
		}
	}
	i, ok := mf.index[string(mf.key)]
	if !ok {
		i = len(mf.buckets)
		mf.index[string(mf.key)] = i
		bk := &measuredBucket{}
		copy(bk.head[:], y)
		mf.buckets = append(mf.buckets, bk)
	}
	bk := mf.buckets[i]
	for _, k := range batchDimIdx {
		bk.batch = append(bk.batch, y[k])
	}
}

// diversity is the distance of each given row to the nearest measured
// configuration in the raw feature space (batch and sizes log-scaled,
// categories one-hot), divided by the largest distance any candidate has,
// estimated over norm rows; 1 when nothing is measured. raw(i) is row i's
// raw features.
func diversity(raw func(int) []float64, rows, norm []int, measured *measuredFeatures) []float64 {
	out := make([]float64, len(rows))
	buckets := measured.buckets
	if len(buckets) == 0 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	// Exact nearest neighbours, fast: the distance on a bucket's features
	// alone bounds every row of the bucket from below, so most buckets are
	// skipped whole.
	dist2 := func(x, y []float64, skipBatch bool) float64 {
		d := 0.0
		for k := range x {
			if skipBatch && batchDims[k] {
				continue
			}
			t := x[k] - y[k]
			d += t * t
		}
		return d
	}
	lbs, ys := make([][]float64, runtime.GOMAXPROCS(0)), make([][nRaw]float64, runtime.GOMAXPROCS(0))
	for w := range lbs {
		lbs[w] = make([]float64, len(buckets))
	}
	nearest := func(w, r int) float64 {
		lb := lbs[w]
		x := raw(r)
		first := 0
		for i, bk := range buckets {
			if lb[i] = dist2(x, bk.head[:], true); lb[i] < lb[first] {
				first = i
			}
		}
		// The bucket nearest by its bound first, then every bucket whose
		// bound can still beat the best distance; a row is its bucket's
		// head with its own batch features.
		best := math.Inf(1)
		y := &ys[w]
		scan := func(i int) {
			bk := buckets[i]
			*y = bk.head
			for o := 0; o < len(bk.batch); o += len(batchDimIdx) {
				for c, k := range batchDimIdx {
					y[k] = bk.batch[o+c]
				}
				best = math.Min(best, dist2(x, y[:], false))
			}
		}
		scan(first)
		for i := range buckets {
			if i != first && lb[i] < best {
				scan(i)
			}
		}
		return math.Sqrt(best)
	}
	nd := make([]float64, len(norm))
	parallelRows(len(norm), func(w, i int) { nd[i] = nearest(w, norm[i]) })
	parallelRows(len(rows), func(w, i int) { out[i] = nearest(w, rows[i]) })
	maxD := 0.0
	for _, v := range nd {
		maxD = math.Max(maxD, v)
	}
	for i := range out {
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
	// Narrows and FirstOnHardware are as in Recommendation.
	Narrows         int
	FirstOnHardware bool
}

// SelectBatch picks k configurations to measure next by expected
// information gain alone, greedily and conditioned on earlier picks.
// Candidates that are measured or infeasible are skipped.
func (p *Predictor) SelectBatch(ctx context.Context, candidates []Config, metric Metric, k int) ([]ActiveChoice, error) {
	lb, err := p.predictLearn(ctx, candidates, metric)
	if err != nil {
		return nil, err
	}
	rows := make([]int, len(lb.openRows))
	for j := range rows {
		rows[j] = j
	}
	sel, err := newSelector(ctx, lb.open, rows)
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
		r := lb.openRows[best]
		cfg := lb.cfgs[r]
		first := !sel.measuredOn(cfg.Hardware)
		for _, c := range out {
			first = first && c.Hardware != cfg.Hardware
		}
		ch := ActiveChoice{Config: cfg, InformationGain: sel.gain(best), Uncertainty: lb.rows[r].uncertainty, FirstOnHardware: first}
		ch.Narrows = sel.condition(best)
		out = append(out, ch)
	}
	return out, nil
}
