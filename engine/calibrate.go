package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
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
	// cubic); calibMaxDevices the devices held out.
	calibMaxBlock   = 400
	calibMaxDevices = 8
)

// calibration maps a device's measurement count to a variance factor.
type calibration struct {
	k []int     // anchors with data, ascending
	c []float64 // factor per anchor
}

// factor is c(m): log-linear in log(1+m) between anchors; beyond the last
// anchor it decays towards 1 as the device's own data takes over.
func (cb *calibration) factor(m int) float64 {
	if cb == nil || len(cb.k) == 0 {
		return 1
	}
	x := math.Log1p(float64(m))
	last := len(cb.k) - 1
	if m >= cb.k[last] {
		K := float64(cb.k[last])
		return math.Exp(math.Log(cb.c[last]) * (1 + K) / (1 + float64(m)))
	}
	if m <= cb.k[0] {
		return cb.c[0]
	}
	i := sort.SearchInts(cb.k, m)
	if cb.k[i] == m {
		return cb.c[i]
	}
	x0, x1 := math.Log1p(float64(cb.k[i-1])), math.Log1p(float64(cb.k[i]))
	t := (x - x0) / (x1 - x0)
	return math.Exp((1-t)*math.Log(cb.c[i-1]) + t*math.Log(cb.c[i]))
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
	if len(devs) > calibMaxDevices {
		// An even, deterministic choice bounds the cost.
		step := float64(len(devs)) / calibMaxDevices
		picked := make([]string, calibMaxDevices)
		for i := range picked {
			picked[i] = devs[int(float64(i)*step)]
		}
		devs = picked
	}
	rng := rand.New(rand.NewPCG(b.seed, 0xca1b))
	type acc struct {
		z, w []float64 // |z| and its weight (1/rows of its device)
		nd   int
	}
	accs := make([]acc, len(calibAnchors))
	for _, hw := range devs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dev := byDev[hw]
		if len(dev) > calibMaxBlock+calibAnchors[len(calibAnchors)-1] {
			continue
		}
		order := rng.Perm(len(dev))
		st := b.blockStats(d, dev, y)
		for ai, k := range calibAnchors {
			// Enough rows left to score, and a block the solve can take.
			if len(dev)-k < 3 || len(dev)-k > calibMaxBlock {
				continue
			}
			pos := slices.Clone(order[k:])
			sort.Ints(pos)
			z2, ok := b.heldOut(st, pos, w)
			if !ok {
				continue
			}
			for _, v := range z2 {
				accs[ai].z = append(accs[ai].z, math.Sqrt(v))
				accs[ai].w = append(accs[ai].w, 1/float64(len(z2)))
			}
			accs[ai].nd++
		}
	}
	cb := &calibration{}
	for ai, k := range calibAnchors {
		if accs[ai].nd >= calibMinDevices {
			q := weightedQuantile(accs[ai].z, accs[ai].w, 0.8) / Z80
			cb.k = append(cb.k, k)
			cb.c = append(cb.c, clamp(q*q, 0.25, 9))
		}
	}
	return cb, nil
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
	st := b.blockStats(d, block, y)
	all := make([]int, len(block))
	for r := range all {
		all[r] = r
	}
	return b.heldOut(st, all, w)
}

// blockStats are what removing any subset of some rows needs: the rows,
// their residuals r = y − Φm and H = ΦΣΦᵀ (the products with Σ are the
// expensive part, done once for every subset).
type blockStats struct {
	rows []int
	res  []float64
	H    []float64 // len(rows)², row-major
}

func (b *blr) blockStats(d *design, rows []int, y []float64) *blockStats {
	m, P, dd := len(rows), b.dim(), b.dd()
	dense := make([]float64, m*dd)
	b.denseBlock(dense, d, rows)
	// T = ΦΣ: the dense columns are one product with Σ's first dd rows, and
	// each row's few level columns add their rows of Σ.
	T := make([]float64, m*P)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, blas64.General{Rows: m, Cols: dd, Stride: dd, Data: dense},
		blas64.General{Rows: dd, Cols: P, Stride: P, Data: b.cov}, 0, blas64.General{Rows: m, Cols: P, Stride: P, Data: T})
	st := &blockStats{rows: rows, res: make([]float64, m), H: make([]float64, m*m)}
	for r, i := range rows {
		mu := dot(dense[r*dd:(r+1)*dd], b.mean[:dd])
		for g := 0; g < nGroups; g++ {
			if c := int(d.col[i][g]); c >= 0 {
				floats.AddScaled(T[r*P:(r+1)*P], d.val[i][g], b.cov[c*P:(c+1)*P])
				mu += d.val[i][g] * b.mean[c]
			}
		}
		st.res[r] = y[i] - mu
	}
	// H = TΦᵀ likewise.
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, blas64.General{Rows: m, Cols: dd, Stride: P, Data: T},
		blas64.General{Rows: m, Cols: dd, Stride: dd, Data: dense}, 0, blas64.General{Rows: m, Cols: m, Stride: m, Data: st.H})
	for r2, i := range rows {
		for g := 0; g < nGroups; g++ {
			if c := int(d.col[i][g]); c >= 0 {
				v := d.val[i][g]
				for r := 0; r < m; r++ {
					st.H[r*m+r2] += v * T[r*P+c]
				}
			}
		}
	}
	return st
}

// heldOut removes the rows at positions pos (ascending) of st from the
// posterior: with H = Φ_B Σ Φ_Bᵀ and D the rows' noise, their held-out
// residuals are D(D−H)⁻¹r and their epistemic covariance H(D−H)⁻¹D.
func (b *blr) heldOut(st *blockStats, pos []int, w []float64) ([]float64, bool) {
	m, M := len(pos), len(st.rows)
	s2 := b.hp.noise * b.hp.noise
	res := make([]float64, m)
	DmH := make([]float64, m*m)
	for r, pr := range pos {
		res[r] = st.res[pr]
		for c, pc := range pos {
			DmH[r*m+c] = -st.H[pr*M+pc]
		}
		DmH[r*m+r] += s2 / w[st.rows[pr]]
	}
	// Factor D − H (the rows' covariance under the rest: positive
	// definite) and solve for the residuals.
	if _, ok := lapack64.Potrf(blas64.Symmetric{N: m, Stride: m, Data: DmH, Uplo: blas.Upper}); !ok {
		return nil, false
	}
	U := blas64.Triangular{N: m, Stride: m, Data: DmH, Uplo: blas.Upper, Diag: blas.NonUnit}
	x := blas64.Vector{N: m, Inc: 1, Data: res}
	blas64.Trsv(blas.Trans, U, x)
	blas64.Trsv(blas.NoTrans, U, x)
	// With C = D − H: H C⁻¹ D = D C⁻¹ D − D, so a row's held-out epistemic
	// variance is d² (C⁻¹)_rr − d, and (C⁻¹)_rr is the squared norm of row
	// r of U⁻¹ (C = UᵀU).
	if !lapack64.Trtri(U) {
		return nil, false
	}
	out := make([]float64, m)
	for r, pr := range pos {
		di := s2 / w[st.rows[pr]]
		held := di * res[r] // D C⁻¹ r
		row := DmH[r*m+r : (r+1)*m]
		cii := dot(row, row)
		v := math.Max(di*di*cii-di, 0) + s2*b.kappaPool
		out[r] = held * held / v
	}
	return out, true
}
