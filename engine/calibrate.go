package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// Calibration for devices with few measurements. The posterior is exact
// for the model, but a new device's configurations differ from the training
// devices' in ways the model cannot know from specs alone, and its first
// measurements fix its offset better than its shape. So the predictor
// measures, on its own training data, how its intervals fare on a device it
// has seen only k times: for each training device, all of its rows but k
// (chosen at random) are removed from the posterior in closed form (block
// leave-out: with H = Φ_B Σ Φ_Bᵀ and D the rows' noise, the held-out
// residuals are D(D−H)⁻¹r and their epistemic covariance H(D−H)⁻¹D). The
// 80% quantile of the removed rows' |standardized residual| (each device
// weighing the same), over the normal's 1.2816, squared, is the variance
// factor c_k: it makes the 80% interval, the one perfpilot reports, hold
// on devices like the training ones, whatever the tails. Predictions on a device with m measurements scale
// their predictive variance by c(m), interpolated between the anchors k.
var calibAnchors = []int{0, 1, 3, 10}

const (
	// calibMinDevices is how many devices with enough rows an anchor needs;
	// with fewer the factor stays 1 (nothing to learn it from).
	calibMinDevices = 3
	// calibMaxBlock caps the rows removed at once (the block solve is
	// cubic); calibMaxRows the rows of all devices held out (as many as
	// eight devices of calibMaxBlock).
	calibMaxBlock = 400
	calibMaxRows  = 8 * calibMaxBlock
)

// Calibration strata: a forward pass, a prefill and a decode step on one
// GPU or several. The model's errors differ in kind between them (a decode
// step streams weights, a prefill runs matrix units whose sustained share of
// peak varies more between devices, several GPUs add the machine's links),
// so one factor for all would leave some intervals too wide and others too
// narrow; each stratum is calibrated on its own rows.
const nStrata = 6

// stratumOf is a configuration's calibration stratum (a whole request
// counts as its decode steps, which dominate it).
func stratumOf(cfg Config) uint8 {
	s := uint8(0)
	switch cfg.Phase {
	case Prefill:
		s = 2
	case Decode, Generate:
		s = 4
	}
	if cfg.GPUs() > 1 {
		s++
	}
	return s
}

// calibration maps a device's measurement count to a variance factor per
// stratum.
type calibration struct {
	k []int              // anchors with data, ascending
	c [nStrata][]float64 // factor per stratum and anchor
}

// varFactor is the calibration factor for a prediction with levels l.
func (b *blr) varFactor(l *levels) float64 {
	return b.calib.factor(b.devRows[l.key[reHardware]], int(l.stratum))
}

// factor is c(m) of stratum s: log-linear in log(1+m) between anchors;
// beyond the last anchor it decays towards 1 as the device's own data takes
// over.
func (cb *calibration) factor(m, s int) float64 {
	if cb == nil || len(cb.k) == 0 {
		return 1
	}
	c := cb.c[s]
	x := math.Log1p(float64(m))
	last := len(cb.k) - 1
	if m >= cb.k[last] {
		K := float64(cb.k[last])
		return math.Exp(math.Log(c[last]) * (1 + K) / (1 + float64(m)))
	}
	if m <= cb.k[0] {
		return c[0]
	}
	i := sort.SearchInts(cb.k, m)
	if cb.k[i] == m {
		return c[i]
	}
	x0, x1 := math.Log1p(float64(cb.k[i-1])), math.Log1p(float64(cb.k[i]))
	t := (x - x0) / (x1 - x0)
	return math.Exp((1-t)*math.Log(c[i-1]) + t*math.Log(c[i]))
}

