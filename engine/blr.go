package engine

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	gonumlapack "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// blr is Bayesian linear regression over a dense block (bias, raw features,
// random Fourier features of a sum of RBF kernels at a few fixed
// lengthscales: a Gaussian-process approximation whose cost is linear in
// the number of points) and sparse random effects (engine/features.go). Its
// posterior covariance is the epistemic uncertainty the active learner
// conditions on.
//
// Columns: 0 bias, 1..nRaw raw features, then nRFF Fourier features (the
// dense block, dd() wide), then one column per random-effect level seen in
// training. A level never seen keeps its prior: mean 0, variance τ²_group,
// independent of everything else, so it needs no column.
type blr struct {
	omega []float64 // nRFF × nRaw frequencies, each scale's divided by its lengthscale
	phase []float64
	hp    hyper
	seed  uint64

	lev      map[levelKey]int // level → column (≥ dd())
	levGroup []int            // group of each level column, by column − dd()
	mean     []float64        // posterior mean, P
	cov      []float64        // posterior covariance, P×P row-major (full)
	n        int
	lml      float64
	// kappa inflates the noise variance per device (hardware id): its
	// leave-one-out residuals relative to the pooled noise, shrunk to the
	// pool (kappaPool, used for devices without data).
	kappa     map[string]float64
	kappaPool float64
	// devRows counts training rows per device; calib scales the predictive
	// variance of a device by its count (engine/calibrate.go).
	devRows map[string]int
	calib   *calibration
	// order is the column order the precision is factored in (arrowOrder).
	order *arrow
}

type levelKey struct {
	group int
	key   string
}

// The kernel over configuration-level features is a sum of RBF kernels at
// fixed lengthscales (raw feature units), each with its own amplitude
// learned by marginal likelihood: the data weighs the scales, so no
// lengthscale search is needed (a search over lengthscales redoes the
// features and their statistics per candidate).
const (
	nScales     = 2
	rffPerScale = 32
	nRFF        = nScales * rffPerScale
)

var rffScales = [nScales]float64{0.7, 2}

// Prior-variance groups: every column but the bias belongs to one, and
// each group's variance is a hyperparameter.
const (
	vLin = iota // raw-feature weights
	vRBF        // nScales RBF amplitudes
	vRE  = vRBF + nScales
	nVar = vRE + nGroups
)

// hyper are the prior hyperparameters, chosen by marginal likelihood.
type hyper struct {
	noise float64       // std of log residual noise
	v     [nVar]float64 // prior variance per group
}

// re is the prior variance of a random-effect group.
func (h hyper) re(g int) float64 { return h.v[vRE+g] }

const biasVar = 0.25

var defaultHyper = func() hyper {
	h := hyper{noise: 0.1}
	h.v[vLin] = 0.03
	for s := 0; s < nScales; s++ {
		h.v[vRBF+s] = 0.1
	}
	for g, v := range [nGroups]float64{reHardware: 0.04, reFamily: 0.04, reVendor: 0.04, reModel: 0.1,
		reHWPrecision: 0.01, reHWBatch: 0.01, reHWPhase: 0.04, reHWDecode: 0.04, reHWSplit: 0.25, reHWSync: 0.25, reBox: 0.1} {
		h.v[vRE+g] = v
	}
	return h
}()

// hyperSD is the hyperprior's standard deviation of log variance per
// group: a weak log-normal prior around the defaults, one e-fold of
// standard deviation (two of variance), two for the random-effect
// variances — how much devices differ from the spec regression is what the
// data must tell. With many points the likelihood dominates; with a handful
// it keeps the fit from explaining everything as noise.
func hyperSD(vg int) float64 {
	if vg >= vRE {
		return 4
	}
	return 2
}

// noiseSD is the same for the noise variance.
const noiseSD = 2.0

// logPrior is the log hyperprior density (up to a constant).
func (h hyper) logPrior() float64 {
	lp := 0.0
	add := func(v, d, sd float64) {
		z := math.Log(v/d) / sd
		lp -= 0.5 * z * z
	}
	add(h.noise*h.noise, defaultHyper.noise*defaultHyper.noise, noiseSD)
	for g := range h.v {
		add(h.v[g], defaultHyper.v[g], hyperSD(g))
	}
	return lp
}

