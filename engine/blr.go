package engine

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// blr is Bayesian linear regression over a linear block and random Fourier
// features of an RBF kernel: a Gaussian-process approximation whose cost is
// linear in the number of points. Its posterior covariance is the epistemic
// uncertainty the active learner conditions on.
type blr struct {
	nLin     int
	nRFF     int
	omega    []float64 // nRFF × nRaw, unit-lengthscale frequencies
	phase    []float64
	hp       hyper
	priorVar []float64 // diagonal prior on the weights
	mean     []float64
	cov      *mat.Dense // posterior covariance Σ (symmetric, stored dense)
	n        int
	lml      float64
}

// hyper are the kernel hyperparameters, chosen by marginal likelihood.
type hyper struct {
	ell      float64 // RBF lengthscale in raw feature units
	noise    float64 // std of log residual noise
	rbf      float64 // RBF amplitude (variance)
	lin      float64 // variance of each linear weight
	id       float64 // variance of each hardware/model id weight
	biasVar  float64
	idOffset int // first id column in the linear block
}

// logPrior is a weak log-normal prior around the defaults (one e-fold per
// standard deviation). With many points the likelihood dominates; with a
// handful it keeps the fit from explaining everything as noise.
func (h hyper) logPrior() float64 {
	lp := 0.0
	for _, pair := range [][2]float64{{h.noise, defaultHyper.noise}, {h.rbf, defaultHyper.rbf}, {h.ell, defaultHyper.ell},
		{h.lin, defaultHyper.lin}, {h.id, defaultHyper.id}} {
		z := math.Log(pair[0] / pair[1])
		lp -= 0.5 * z * z
	}
	return lp
}

var defaultHyper = hyper{ell: 1, noise: 0.1, rbf: 0.15, lin: 0.03, id: 0.1, biasVar: 0.25}

const defaultRFF = 96

func newBLR(nLin, idOffset, nRFF int, seed uint64) *blr {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	b := &blr{nLin: nLin, nRFF: nRFF, omega: make([]float64, nRFF*nRaw), phase: make([]float64, nRFF)}
	for i := range b.omega {
		b.omega[i] = rng.NormFloat64()
	}
	for i := range b.phase {
		b.phase[i] = rng.Float64() * 2 * math.Pi
	}
	b.hp = defaultHyper
	b.hp.idOffset = idOffset
	return b
}

func (b *blr) dim() int { return b.nLin + b.nRFF }

// featurize writes φ(x) for raw features x and a filled linear block.
func (b *blr) featurize(phi, x []float64, ell float64) {
	s := math.Sqrt(2 / float64(b.nRFF))
	for j := 0; j < b.nRFF; j++ {
		w := b.omega[j*nRaw : (j+1)*nRaw]
		dot := 0.0
		for k, v := range x {
			dot += w[k] * v
		}
		phi[b.nLin+j] = s * math.Cos(dot/ell+b.phase[j])
	}
}

func (b *blr) prior(hp hyper) []float64 {
	pv := make([]float64, b.dim())
	pv[0] = hp.biasVar
	for i := 1; i < b.nLin; i++ {
		if i >= hp.idOffset {
			pv[i] = hp.id
		} else {
			pv[i] = hp.lin
		}
	}
	for i := b.nLin; i < b.dim(); i++ {
		pv[i] = hp.rbf
	}
	return pv
}

// trainSet is the design for fitting: linear blocks and raw features per
// point, and the targets.
type trainSet struct {
	lin [][]float64
	raw [][]float64
	y   []float64
}

func (b *blr) design(ts *trainSet, ell float64) *mat.Dense {
	n, d := len(ts.y), b.dim()
	phi := mat.NewDense(max(n, 1), d, nil)
	for i := 0; i < n; i++ {
		row := phi.RawRowView(i)
		copy(row, ts.lin[i])
		b.featurize(row, ts.raw[i], ell)
	}
	return phi
}