// calibrate runs the leave-device-out experiments on the rows the current
// posterior was fitted on.
func (b *blr) calibrate(ctx context.Context, d *design, rows []int, w, y []float64) (*calibration, error) {
	byDev := map[string][]int{}
	var devs []string
	for _, i := range rows {
		hw := d.lev[i].key[reHardware]
		if byDev[hw] == nil {
			devs = append(devs, hw)
		}
		byDev[hw] = append(byDev[hw], i)
	}
	sort.Strings(devs)
	maxRows := calibMaxBlock + calibAnchors[len(calibAnchors)-1]
	size := func(hw string) int {
		if n := len(byDev[hw]); n <= maxRows {
			return n
		}
		return 0 // too many rows to hold out: skipped below
	}
	devs = pickCalibDevices(devs, size, func(hw string) (s [nStrata]bool) {
		for _, i := range byDev[hw] {
			s[d.lev[i].stratum] = true
		}
		return s
	})
	rng := rand.New(rand.NewPCG(b.seed, 0xca1b))
	// |z| and its weight (each device weighs the same in a stratum), per
	// anchor and stratum; the pooled sample (all strata) is the last.
	type acc struct {
		z, w []float64
		nd   int
	}
	accs := make([][nStrata + 1]acc, len(calibAnchors))
	// Each device's random order, drawn in device order (deterministic);
	// the devices' held-out residuals, computed at once.
	var jobs []calibJob
	for _, hw := range devs {
		dev := byDev[hw]
		if len(dev) > maxRows {
			continue
		}
		order := rng.Perm(len(dev))
		// The held-out sets order[k:] are nested; listed as order reversed,
		// each is a leading block of the largest, so one factorisation
		// serves every anchor (see heldOutNested).
		var sizes []int
		for _, k := range calibAnchors {
			// Enough rows left to score, and a block the solve can take.
			if n := len(dev) - k; n >= 3 && n <= calibMaxBlock {
				sizes = append(sizes, n)
			}
		}
		if len(sizes) == 0 {
			continue
		}
		held := slices.Clone(order[len(dev)-sizes[0]:])
		slices.Reverse(held)
		jobs = append(jobs, calibJob{dev: dev, held: held, sizes: sizes})
	}
	if err := b.runCalibJobs(ctx, d, jobs, w, y); err != nil {
		return nil, err
	}
	for _, job := range jobs {
		dev, held, sizes, z2s := job.dev, job.held, job.sizes, job.z2
		for ai, k := range calibAnchors {
			n := len(dev) - k
			j := slices.Index(sizes, n)
			if j < 0 || z2s[j] == nil {
				continue
			}
			// Accumulate in row order (as listed in dev).
			pos := slices.Clone(held[:n])
			z2 := make([]float64, len(dev))
			for r, p := range pos {
				z2[p] = z2s[j][r]
			}
			sort.Ints(pos)
			var per [nStrata + 1]int
			for _, p := range pos {
				per[d.lev[dev[p]].stratum]++
			}
			per[nStrata] = len(pos)
			for _, p := range pos {
				for _, s := range []int{int(d.lev[dev[p]].stratum), nStrata} {
					accs[ai][s].z = append(accs[ai][s].z, math.Sqrt(z2[p]))
					accs[ai][s].w = append(accs[ai][s].w, 1/float64(per[s]))
				}
			}
			for s, n := range per {
				if n > 0 {
					accs[ai][s].nd++
				}
			}
		}
	}
	q := func(a acc) float64 {
		v := weightedQuantile(a.z, a.w, 0.8) / Z80
		return clamp(v*v, 0.25, 9)
	}
	cb := &calibration{}
	for ai, k := range calibAnchors {
		pool := accs[ai][nStrata]
		if pool.nd < calibMinDevices {
			continue
		}
		cb.k = append(cb.k, k)
		// A stratum's factor from a few devices is noisy: it is shrunk
		// towards the pooled one (in log), which counts as calibMinDevices
		// devices.
		cp := q(pool)
		for s := 0; s < nStrata; s++ {
			c, n := cp, float64(accs[ai][s].nd)
			if n > 0 {
				c = math.Exp((n*math.Log(q(accs[ai][s])) + calibMinDevices*math.Log(cp)) / (n + calibMinDevices))
			}
			cb.c[s] = append(cb.c[s], c)
		}
	}
	return cb, nil
}