func newBLR(seed uint64) *blr {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	b := &blr{omega: orthogonalFrequencies(rng), phase: make([]float64, nRFF), seed: seed}
	for i := range b.phase {
		b.phase[i] = rng.Float64() * 2 * math.Pi
	}
	b.hp = defaultHyper
	b.lev = map[levelKey]int{}
	b.kappa = map[string]float64{}
	b.kappaPool = 1
	return b
}

// orthogonalFrequencies draws the Fourier frequencies over the
// configuration-level raw features (device-level ones stay 0, see
// deviceLevel): orthogonal random features — Gaussian blocks made
// orthogonal, rows rescaled to chi-distributed norms — which approximate
// the RBF kernel with less variance than independent draws, so the fit
// moves less with the seed.
func orthogonalFrequencies(rng *rand.Rand) []float64 {
	var active []int
	for k := 0; k < nRaw; k++ {
		if !deviceLevel[k] {
			active = append(active, k)
		}
	}
	dA := len(active)
	omega := make([]float64, nRFF*nRaw)
	g := mat.NewDense(dA, dA, nil)
	var qr mat.QR
	var q mat.Dense
	for s := 0; s < nScales; s++ {
		for lo := 0; lo < rffPerScale; lo += dA {
			for i := 0; i < dA; i++ {
				for j := 0; j < dA; j++ {
					g.Set(i, j, rng.NormFloat64())
				}
			}
			qr.Factorize(g)
			qr.QTo(&q)
			for i := 0; i < min(dA, rffPerScale-lo); i++ {
				norm := 0.0
				for j := 0; j < dA; j++ {
					v := rng.NormFloat64()
					norm += v * v
				}
				row := omega[(s*rffPerScale+lo+i)*nRaw:]
				for j, k := range active {
					row[k] = q.At(i, j) * math.Sqrt(norm) / rffScales[s]
				}
			}
		}
	}
	return omega
}

// dd is the width of the dense block.
func (b *blr) dd() int { return 1 + nRaw + nRFF }

// dim is the number of weights with a posterior (dense + seen levels).
func (b *blr) dim() int { return b.dd() + len(b.levGroup) }

// varGroup is the prior-variance group of column c (−1: the bias).
func (b *blr) varGroup(c int) int {
	switch {
	case c == 0:
		return -1
	case c <= nRaw:
		return vLin
	case c < b.dd():
		return vRBF + (c-1-nRaw)/rffPerScale
	default:
		return vRE + b.levGroup[c-b.dd()]
	}
}

// trainSet is what a model is fitted on: raw features, levels and targets
// per measured configuration.
type trainSet struct {
	x   []float64 // n × nRaw
	lev []levels
	y   []float64
}

// trainRows is the training set of rows (ascending) of xs and ls, with
// targets y: xs and ls themselves when every row is in (typically every
// result has a memory, and a latency unless it is a whole request), else a
// compact copy. The fit only reads them, so both models may share them.
func trainRows(xs []float64, ls []levels, rows []int, y []float64) *trainSet {
	if len(rows) == len(ls) {
		return &trainSet{x: xs, lev: ls, y: y}
	}
	ts := &trainSet{x: make([]float64, 0, len(rows)*nRaw), lev: make([]levels, 0, len(rows)), y: y}
	for _, i := range rows {
		ts.x = append(ts.x, xs[i*nRaw:(i+1)*nRaw]...)
		ts.lev = append(ts.lev, ls[i])
	}
	return ts
}

func (ts *trainSet) add(x []float64, l levels, y float64) {
	ts.x = append(ts.x, x...)
	ts.lev = append(ts.lev, l)
	ts.y = append(ts.y, y)
}

// design is a set of rows ready for the model: raw features and the level
// columns (−1: no column).
type design struct {
	n   int
	x   []float64
	col [][nGroups]int32
	lev []levels // the level values are lev[i].val
	// rff holds the random Fourier features of the rows that have a
	// position in rffAt (−1, or rffAt nil: computed when needed), so the
	// passes of a fit over the same rows, and the selector after a
	// prediction, compute x·ωᵀ and its cosines once (cacheRFF). The rest
	// of a dense block is the bias and x itself.
	rff   []float64
	rffAt []int32
}