// precision builds A = ΦᵀΦ/σ² + Λ⁻¹ and factorizes it in place (Cholesky,
// upper). It returns false when A is not positive definite.
func (b *blr) precision(G *mat.SymDense, pv []float64, s2 float64) (blas64.Symmetric, bool) {
	d := b.dim()
	A := blas64.Symmetric{N: d, Stride: d, Data: make([]float64, d*d), Uplo: blas.Upper}
	if G != nil {
		g := G.RawSymmetric()
		for i := 0; i < d; i++ {
			src, dst := g.Data[i*g.Stride+i:i*g.Stride+d], A.Data[i*d+i:i*d+d]
			for j, v := range src {
				dst[j] = v / s2
			}
		}
	}
	for i := 0; i < d; i++ {
		A.Data[i*d+i] += 1 / pv[i]
	}
	_, ok := lapack64.Potrf(A)
	return A, ok
}

// posterior returns the posterior mean and the log marginal likelihood from
// sufficient statistics G = ΦᵀΦ, r = Φᵀy, yy = yᵀy, and the factorized
// precision for the caller to invert when it needs Σ.
func (b *blr) posterior(G *mat.SymDense, r []float64, yy float64, n int, hp hyper) (blas64.Symmetric, []float64, float64, error) {
	d := b.dim()
	pv := b.prior(hp)
	s2 := hp.noise * hp.noise
	A, ok := b.precision(G, pv, s2)
	if !ok {
		return A, nil, 0, errors.New("posterior precision is not positive definite")
	}
	bv := make([]float64, d)
	for i := range bv {
		if r != nil {
			bv[i] = r[i] / s2
		}
	}
	// Solve UᵀU m = b with two triangular vector solves.
	m := blas64.Vector{N: d, Inc: 1, Data: append([]float64(nil), bv...)}
	U := blas64.Triangular{N: d, Stride: d, Data: A.Data, Uplo: blas.Upper, Diag: blas.NonUnit}
	blas64.Trsv(blas.Trans, U, m)
	blas64.Trsv(blas.NoTrans, U, m)
	logDetA, logDetPrior := 0.0, 0.0
	for i := 0; i < d; i++ {
		logDetA += 2 * math.Log(A.Data[i*d+i])
		logDetPrior += math.Log(pv[i])
	}
	quad := 0.0
	for i := range bv {
		quad += bv[i] * m.Data[i]
	}
	lml := -0.5 * (float64(n)*math.Log(2*math.Pi*s2) + logDetPrior + logDetA + yy/s2 - quad)
	return A, m.Data, lml, nil
}

// invert turns the factorized precision into Σ as a dense matrix (dense so
// products with it take the fast general matrix multiply).
func invert(A blas64.Symmetric) *mat.Dense {
	d := A.N
	lapack64.Potri(blas64.Triangular{N: d, Stride: d, Data: A.Data, Uplo: blas.Upper, Diag: blas.NonUnit})
	out := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			v := A.Data[i*d+j]
			out.Set(i, j, v)
			out.Set(j, i, v)
		}
	}
	return out
}