// calibJob is one device's leave-out: its rows, the positions held out
// for the largest block (in factor order), the block sizes and, once run,
// the squared standardized residuals per size.
type calibJob struct {
	dev, held []int
	sizes     []int
	z2        [][]float64
}

// runCalibJobs fills the jobs' residuals, a device per core at a time (the
// latency and memory fits run side by side, but the other often finishes
// first and leaves its core idle).
func (b *blr) runCalibJobs(ctx context.Context, d *design, jobs []calibJob, w, y []float64) error {
	if len(jobs) == 0 {
		return nil
	}
	L := b.denseCovFactor()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1)) - 1
				if j >= len(jobs) || ctx.Err() != nil {
					return
				}
				job := &jobs[j]
				job.z2 = b.heldOutNested(b.blockStats(d, job.dev, y, L), job.held, job.sizes, w)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// pickCalibDevices bounds the cost — cubic in each device's rows, each
// at most calibMaxBlock — to calibMaxRows rows in all: devices (sorted) are
// taken in an even, deterministic order, but first up to calibMinDevices of
// every stratum present, so that a stratum few devices have (several GPUs,
// say) is still calibrated on its own rows.
func pickCalibDevices(devs []string, rows func(string) int, strata func(string) [nStrata]bool) []string {
	total := 0
	for _, hw := range devs {
		total += rows(hw)
	}
	if total <= calibMaxRows {
		return devs
	}
	// The even order: halving strides over the sorted list (0, n/2, n/4,
	// 3n/4, …), so any prefix spreads over it.
	var order []string
	taken := map[string]bool{}
	for step := len(devs); step >= 1; step /= 2 {
		for i := 0; i < len(devs); i += step {
			if !taken[devs[i]] {
				order, taken[devs[i]] = append(order, devs[i]), true
			}
		}
	}
	picked := map[string]bool{}
	var out []string
	used := 0
	add := func(hw string) bool {
		if picked[hw] || used+rows(hw) > calibMaxRows {
			return false
		}
		picked[hw], used = true, used+rows(hw)
		out = append(out, hw)
		return true
	}
	for s := 0; s < nStrata; s++ {
		n := 0
		for _, hw := range order {
			if n < calibMinDevices && strata(hw)[s] && add(hw) {
				n++
			}
		}
	}
	for _, hw := range order {
		add(hw)
	}
	sort.Strings(out)
	return out
}

