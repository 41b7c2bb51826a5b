package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
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

func TestHeldOutNestedMatchesSeparate(t *testing.T) {
	// One factorisation for nested blocks must give what factoring each
	// block on its own gives.
	cat := MustBuiltinCatalog()
	p := mustPredictor(t, cat, DemoHistory(cat))
	ts := trainSetFor(t, p, DemoHistory(cat), false)
	b := newBLR(3)
	fixedPosterior(t, b, ts, p.time.hp)
	d := b.newDesign(ts.x, ts.lev, b.lev)
	w := make([]float64, len(ts.y))
	var dev []int
	for i := range w {
		w[i] = 1 + 0.5*float64(i%3)
		if ts.lev[i].key[reHardware] == "rocm" {
			dev = append(dev, i)
		}
	}
	// The posterior holds the rows with these weights.
	s, err := b.gram(context.Background(), d, nil, w, ts.y, b.dim())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.setPosterior(s, p.time.hp); err != nil {
		t.Fatal(err)
	}
	if len(dev) < 13 {
		t.Fatalf("%d rows: need 13 (the smallest block holds 3)", len(dev))
	}
	held := rand.New(rand.NewPCG(1, 2)).Perm(len(dev))
	sizes := []int{len(dev), len(dev) - 1, len(dev) - 3, len(dev) - 10}
	got := b.heldOutNested(b.blockStats(d, dev, ts.y, b.denseCovFactor()), held, sizes, w)
	for j, n := range sizes {
		block := make([]int, n)
		for r, pr := range held[:n] {
			block[r] = dev[pr]
		}
		want, ok := b.blockOut(d, block, w, ts.y)
		if !ok || got[j] == nil {
			t.Fatalf("size %d: nested ok %v, separate ok %v", n, got[j] != nil, ok)
		}
		for r := range want {
			if math.Abs(got[j][r]-want[r]) > 1e-9*math.Max(1, want[r]) {
				t.Fatalf("size %d row %d: nested %.12g, separate %.12g", n, r, got[j][r], want[r])
			}
		}
	}
}

func TestCalibrationFactor(t *testing.T) {
	cb := &calibration{k: []int{0, 1, 3, 10}}
	cb.c[3] = []float64{0.5, 1.2, 1.5, 1.3}
	logT := (math.Log(3) - math.Log(2)) / (math.Log(4) - math.Log(2)) // m = 2 between anchors 1 and 3
	for _, tc := range []struct {
		m    int
		want float64
	}{
		{0, 0.5}, {1, 1.2}, {3, 1.5}, {10, 1.3},
		{2, math.Exp((1-logT)*math.Log(1.2) + logT*math.Log(1.5))}, // log-linear in log(1+m)
		{21, math.Exp(math.Log(1.3) * 11 / 22)},                    // decaying past the last anchor
	} {
		got := cb.factor(tc.m, 3)
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("factor(%d) = %v, want %v", tc.m, got, tc.want)
		}
	}
	if (*calibration)(nil).factor(5, 0) != 1 || (&calibration{}).factor(0, 0) != 1 {
		t.Error("no calibration must mean factor 1")
	}
}

func TestPickCalibDevicesCoversStrata(t *testing.T) {
	// 30 devices of 200 rows (one GPU, forward passes) and three of 150
	// (several GPUs, decode): a budget of calibMaxRows cannot take all, and
	// an even pick alone would likely miss the rare stratum.
	var devs []string
	rows := map[string]int{}
	strata := map[string][nStrata]bool{}
	for i := 0; i < 30; i++ {
		hw := fmt.Sprintf("gpu-%02d", i)
		devs, rows[hw] = append(devs, hw), 200
		strata[hw] = [nStrata]bool{0: true}
	}
	for _, hw := range []string{"gpu-03x", "gpu-17x", "gpu-29x"} {
		devs, rows[hw] = append(devs, hw), 150
		strata[hw] = [nStrata]bool{5: true}
	}
	sort.Strings(devs)
	pick := func() []string {
		return pickCalibDevices(devs, func(hw string) int { return rows[hw] }, func(hw string) [nStrata]bool { return strata[hw] })
	}
	got := pick()
	total, rare := 0, 0
	for _, hw := range got {
		total += rows[hw]
		if strata[hw][5] {
			rare++
		}
	}
	if total > calibMaxRows || rare != 3 || len(got) < 10 || !sort.StringsAreSorted(got) {
		t.Errorf("picked %v: %d rows (max %d), %d of 3 multi-GPU devices", got, total, calibMaxRows, rare)
	}
	if again := pick(); !slices.Equal(again, got) {
		t.Errorf("not deterministic: %v then %v", got, again)
	}
	if small := pickCalibDevices(devs[:5], func(string) int { return 10 }, func(string) [nStrata]bool { return [nStrata]bool{} }); len(small) != 5 {
		t.Errorf("under the budget every device is taken, got %v", small)
	}
}
