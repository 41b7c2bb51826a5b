package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// TestArrowInverseMatchesDense: the block inverse of a Cholesky factor
// equals the dense one, with the blocks the order promises and without
// them (then it must notice and invert densely).
func TestArrowInverseMatchesDense(t *testing.T) {
	o := &arrow{ends: []int{3, 4, 9}}
	const P = 15
	for _, blocked := range []bool{true, false} {
		rng := rand.New(rand.NewPCG(1, 2))
		blockOf := func(i int) int {
			for k, e := range o.ends {
				if i < e {
					return k
				}
			}
			return -1 // separator: meets everything
		}
		// A = Σ rows x xᵀ + I, each row touching one block and the separator.
		A := make([]float64, P*P)
		for r := 0; r < 40; r++ {
			k := rng.IntN(len(o.ends))
			x := make([]float64, P)
			for i := range x {
				if b := blockOf(i); b < 0 || b == k || (!blocked && i == 0) {
					x[i] = rng.NormFloat64()
				}
			}
			for i := 0; i < P; i++ {
				for j := i; j < P; j++ {
					A[i*P+j] += x[i] * x[j]
				}
			}
		}
		for i := 0; i < P; i++ {
			A[i*P+i]++
		}
		if _, ok := lapack64.Potrf(blas64.Symmetric{N: P, Stride: P, Data: A, Uplo: blas.Upper}); !ok {
			t.Fatal("not positive definite")
		}
		want := append([]float64(nil), A...)
		lapack64.Trtri(blas64.Triangular{N: P, Stride: P, Data: want, Uplo: blas.Upper, Diag: blas.NonUnit})
		if !o.invFactor(A, P) {
			t.Fatal("inversion failed")
		}
		for i := 0; i < P; i++ {
			for j := i; j < P; j++ {
				if d := math.Abs(A[i*P+j] - want[i*P+j]); d > 1e-10*(1+math.Abs(want[i*P+j])) {
					t.Fatalf("blocked=%v: U⁻¹[%d,%d] = %g, want %g", blocked, i, j, A[i*P+j], want[i*P+j])
				}
			}
		}
	}
}

// TestPosteriorIndependentOfOrder: the arrow order changes how the
// posterior is computed, not what it is.
func TestPosteriorIndependentOfOrder(t *testing.T) {
	cat := MustBuiltinCatalog()
	p := mustPredictor(t, cat, SimulateHistory(cat, DemoWorld, DefaultSpace(cat), 300, 5))
	model := p.time
	if model.order == nil || len(model.order.ends) == 0 {
		t.Fatal("no device blocks in the arrow order")
	}
	ts := trainSetFor(t, p, p.results, false)
	d := model.newDesign(ts.x, ts.lev, model.lev)
	s, err := model.gram(context.Background(), d, nil, nil, ts.y, model.dim())
	if err != nil {
		t.Fatal(err)
	}
	post := func(o *arrow) ([]float64, []float64, float64) {
		model.order = o
		if err := model.setPosterior(s, model.hp); err != nil {
			t.Fatal(err)
		}
		return model.mean, model.cov, model.lml
	}
	m1, c1, l1 := post(model.order)
	m0, c0, l0 := post(nil)
	if math.Abs(l1-l0) > 1e-8*math.Abs(l0) {
		t.Errorf("log marginal likelihood %g in arrow order, %g in column order", l1, l0)
	}
	for i := range m0 {
		if math.Abs(m1[i]-m0[i]) > 1e-8 {
			t.Fatalf("mean[%d] %g vs %g", i, m1[i], m0[i])
		}
	}
	for i := range c0 {
		if math.Abs(c1[i]-c0[i]) > 1e-8 {
			t.Fatalf("cov[%d] %g vs %g", i, c1[i], c0[i])
		}
	}
}