// newDesign resolves rows' level columns against colOf (levels without a
// column keep their prior).
func (b *blr) newDesign(x []float64, lev []levels, colOf map[levelKey]int) *design {
	return b.redesign(&design{}, x, lev, colOf)
}

// redesign is newDesign on d's memory (its level columns and random
// features, not cached until cacheRFF), which it overwrites: predictAll
// predicts chunk after chunk into the same designs (issue 11).
func (b *blr) redesign(d *design, x []float64, lev []levels, colOf map[levelKey]int) *design {
	n := len(lev)
	if cap(d.col) < n {
		d.col = make([][nGroups]int32, n)
	}
	*d = design{n: n, x: x, col: d.col[:n], lev: lev, rff: d.rff[:0]}
	memo := make([]colMemo, runtime.GOMAXPROCS(0))
	parallelRows(n, func(w, i int) { memo[w].resolve(&d.col[i], &lev[i], colOf) })
	return d
}

// parallelRows runs f(w, i) for every i in [0,n) on all cores, worker w
// taking every w-th block of 64: for loops too short or too cheap per row
// for parallelChunks. What f computes for i must depend on i only.
func parallelRows(n int, f func(w, i int)) {
	const block = 64
	nw := max(1, min(runtime.GOMAXPROCS(0), (n+block-1)/block))
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := w * block; lo < n; lo += nw * block {
				for i := lo; i < min(lo+block, n); i++ {
					f(w, i)
				}
			}
		}()
	}
	wg.Wait()
}

// colMemo remembers the columns of the last level keys one worker
// resolved: consecutive rows mostly share their levels (a device's
// configurations share the same key strings), so most rows skip hashing
// their keys into the column map.
type colMemo struct {
	key [nGroups]string
	col [nGroups]int32
}

// resolve sets a row's level columns (−1: none).
func (m *colMemo) resolve(col *[nGroups]int32, l *levels, colOf map[levelKey]int) {
	for g := 0; g < nGroups; g++ {
		k := l.key[g]
		switch {
		case k == "":
			col[g] = -1
		case k == m.key[g]:
			col[g] = m.col[g]
		default:
			col[g] = -1
			if c, ok := colOf[levelKey{g, k}]; ok {
				col[g] = int32(c)
			}
			m.key[g], m.col[g] = k, col[g]
		}
	}
}

// cacheRFF computes and keeps the random Fourier features of design rows
// (all when rows is nil), with room for spare more rows' (appended later
// without copying the rest), in the memory d has for them when it is enough.
func (b *blr) cacheRFF(ctx context.Context, d *design, rows []int, spare int) error {
	n, dd := d.n, b.dd()
	if rows != nil {
		n = len(rows)
	}
	rff := slices.Grow(d.rff[:0], (n+spare)*nRFF)[:n*nRFF]
	bufs := scratch(n, chunkRows*dd)
	defer release(bufs)
	err := parallelChunks(ctx, n, func(wk, _, lo, hi int) {
		buf := bufs[wk]
		b.denseBlock(buf, d, rowRange(rows, lo, hi))
		for k := lo; k < hi; k++ {
			copy(rff[k*nRFF:(k+1)*nRFF], buf[(k-lo)*dd+1+nRaw:(k-lo+1)*dd])
		}
	})
	if err != nil {
		return err
	}
	at := make([]int32, d.n)
	if rows == nil {
		for i := range at {
			at[i] = int32(i)
		}
	} else {
		for i := range at {
			at[i] = -1
		}
		for k, i := range rows {
			at[i] = int32(k)
		}
	}
	d.rff, d.rffAt = rff, at
	return nil
}

// rowRange is rows[lo:hi], or lo..hi−1 when rows is nil (all rows).
func rowRange(rows []int, lo, hi int) []int {
	if rows != nil {
		return rows[lo:hi]
	}
	idx := make([]int, hi-lo)
	for k := range idx {
		idx[k] = lo + k
	}
	return idx
}