// fit chooses hyperparameters by coordinate ascent on the log marginal
// likelihood over fixed grids (deterministic), then sets the posterior.
func (b *blr) fit(ctx context.Context, ts *trainSet) error {
	n := len(ts.y)
	b.n = n
	hp := b.hp
	if n < 8 {
		// Too few points to learn hyperparameters: keep the wide prior.
		return b.setPosterior(ts, hp)
	}
	type stats struct {
		G  *mat.SymDense
		r  []float64
		yy float64
	}
	cache := map[float64]stats{}
	get := func(ell float64) stats {
		if s, ok := cache[ell]; ok {
			return s
		}
		phi := b.design(ts, ell)
		G := mat.NewSymDense(b.dim(), nil)
		G.SymOuterK(1, phi.T())
		y := mat.NewVecDense(n, ts.y)
		r := mat.NewVecDense(b.dim(), nil)
		r.MulVec(phi.T(), y)
		s := stats{G, r.RawVector().Data, mat.Dot(y, y)}
		cache[ell] = s
		return s
	}
	eval := func(h hyper) float64 {
		s := get(h.ell)
		_, _, lml, err := b.posterior(s.G, s.r, s.yy, n, h)
		if err != nil {
			return math.Inf(-1)
		}
		return lml + h.logPrior()
	}
	grids := []struct {
		set  func(*hyper, float64)
		vals []float64
	}{
		{func(h *hyper, v float64) { h.noise = v }, []float64{0.02, 0.04, 0.07, 0.1, 0.15, 0.22, 0.32, 0.45}},
		{func(h *hyper, v float64) { h.rbf = v }, []float64{0.01, 0.03, 0.1, 0.3, 1}},
		{func(h *hyper, v float64) { h.ell = v }, []float64{0.35, 0.6, 1, 1.7}},
		{func(h *hyper, v float64) { h.lin = v }, []float64{0.003, 0.01, 0.03, 0.1, 0.3}},
		{func(h *hyper, v float64) { h.id = v }, []float64{0.05, 0.1, 0.2, 0.4}},
	}
	best := eval(hp)
	for sweep := 0; sweep < 2; sweep++ {
		for _, g := range grids {
			if err := ctx.Err(); err != nil {
				return err
			}
			cur := hp
			for _, v := range g.vals {
				h := hp
				g.set(&h, v)
				if l := eval(h); l > best+1e-9 {
					best, cur = l, h
				}
			}
			hp = cur
		}
	}
	return b.setPosterior(ts, hp)
}

func (b *blr) setPosterior(ts *trainSet, hp hyper) error {
	b.hp = hp
	b.priorVar = b.prior(hp)
	n := len(ts.y)
	if n == 0 {
		cov := mat.NewDense(b.dim(), b.dim(), nil)
		for i, v := range b.priorVar {
			cov.Set(i, i, v)
		}
		b.cov, b.mean = cov, make([]float64, b.dim())
		return nil
	}
	phi := b.design(ts, hp.ell)
	G := mat.NewSymDense(b.dim(), nil)
	G.SymOuterK(1, phi.T())
	y := mat.NewVecDense(n, ts.y)
	r := mat.NewVecDense(b.dim(), nil)
	r.MulVec(phi.T(), y)
	A, m, lml, err := b.posterior(G, r.RawVector().Data, mat.Dot(y, y), n, hp)
	if err != nil {
		return err
	}
	b.cov, b.mean, b.lml = invert(A), m, lml
	return nil
}

// predictRows returns the posterior mean, epistemic variance and prior
// variance of the latent residual for each row of Φ. It works in chunks so
// ΦΣ never exists whole unless keep asks for it (the active learner's v_j).
func (b *blr) predictRows(phi *mat.Dense, keep bool) (mean, epi, prior []float64, V *mat.Dense) {
	rows, d := phi.Dims()
	mean, epi, prior = make([]float64, rows), make([]float64, rows), make([]float64, rows)
	const chunk = 2048
	var buf *mat.Dense
	if keep {
		V = mat.NewDense(rows, d, nil)
	} else {
		buf = mat.NewDense(min(chunk, rows), d, nil)
	}
	for lo := 0; lo < rows; lo += chunk {
		hi := min(lo+chunk, rows)
		part := phi.Slice(lo, hi, 0, d)
		var Vc *mat.Dense
		if keep {
			Vc = V.Slice(lo, hi, 0, d).(*mat.Dense)
		} else {
			Vc = buf.Slice(0, hi-lo, 0, d).(*mat.Dense)
		}
		Vc.Mul(part, b.cov)
		for i := lo; i < hi; i++ {
			p := phi.RawRowView(i)
			v := Vc.RawRowView(i - lo)
			var mu, e, pr float64
			for k := 0; k < d; k++ {
				mu += p[k] * b.mean[k]
				e += p[k] * v[k]
				pr += p[k] * p[k] * b.priorVar[k]
			}
			mean[i], epi[i], prior[i] = mu, math.Max(e, 0), pr
		}
	}
	return mean, epi, prior, V
}
