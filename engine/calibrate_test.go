package engine

import (
	"context"
	"math"
	"testing"
)

func TestBlockOutMatchesRefit(t *testing.T) {
	// Removing a block of rows from the posterior in closed form must give
	// the same held-out standardized residuals as fitting without them.
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	p := mustPredictor(t, cat, DemoHistory(cat))
	ts := trainSetFor(t, p, DemoHistory(cat), false)
	b := newBLR(3)
	hp := p.time.hp
	fixedPosterior(t, b, ts, hp)
	d := b.newDesign(ts.x, ts.lev, b.lev)
	w := make([]float64, len(ts.y))
	var block, rest []int
	for i := range w {
		w[i] = 1 + 0.5*float64(i%3) // unequal weights exercise D
		if ts.lev[i].key[reHardware] == "rocm" {
			block = append(block, i)
		} else {
			rest = append(rest, i)
		}
	}
	s, err := b.gram(ctx, d, nil, w, ts.y, b.dim())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.setPosterior(s, hp); err != nil {
		t.Fatal(err)
	}
	got, ok := b.blockOut(d, block, w, ts.y)
	if !ok || len(got) != len(block) {
		t.Fatalf("blockOut: ok %v, %d values for %d rows", ok, len(got), len(block))
	}
	// Refit on the rest (same columns, same hyperparameters).
	s2, err := b.gram(ctx, d, rest, w, ts.y, b.dim())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.setPosterior(s2, hp); err != nil {
		t.Fatal(err)
	}
	mu, epi, _, err := b.predictDesign(ctx, d, block, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range block {
		r := ts.y[i] - mu[k]
		want := r * r / (epi[k] + hp.noise*hp.noise*b.kappaPool)
		if math.Abs(got[k]-want) > 1e-6*math.Max(1, want) {
			t.Fatalf("row %d: closed form %.9g, refit %.9g", i, got[k], want)
		}
	}
}

func TestCalibrationFactor(t *testing.T) {
	cb := &calibration{k: []int{0, 1, 3, 10}, c: []float64{0.5, 1.2, 1.5, 1.3}}
	logT := (math.Log(3) - math.Log(2)) / (math.Log(4) - math.Log(2)) // m = 2 between anchors 1 and 3
	for _, tc := range []struct {
		m    int
		want float64
	}{
		{0, 0.5}, {1, 1.2}, {3, 1.5}, {10, 1.3},
		{2, math.Exp((1-logT)*math.Log(1.2) + logT*math.Log(1.5))}, // log-linear in log(1+m)
		{21, math.Exp(math.Log(1.3) * 11 / 22)},                    // decaying past the last anchor
	} {
		got := cb.factor(tc.m)
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("factor(%d) = %v, want %v", tc.m, got, tc.want)
		}
	}
	if (*calibration)(nil).factor(5) != 1 || (&calibration{}).factor(0) != 1 {
		t.Error("no calibration must mean factor 1")
	}
}