// denseBlock writes the dense blocks of design rows idx into dst (row k
// for idx[k]): the projections onto the frequencies are one matrix product.
func (b *blr) denseBlock(dst []float64, d *design, idx []int) {
	dd := b.dd()
	m := len(idx)
	if d.rffAt != nil && !slices.ContainsFunc(idx, func(i int) bool { return d.rffAt[i] < 0 }) {
		for k, i := range idx {
			row := dst[k*dd : (k+1)*dd]
			row[0] = 1
			copy(row[1:1+nRaw], d.x[i*nRaw:(i+1)*nRaw])
			c := int(d.rffAt[i])
			copy(row[1+nRaw:], d.rff[c*nRFF:(c+1)*nRFF])
		}
		return
	}
	for k, i := range idx {
		row := dst[k*dd : (k+1)*dd]
		row[0] = 1
		copy(row[1:1+nRaw], d.x[i*nRaw:(i+1)*nRaw])
	}
	// x·ωᵀ lands in the Fourier part of each row, then becomes its cosine.
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, blas64.General{Rows: m, Cols: nRaw, Stride: dd, Data: dst[1:]},
		blas64.General{Rows: nRFF, Cols: nRaw, Stride: nRaw, Data: b.omega},
		0, blas64.General{Rows: m, Cols: nRFF, Stride: dd, Data: dst[1+nRaw:]})
	s := math.Sqrt(2 / float64(rffPerScale))
	for k := 0; k < m; k++ {
		out := dst[k*dd+1+nRaw : (k+1)*dd]
		for j, v := range out {
			out[j] = s * math.Cos(v+b.phase[j])
		}
	}
}

// chunkRows is the fixed row block of every parallel loop: results never
// depend on the number of cores, because each block is computed by one
// goroutine and blocks are combined in order.
const chunkRows = 1024

// parallelChunks runs f over [0,n) in blocks of chunkRows on all cores; w
// is the worker (for scratch buffers: what a block computes must not depend
// on it).
func parallelChunks(ctx context.Context, n int, f func(w, c, lo, hi int)) error {
	nc := (n + chunkRows - 1) / chunkRows
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers(n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1)) - 1
				if c >= nc || ctx.Err() != nil {
					return
				}
				f(w, c, c*chunkRows, min((c+1)*chunkRows, n))
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// workers is how many goroutines parallelChunks runs for n rows.
func workers(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), (n+chunkRows-1)/chunkRows))
}

// scratch returns one buffer of size per worker, with arbitrary contents
// (every user overwrites or clears what it reads). Buffers come from
// scratchPool when release gave some back: fresh memory is slow on a
// loaded machine (first-touch page faults) and every parallel loop needs
// a few of these.
func scratch(n, size int) [][]float64 {
	out := make([][]float64, workers(n))
	for i := range out {
		out[i] = getBuf(size)
	}
	return out
}

var scratchPool sync.Pool // of *[]float64

// getBuf returns a buffer of size float64s from scratchPool (contents
// undefined) or a new one.
func getBuf(size int) []float64 {
	if p, ok := scratchPool.Get().(*[]float64); ok && cap(*p) >= size {
		return (*p)[:size]
	}
	return make([]float64, size)
}

// zeroBuf is getBuf cleared.
func zeroBuf(size int) []float64 {
	b := getBuf(size)
	clear(b)
	return b
}

// putBuf gives a buffer no longer referenced back for reuse.
func putBuf(buf []float64) { scratchPool.Put(&buf) }

// release gives scratch buffers back for reuse.
func release(bufs ...[][]float64) {
	for _, b := range bufs {
		for i := range b {
			putBuf(b[i])
		}
	}
}

// suff are sufficient statistics of a weighted fit: G = ΦᵀWΦ (upper
// triangle of P×P), r = ΦᵀWy, yy = yᵀWy, and Σ log w.
type suff struct {
	P    int
	G    []float64
	r    []float64
	yy   float64
	n    int
	logW float64
}