// weightedQuantile is the q-quantile of values with weights.
func weightedQuantile(v, w []float64, q float64) float64 {
	idx := make([]int, len(v))
	total := 0.0
	for i := range idx {
		idx[i] = i
		total += w[i]
	}
	sort.Slice(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	acc := 0.0
	for _, i := range idx {
		acc += w[i]
		if acc >= q*total {
			return v[i]
		}
	}
	return v[idx[len(idx)-1]]
}

// blockOut removes rows from the posterior and returns their squared
// standardized residuals under the remaining data (noise at the pooled
// level: the device is treated as new).
func (b *blr) blockOut(d *design, block []int, w, y []float64) ([]float64, bool) {
	st := b.blockStats(d, block, y, b.denseCovFactor())
	all := make([]int, len(block))
	for r := range all {
		all[r] = r
	}
	z2 := b.heldOutNested(st, all, []int{len(all)}, w)[0]
	return z2, z2 != nil
}

// blockStats are what removing any subset of some rows needs: the rows,
// their residuals r = y − Φm and H = ΦΣΦᵀ (the products with Σ are the
// expensive part, done once for every subset).
type blockStats struct {
	rows []int
	res  []float64
	H    []float64 // len(rows)², row-major
}

// denseCovFactor is L (lower, dd×dd) with LLᵀ the dense block of Σ, for
// blockStats: the dense part of H is then (Φ_D L)(Φ_D L)ᵀ, half the
// products of Φ_D Σ_DD Φ_Dᵀ. Σ's dense block is positive definite; should
// rounding say otherwise, a jitter of its scale is added.
func (b *blr) denseCovFactor() []float64 {
	P, dd := b.dim(), b.dd()
	L := make([]float64, dd*dd)
	scale := 0.0
	for i := 0; i < dd; i++ {
		scale = math.Max(scale, b.cov[i*P+i])
	}
	for jitter := 0.0; ; jitter = math.Max(2*jitter, 1e-12*scale) {
		for i := 0; i < dd; i++ {
			copy(L[i*dd:i*dd+i+1], b.cov[i*P:i*P+i+1])
			L[i*dd+i] += jitter
		}
		if _, ok := lapack64.Potrf(blas64.Symmetric{N: dd, Stride: dd, Data: L, Uplo: blas.Lower}); ok {
			return L
		}
	}
}

// blockStats computes the block statistics of rows, with L from
// denseCovFactor. With Φ = [Φ_D Φ_L] (dense block, levels: a few per row),
// H = Φ_DΣ_DDΦ_Dᵀ + Y Φ_Lᵀ + Φ_L Yᵀ where Y = Φ_D Σ_DL + ½ Φ_L Σ_LL, on the
// levels the rows have only (a device's rows have a few tens of the
// hundreds of levels).
func (b *blr) blockStats(d *design, rows []int, y, L []float64) *blockStats {
	m, P, dd := len(rows), b.dim(), b.dd()
	// at[c] is level column c's place among the rows' levels lev.
	at := make([]int, P)
	var lev []int
	for _, i := range rows {
		for _, c := range d.col[i] {
			if c >= 0 && at[c] == 0 {
				at[c] = -1
				lev = append(lev, int(c))
			}
		}
	}
	slices.Sort(lev)
	nL := len(lev)
	for j, c := range lev {
		at[c] = j
	}
	// Scratch from the pool (engine/blr.go getBuf: fresh memory is slow).
	dense, V, S, Y, Z := getBuf(m*dd), getBuf(m*dd), getBuf(dd*nL), getBuf(m*nL), getBuf(m*m)
	defer release([][]float64{dense, V, S, Y, Z})
	b.denseBlock(dense, d, rows)
	st := &blockStats{rows: rows, res: make([]float64, m), H: make([]float64, m*m)}
	// Dense part: V = Φ_D L, H = VVᵀ (upper triangle).
	copy(V, dense)
	blas64.Trmm(blas.Right, blas.NoTrans, 1, blas64.Triangular{N: dd, Stride: dd, Data: L, Uplo: blas.Lower, Diag: blas.NonUnit},
		blas64.General{Rows: m, Cols: dd, Stride: dd, Data: V})
	blas64.Syrk(blas.NoTrans, 1, blas64.General{Rows: m, Cols: dd, Stride: dd, Data: V}, 0,
		blas64.Symmetric{N: m, Stride: m, Data: st.H, Uplo: blas.Upper})
	// Y = Φ_D Σ_DL, then each row's levels add half their rows of Σ_LL.
	for r := 0; r < dd; r++ {
		src := b.cov[r*P : (r+1)*P]
		for j, c := range lev {
			S[r*nL+j] = src[c]
		}
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, blas64.General{Rows: m, Cols: dd, Stride: dd, Data: dense},
		blas64.General{Rows: dd, Cols: nL, Stride: nL, Data: S}, 0, blas64.General{Rows: m, Cols: nL, Stride: nL, Data: Y})
	for r, i := range rows {
		mu := dot(dense[r*dd:(r+1)*dd], b.mean[:dd])
		Yr := Y[r*nL : (r+1)*nL]
		for g := 0; g < nGroups; g++ {
			if c := int(d.col[i][g]); c >= 0 {
				v, src := d.lev[i].val[g], b.cov[c*P:(c+1)*P]
				for j, l := range lev {
					Yr[j] += 0.5 * v * src[l]
				}
				mu += v * b.mean[c]
			}
		}
		st.res[r] = y[i] - mu
	}
	// Z = Y Φ_Lᵀ (Φ_L has a few entries per row), H += Z + Zᵀ.
	clear(Z)
	for r2, i := range rows {
		for g := 0; g < nGroups; g++ {
			if c := int(d.col[i][g]); c >= 0 {
				v, pc := d.lev[i].val[g], at[c]
				for r := 0; r < m; r++ {
					Z[r*m+r2] += v * Y[r*nL+pc]
				}
			}
		}
	}
	for r := 0; r < m; r++ {
		for c := r; c < m; c++ {
			h := st.H[r*m+c] + Z[r*m+c] + Z[c*m+r]
			st.H[r*m+c], st.H[c*m+r] = h, h
		}
	}
	return st
}

// heldOutNested removes from the posterior, for each n in sizes (each at
// most len(held)), the rows at positions held[:n] of st, and returns their
// squared standardized residuals in that order (nil where the block is not
// positive definite). With H = Φ_B Σ Φ_Bᵀ and D the rows' noise, the
// held-out residuals are D(D−H)⁻¹r and their epistemic covariance
// H(D−H)⁻¹D. Every block is a leading block of the largest, C = D − H
// = UᵀU, and a leading block's Cholesky factor and its inverse are the
// leading blocks of U and U⁻¹: one factorisation and one inversion serve
// all sizes, each then costing only its triangular solves.
func (b *blr) heldOutNested(st *blockStats, held []int, sizes []int, w []float64) [][]float64 {
	M, N := len(held), len(st.rows)
	s2 := b.hp.noise * b.hp.noise
	C := make([]float64, M*M)
	for r, pr := range held {
		for c, pc := range held[r:] {
			C[r*M+r+c] = -st.H[pr*N+pc]
		}
		C[r*M+r] += s2 / w[st.rows[pr]]
	}
	out := make([][]float64, len(sizes))
	U := blas64.Triangular{N: M, Stride: M, Data: C, Uplo: blas.Upper, Diag: blas.NonUnit}
	// Factor D − H (the rows' covariance under the rest: positive
	// definite) and invert the factor.
	if _, ok := lapack64.Potrf(blas64.Symmetric{N: M, Stride: M, Data: C, Uplo: blas.Upper}); !ok {
		// A smaller block may still be fine: factor each on its own.
		for j, n := range sizes {
			if n < M {
				out[j] = b.heldOutNested(st, held[:n], []int{n}, w)[0]
			}
		}
		return out
	}
	// Solves with the factor before it is overwritten by its inverse.
	res := make([][]float64, len(sizes))
	for j, n := range sizes {
		res[j] = make([]float64, n)
		for r, pr := range held[:n] {
			res[j][r] = st.res[pr]
		}
		Un := blas64.Triangular{N: n, Stride: M, Data: C, Uplo: blas.Upper, Diag: blas.NonUnit}
		x := blas64.Vector{N: n, Inc: 1, Data: res[j]}
		blas64.Trsv(blas.Trans, Un, x)
		blas64.Trsv(blas.NoTrans, Un, x)
	}
	// With C = D − H: H C⁻¹ D = D C⁻¹ D − D, so a row's held-out epistemic
	// variance is d² (C⁻¹)_rr − d, and (C⁻¹)_rr is the squared norm of row
	// r of U⁻¹ (C = UᵀU), within the leading block.
	if !lapack64.Trtri(U) {
		return out
	}
	for j, n := range sizes {
		z2 := make([]float64, n)
		for r, pr := range held[:n] {
			di := s2 / w[st.rows[pr]]
			hr := di * res[j][r] // D C⁻¹ r
			row := C[r*M+r : r*M+n]
			v := math.Max(di*di*dot(row, row)-di, 0) + s2*b.kappaPool
			z2[r] = hr * hr / v
		}
		out[j] = z2
	}
	return out
}