// gram accumulates the sufficient statistics over design rows (all when
// rows is nil) with weights w (nil: 1), in parallel blocks summed in block
// order.
func (b *blr) gram(ctx context.Context, d *design, rows []int, w, y []float64, P int) (*suff, error) {
	n := d.n
	if rows != nil {
		n = len(rows)
	}
	dd := b.dd()
	out := &suff{P: P, G: make([]float64, P*P), r: make([]float64, P), n: n}
	sum := newOrderedSum(n, func(s *suff) {
		for i := 0; i < P; i++ {
			floats.Add(out.G[i*P+i:(i+1)*P], s.G[i*P+i:(i+1)*P])
		}
		floats.Add(out.r, s.r)
		out.yy += s.yy
		out.logW += s.logW
	}, func() *suff { return &suff{P: P, G: zeroBuf(P * P), r: make([]float64, P)} },
		func(s *suff) { clear(s.G); clear(s.r); s.yy, s.logW = 0, 0 })
	bufs, cross := scratch(n, chunkRows*dd), scratch(n, (P-dd)*dd)
	defer release(bufs, cross)
	defer sum.recycle(func(s *suff) { putBuf(s.G) })
	err := parallelChunks(ctx, n, func(wk, c, lo, hi int) {
		s := sum.part()
		buf := bufs[wk][:(hi-lo)*dd]
		b.denseBlock(buf, d, rowRange(rows, lo, hi))
		// Level × dense products go to X (level-major, contiguous) and are
		// transposed into G once per block.
		X := cross[wk]
		clear(X)
		for k := lo; k < hi; k++ {
			i := k
			if rows != nil {
				i = rows[k]
			}
			wi := 1.0
			if w != nil {
				wi = w[i]
			}
			phi := buf[(k-lo)*dd : (k-lo+1)*dd]
			s.yy += wi * y[i] * y[i]
			s.logW += math.Log(wi)
			floats.AddScaled(s.r[:dd], wi*y[i], phi)
			cols, vals := &d.col[i], &d.lev[i].val
			for g := 0; g < nGroups; g++ {
				cg := int(cols[g])
				if cg < 0 {
					continue
				}
				f := wi * vals[g]
				s.r[cg] += f * y[i]
				floats.AddScaled(X[(cg-dd)*dd:(cg-dd+1)*dd], f, phi)
				for h := g; h < nGroups; h++ {
					ch := int(cols[h])
					if ch < 0 {
						continue
					}
					a, bb := min(cg, ch), max(cg, ch)
					s.G[a*P+bb] += f * vals[h]
				}
			}
			if wi != 1 {
				floats.Scale(math.Sqrt(wi), phi)
			}
		}
		for l := 0; l < P-dd; l++ {
			for j, v := range X[l*dd : (l+1)*dd] {
				s.G[j*P+dd+l] += v
			}
		}
		blas64.Syrk(blas.Trans, 1, blas64.General{Rows: hi - lo, Cols: dd, Stride: dd, Data: buf}, 0,
			blas64.Symmetric{N: dd, Stride: P, Data: s.G, Uplo: blas.Upper})
		sum.add(c, s)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// orderedSum adds the parts of a parallel loop over chunks in chunk order
// (so the sum never depends on the number of cores) as soon as the parts
// before them are in, holding only the parts that came early. Parts are
// recycled once added: a loop allocates about one per core, not one per
// chunk.
type orderedSum[T any] struct {
	mu    sync.Mutex
	parts []*T
	free  []*T
	next  int
	add1  func(*T)
	fresh func() *T
	reset func(*T)
}

// newOrderedSum sums n rows' chunks with add; fresh makes a zero part and
// reset zeroes a used one.
func newOrderedSum[T any](n int, add func(*T), fresh func() *T, reset func(*T)) *orderedSum[T] {
	return &orderedSum[T]{parts: make([]*T, (n+chunkRows-1)/chunkRows), add1: add, fresh: fresh, reset: reset}
}

// part returns a zero part for a chunk.
func (o *orderedSum[T]) part() *T {
	o.mu.Lock()
	k := len(o.free)
	if k == 0 {
		o.mu.Unlock()
		return o.fresh()
	}
	p := o.free[k-1]
	o.free = o.free[:k-1]
	o.mu.Unlock()
	o.reset(p)
	return p
}

// recycle hands the parts back (to put) once the loop is over.
func (o *orderedSum[T]) recycle(put func(*T)) {
	for _, p := range o.free {
		put(p)
	}
	o.free = nil
}

func (o *orderedSum[T]) add(c int, part *T) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.parts[c] = part
	for o.next < len(o.parts) && o.parts[o.next] != nil {
		o.add1(o.parts[o.next])
		o.free = append(o.free, o.parts[o.next])
		o.parts[o.next] = nil
		o.next++
	}
}

// priorVar is the prior variance of every weight with a column.
func (b *blr) priorVar(hp hyper) []float64 {
	pv := make([]float64, b.dim())
	pv[0] = biasVar
	for c := 1; c < len(pv); c++ {
		pv[c] = hp.v[b.varGroup(c)]
	}
	return pv
}

// posterior factorizes A = G/σ² + Λ⁻¹ in the arrow order (Cholesky,
// upper, into A when given, else a P×P matrix from the scratch pool,
// which invertChol gives back; only its upper triangle is written) and returns it with the posterior mean (in column order) and
// the log marginal likelihood.
func (b *blr) posterior(s *suff, pv []float64, hp hyper, A []float64) ([]float64, []float64, float64, error) {
	P := s.P
	o := b.arrowFor(P)
	s2 := hp.noise * hp.noise
	if A == nil {
		A = getBuf(P * P)
	}
	for i := 0; i < P; i++ {
		pi := o.pos[i]
		for j, g := range s.G[i*P+i : (i+1)*P] {
			if pj := o.pos[i+j]; pi <= pj {
				A[pi*P+pj] = g / s2
			} else {
				A[pj*P+pi] = g / s2
			}
		}
		A[pi*P+pi] += 1 / pv[i]
	}
	if _, ok := lapack64.Potrf(blas64.Symmetric{N: P, Stride: P, Data: A, Uplo: blas.Upper}); !ok {
		return nil, nil, 0, errors.New("posterior precision is not positive definite")
	}
	bv := make([]float64, P)
	for i := range bv {
		bv[o.pos[i]] = s.r[i] / s2
	}
	mp := blas64.Vector{N: P, Inc: 1, Data: append([]float64(nil), bv...)}
	U := blas64.Triangular{N: P, Stride: P, Data: A, Uplo: blas.Upper, Diag: blas.NonUnit}
	blas64.Trsv(blas.Trans, U, mp)
	blas64.Trsv(blas.NoTrans, U, mp)
	m := make([]float64, P)
	logDetA, logDetPrior, quad := 0.0, 0.0, 0.0
	for i := 0; i < P; i++ {
		logDetA += 2 * math.Log(A[i*P+i])
		logDetPrior += math.Log(pv[i])
		quad += bv[i] * mp.Data[i]
		m[i] = mp.Data[o.pos[i]]
	}
	lml := -0.5 * (float64(s.n)*math.Log(2*math.Pi*s2) - s.logW + logDetPrior + logDetA + s.yy/s2 - quad)
	return A, m, lml, nil
}

// arrow is an order of the P columns in which the precision's leading
// nB×nB block is block diagonal (blocks ending at ends), so the Cholesky
// factor's is too: U = [[U_B, W], [0, U_S]], and U⁻¹ = [[U_B⁻¹,
// −U_B⁻¹WU_S⁻¹], [0, U_S⁻¹]] costs the trailing block's inverse and one
// triangular product instead of a full inversion.
type arrow struct {
	perm []int // position → column
	pos  []int // column → position
	ends []int // end of each diagonal block, ascending; the last is nB
}

// arrowOrder puts first the level columns nested in one device (all their
// rows have that device: its own level and its per-device effects), device
// by device, then the dense block and the other levels. Two devices'
// nested levels never share a row, so they never meet in G.
func (b *blr) arrowOrder(d *design) *arrow {
	P, dd := b.dim(), b.dd()
	// The device column of each level's rows: −1 none yet, −2 several.
	dev := make([]int, P-dd)
	for l := range dev {
		dev[l] = -1
	}
	for i := range d.col {
		h := int(d.col[i][reHardware])
		if h < 0 {
			h = -2
		}
		for _, c := range d.col[i] {
			if c < 0 {
				continue
			}
			switch l := int(c) - dd; dev[l] {
			case -1:
				dev[l] = h
			case h:
			default:
				dev[l] = -2
			}
		}
	}
	o := &arrow{pos: make([]int, P)}
	for h := dd; h < P; h++ {
		if dev[h-dd] != h {
			continue
		}
		for l, dl := range dev {
			if dl == h {
				o.perm = append(o.perm, dd+l)
			}
		}
		o.ends = append(o.ends, len(o.perm))
	}
	for c := 0; c < P; c++ {
		if c < dd || dev[c-dd] < 0 {
			o.perm = append(o.perm, c)
		}
	}
	for q, c := range o.perm {
		o.pos[c] = q
	}
	return o
}

// arrowFor is the model's arrow order for P columns, or the column order
// (no blocks) when it has none for them.
func (b *blr) arrowFor(P int) *arrow {
	if b.order != nil && len(b.order.perm) == P {
		return b.order
	}
	o := &arrow{perm: make([]int, P), pos: make([]int, P)}
	for c := range o.perm {
		o.perm[c], o.pos[c] = c, c
	}
	return o
}

// invFactor inverts an upper triangular factor U in this order, in place;
// the blocks are used only when U has them (zeros off the blocks).
func (o *arrow) invFactor(U []float64, P int) bool {
	tri := func(n, at int) blas64.Triangular {
		return blas64.Triangular{N: n, Stride: P, Data: U[at*P+at:], Uplo: blas.Upper, Diag: blas.NonUnit}
	}
	nB := 0
	if k := len(o.ends); k > 0 {
		nB = o.ends[k-1]
	}
	lo := 0
	for _, hi := range o.ends {
		for r := lo; r < hi; r++ {
			for _, v := range U[r*P+hi : r*P+nB] {
				if v != 0 {
					return lapack64.Trtri(tri(P, 0))
				}
			}
		}
		lo = hi
	}
	nS := P - nB
	if !lapack64.Trtri(tri(nS, nB)) {
		return false
	}
	lo = 0
	for _, hi := range o.ends {
		if !lapack64.Trtri(tri(hi-lo, lo)) {
			return false
		}
		blas64.Trmm(blas.Left, blas.NoTrans, 1, tri(hi-lo, lo), blas64.General{Rows: hi - lo, Cols: nS, Stride: P, Data: U[lo*P+nB:]})
		lo = hi
	}
	blas64.Trmm(blas.Right, blas.NoTrans, -1, tri(nS, nB), blas64.General{Rows: nB, Cols: nS, Stride: P, Data: U[nB:]})
	return true
}

// invertChol turns the Cholesky factor of the precision (from posterior)
// into Σ (full, column order).
func (b *blr) invertChol(A []float64, P int) []float64 {
	b.arrowFor(P).invFactor(A, P)
	return b.covFromInv(A, P)
}

// covFromInv turns the inverse U⁻¹ of the precision's Cholesky factor
// (upper triangle of A, arrow order) into Σ = U⁻¹U⁻ᵀ (full, column order),
// in a new matrix; A is given back to the scratch pool.
func (b *blr) covFromInv(A []float64, P int) []float64 {
	lapackImpl.Dlauum(blas.Upper, P, A, P)
	o := b.arrowFor(P)
	S := getBuf(P * P)
	for i := 0; i < P; i++ {
		pi := o.pos[i]
		for j := i; j < P; j++ {
			pj := o.pos[j]
			v := A[min(pi, pj)*P+max(pi, pj)]
			S[i*P+j], S[j*P+i] = v, v
		}
	}
	putBuf(A)
	return S
}

// lapackImpl is gonum's LAPACK, for the routines lapack64 does not wrap.
var lapackImpl gonumlapack.Implementation

// halfUpper returns the upper triangle of the leading k×k block of a
// symmetric matrix (stride P) with its diagonal halved: xᵀBx = 2·xᵀUx for
// any x, and a triangular product computes that in half the flops of a
// full one (triRows).
func halfUpper(B []float64, P, k int) []float64 {
	U := make([]float64, k*k)
	for i := 0; i < k; i++ {
		copy(U[i*k+i:(i+1)*k], B[i*P+i:i*P+k])
		U[i*k+i] /= 2
	}
	return U
}

// triRows sets T = XUᵀ for the m rows of X (k wide) and U from halfUpper,
// so that row r's xᵀBx is 2·dot(x_r, T_r).
func triRows(T, X, U []float64, m, k int) {
	copy(T[:m*k], X[:m*k])
	blas64.Trmm(blas.Right, blas.Trans, 1, blas64.Triangular{N: k, Stride: k, Data: U, Uplo: blas.Upper, Diag: blas.NonUnit},
		blas64.General{Rows: m, Cols: k, Stride: k, Data: T})
}
