package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// heldOut returns the feasible, unmeasured configurations of the default
// space measured in w, with fresh noise.
func heldOut(t *testing.T, cat *Catalog, p *Predictor, w World, seed uint64) ([]Config, []Result) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var cfgs []Config
	var truth []Result
	for _, c := range DefaultSpace(cat).Configs(cat) {
		m, h := cat.Model(c.Model), cat.Hardware(c.Hardware)
		if p.Measured(c) || !RooflineFor(m, h, c).Feasible {
			continue
		}
		cfgs = append(cfgs, c)
		truth = append(truth, w.Measure(m, h, c, rng))
	}
	return cfgs, truth
}

func coverage(preds []Prediction, truth []Result) (lat, mem, mape float64) {
	for i, pr := range preds {
		if truth[i].LatencyMS >= pr.Latency.Low && truth[i].LatencyMS <= pr.Latency.High {
			lat++
		}
		if truth[i].MemoryMB >= pr.Memory.Low && truth[i].MemoryMB <= pr.Memory.High {
			mem++
		}
		mape += math.Abs(pr.Latency.Value/truth[i].LatencyMS - 1)
	}
	n := float64(len(preds))
	return lat / n, mem / n, mape / n * 100
}

func TestPredictorCalibratedOnSimulatedWorld(t *testing.T) {
	// Calibration is a property of the method, not of one draw of its random
	// features: the median coverage over seeds must be calibrated (single
	// seeds range over ±0.1).
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	var lats, mems []float64
	for seed := uint64(1); seed <= 5; seed++ {
		p, err := NewPredictor(ctx, cat, DemoHistory(cat), PredictorOptions{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		cfgs, truth := heldOut(t, cat, p, DemoWorld, 7)
		b, err := p.PredictAll(ctx, cfgs)
		if err != nil {
			t.Fatal(err)
		}
		lat, mem, mape := coverage(b.Preds, truth)
		t.Logf("seed %d: held-out n=%d: 80%% coverage latency %.3f memory %.3f, latency MAPE %.1f%%", seed, len(cfgs), lat, mem, mape)
		lats, mems = append(lats, lat), append(mems, mem)
		if seed > 1 {
			continue
		}
		// The learned correction must beat the plain roofline by a wide margin.
		base, _ := NewPredictor(ctx, cat, DemoHistory(cat), PredictorOptions{RooflineOnly: true})
		bb, _ := base.PredictAll(ctx, cfgs)
		_, _, baseMAPE := coverage(bb.Preds, truth)
		if mape > baseMAPE/2 {
			t.Errorf("learned MAPE %.1f%% is not under half the roofline's %.1f%%", mape, baseMAPE)
		}
	}
	slices.Sort(lats)
	slices.Sort(mems)
	if lat, mem := lats[2], mems[2]; lat < 0.70 || lat > 0.90 || mem < 0.70 || mem > 0.90 {
		t.Errorf("median 80%% interval coverage latency %.3f, memory %.3f; want 0.70–0.90", lat, mem)
	}
}

func TestPredictorRecoversKnownFunction(t *testing.T) {
	// Truth: roofline × exp(f) with f linear in log batch and a per-backend
	// offset. Trained on 150 points, it must predict the rest within a few %.
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	off := map[string]float64{"cpu": 0.3, "cuda": -0.4, "rocm": 0.1, "mps": 0.2, "openvino": -0.1, "qnn": 0.5, "webnn": 0.0, "webgpu": 0.25}
	f := func(c Config) float64 {
		return off[cat.Hardware(c.Hardware).Backend] + 0.25*math.Log2(float64(c.BatchSize))
	}
	all := DefaultSpace(cat).Configs(cat)
	rng := rand.New(rand.NewPCG(3, 3))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var train []Result
	for _, c := range all[:150] {
		rf := RooflineFor(cat.Model(c.Model), cat.Hardware(c.Hardware), c)
		train = append(train, Result{Config: c, LatencyMS: rf.LatencyMS * math.Exp(f(c)), Source: "test"})
	}
	p, err := NewPredictor(ctx, cat, train, PredictorOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	test := all[150:450]
	b, _ := p.PredictAll(ctx, test)
	worst, sum := 0.0, 0.0
	for i, c := range test {
		want := b.Preds[i].Roofline.LatencyMS * math.Exp(f(c))
		e := math.Abs(b.Preds[i].Latency.Value/want - 1)
		sum += e
		worst = math.Max(worst, e)
	}
	if mean := sum / float64(len(test)) * 100; mean > 3 {
		t.Errorf("mean error %.2f%% recovering a known function; want ≤ 3%% (worst %.1f%%)", mean, worst*100)
	}
}

func TestUncertaintyGrowsAwayFromData(t *testing.T) {
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	var cudaOnly []Result
	for _, r := range SimulateHistory(cat, DemoWorld, DefaultSpace(cat), 400, 5) {
		if r.Hardware == "cuda" {
			cudaOnly = append(cudaOnly, r)
		}
	}
	if len(cudaOnly) < 20 {
		t.Fatalf("only %d cuda results", len(cudaOnly))
	}
	p, err := NewPredictor(ctx, cat, cudaOnly, PredictorOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Mean remaining uncertainty on the measured backend against every
	// other backend, over the whole default space.
	bt, err := p.PredictAll(ctx, DefaultSpace(cat).Configs(cat))
	if err != nil {
		t.Fatal(err)
	}
	var seen, unseen, ns, nu float64
	for _, pr := range bt.Preds {
		if pr.Measured() {
			continue
		}
		if pr.Hardware == "cuda" {
			seen, ns = seen+pr.LatencyUncertainty, ns+1
		} else {
			unseen, nu = unseen+pr.LatencyUncertainty, nu+1
		}
	}
	seen, unseen = seen/ns, unseen/nu
	t.Logf("mean remaining uncertainty: cuda (measured) %.3f, other backends %.3f", seen, unseen)
	if unseen < 1.5*seen {
		t.Errorf("uncertainty away from the data (%.3f) is not well above near it (%.3f)", unseen, seen)
	}
	near, _ := p.Predict(Config{Model: "bert-base-uncased", Hardware: "cuda", BatchSize: 3, Precision: FP16})
	far, _ := p.Predict(Config{Model: "bert-base-uncased", Hardware: "qnn", BatchSize: 3, Precision: FP16})
	if far.Latency.Std <= near.Latency.Std {
		t.Errorf("interval on unseen qnn (std %.3f) not wider than on cuda (std %.3f)", far.Latency.Std, near.Latency.Std)
	}
}

func TestPredictorWithoutData(t *testing.T) {
	cat := MustBuiltinCatalog()
	p, err := NewPredictor(context.Background(), cat, nil, PredictorOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Predict(Config{Model: "gpt2", Hardware: "cuda", BatchSize: 8, Precision: FP16})
	if err != nil {
		t.Fatal(err)
	}
	// Prior only: centred on the roofline, with wide intervals (×/÷ 2 or more).
	if math.Abs(pr.Latency.Value/pr.Roofline.LatencyMS-1) > 1e-9 {
		t.Errorf("no-data prediction %.3f is not the roofline %.3f", pr.Latency.Value, pr.Roofline.LatencyMS)
	}
	if pr.Latency.High/pr.Latency.Value < 2 || pr.LatencyUncertainty < 0.99 {
		t.Errorf("no-data interval too narrow: %+v (uncertainty %.2f)", pr.Latency, pr.LatencyUncertainty)
	}
}

func TestMoreDataNarrowsIntervals(t *testing.T) {
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	all := SimulateHistory(cat, DemoWorld, DefaultSpace(cat), 240, 11)
	full := mustPredictor(t, cat, all)
	cfgs, _ := heldOut(t, cat, full, DemoWorld, 1)
	// At fixed hyperparameters the Bayesian update is exact: adding data
	// never widens any point's epistemic interval.
	var prev []float64
	for _, n := range []int{0, 15, 60, 240} {
		p := mustPredictor(t, cat, all[:n])
		for _, model := range []*blr{p.time, p.mem} {
			hp := full.time.hp
			if model == p.mem {
				hp = full.mem.hp
			}
			fixedPosterior(t, model, trainSetFor(t, p, all[:n], model == p.mem), hp)
		}
		b, _ := p.PredictAll(ctx, cfgs)
		cur := make([]float64, len(cfgs))
		for i, pr := range b.Preds {
			cur[i] = pr.Latency.Std
			// A request's spread is the latency-weighted mean of its
			// phases', whose weights move with their means: only the
			// phases themselves are exact Bayesian updates.
			if pr.Phase == Generate {
				continue
			}
			if prev != nil && cur[i] > prev[i]+1e-9 {
				t.Fatalf("n=%d: interval at %s widened from %.4f to %.4f", n, cfgs[i], prev[i], cur[i])
			}
		}
		prev = cur
	}
	// End to end, hyperparameters refit: intervals with data are far
	// narrower than the prior's.
	width := func(n int) float64 {
		b, _ := mustPredictor(t, cat, all[:n]).PredictAll(ctx, cfgs)
		w := 0.0
		for _, pr := range b.Preds {
			w += math.Log(pr.Latency.High / pr.Latency.Low)
		}
		return w / float64(len(cfgs))
	}
	if w0, w240 := width(0), width(240); w240 > w0/3 {
		t.Errorf("mean log interval width %.3f with 240 results vs %.3f with none", w240, w0)
	}
}

// trainSetFor rebuilds the training set NewPredictor uses for one model.
func trainSetFor(t *testing.T, p *Predictor, rs []Result, memory bool) *trainSet {
	t.Helper()
	var ts trainSet
	seen := map[string]bool{}
	x := make([]float64, nRaw)
	for _, r := range rs {
		cfg, _ := p.cat.Normalize(r.Config)
		if seen[cfg.Key()] {
			continue
		}
		seen[cfg.Key()] = true
		m, h := p.cat.Model(cfg.Model), p.cat.Hardware(cfg.Hardware)
		rf := RooflineFor(m, h, cfg)
		rawFeatures(x, m, h, cfg, rf)
		y := math.Log(r.Latency() / rf.LatencyMS)
		if memory {
			y = math.Log(r.MemoryMB / rf.MemoryMB)
		}
		ts.add(x, new(levelNames).levels(h, cfg, rf), y)
	}
	return &ts
}

// fixedPosterior sets a model's posterior at fixed hyperparameters, unit
// weights and pooled noise: the exact Bayesian update.
func fixedPosterior(t *testing.T, model *blr, ts *trainSet, hp hyper) {
	t.Helper()
	model.hp = hp
	model.kappa, model.kappaPool = map[string]float64{}, 1
	model.calib = nil // the per-device calibration is refitted with the data too
	model.assignLevels(ts.lev)
	if len(ts.y) == 0 {
		model.setPrior()
		return
	}
	d := model.newDesign(ts.x, ts.lev, model.lev)
	s, err := model.gram(context.Background(), d, nil, nil, ts.y, model.dim())
	if err != nil {
		t.Fatal(err)
	}
	if err := model.setPosterior(s, hp); err != nil {
		t.Fatal(err)
	}
}

func mustPredictor(t *testing.T, cat *Catalog, rs []Result) *Predictor {
	t.Helper()
	p, err := NewPredictor(context.Background(), cat, rs, PredictorOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMeasuredValuesWin(t *testing.T) {
	cat := MustBuiltinCatalog()
	cfg := Config{Model: "gpt2", Hardware: "cuda", BatchSize: 4, Precision: FP16, SequenceLength: 128}
	rs := []Result{{Config: cfg, LatencyMS: 12, Source: "a"}, {Config: cfg, LatencyMS: 27, MemoryMB: 900, Source: "b"}}
	pr, err := mustPredictor(t, cat, rs).Predict(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Latency.Measured || math.Abs(pr.Latency.Value-18) > 1e-9 || pr.Latency.Low != 12 || pr.Latency.High != 27 {
		t.Errorf("measured latency: %+v; want geometric mean 18 in [12, 27]", pr.Latency)
	}
	if !pr.Throughput.Measured || math.Abs(pr.Throughput.Value-4000.0/18) > 1e-9 {
		t.Errorf("throughput not derived from measured latency: %+v", pr.Throughput)
	}
	if !pr.Memory.Measured || pr.Memory.Value != 900 {
		t.Errorf("measured memory: %+v", pr.Memory)
	}
}

func TestPredictorDeterministic(t *testing.T) {
	cat := MustBuiltinCatalog()
	h := DemoHistory(cat)
	cfg := Config{Model: "openai/whisper-tiny", Hardware: "rocm", BatchSize: 16, Precision: FP16}
	a, _ := mustPredictor(t, cat, h).Predict(cfg)
	b, _ := mustPredictor(t, cat, h).Predict(cfg)
	if a.Latency != b.Latency || a.Memory != b.Memory {
		t.Errorf("same data and seed gave %+v and %+v", a.Latency, b.Latency)
	}
}

func TestOneWrongRowCannotDragADevice(t *testing.T) {
	// Every device measured in the simulated world; one device's rows
	// include a measurement 4× too fast. The model must flag that row
	// (and no other) and keep the device's other predictions where the
	// clean fit puts them.
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	// 200 results: a text-generation candidate runs as two (its prefill and
	// its decode step), so this holds about the configurations 160 did.
	clean := SimulateHistory(cat, DemoWorld, DefaultSpace(cat), 200, 9)
	var bad int = -1
	for i, r := range clean {
		if r.Hardware == "rocm" {
			bad = i
			break
		}
	}
	dirty := slices.Clone(clean)
	dirty[bad].LatencyMS /= 4
	dirty[bad].Throughput *= 4
	pc, pd := mustPredictor(t, cat, clean), mustPredictor(t, cat, dirty)
	flags := pd.Flags()
	if len(flags) != 1 || flags[0].Key() != dirty[bad].Key() || flags[0].Metric != Latency || flags[0].Ratio > 0.35 {
		t.Fatalf("flags %+v; want exactly %s, about 4× fast", flags, dirty[bad].Config)
	}
	if !strings.Contains(flags[0].Why, "faster than similar configurations predict") {
		t.Errorf("why: %q", flags[0].Why)
	}
	if f := pc.Flags(); len(f) != 0 {
		t.Errorf("clean data flagged: %+v", f)
	}
	var cfgs []Config
	for _, c := range DefaultSpace(cat).Configs(cat) {
		if c.Hardware == "rocm" && !pc.Measured(c) {
			cfgs = append(cfgs, c)
		}
	}
	bc, _ := pc.PredictAll(ctx, cfgs)
	bd, _ := pd.PredictAll(ctx, cfgs)
	worst := 0.0
	for i := range cfgs {
		worst = math.Max(worst, math.Abs(math.Log(bd.Preds[i].Latency.Value/bc.Preds[i].Latency.Value)))
	}
	if worst > 0.05 {
		t.Errorf("one wrong row moved the device's predictions by up to %.1f%%", (math.Exp(worst)-1)*100)
	}
	pr, _ := pd.Predict(dirty[bad].Config)
	if len(pr.Flags) != 1 {
		t.Errorf("the flagged configuration's prediction carries flags %+v", pr.Flags)
	}
}

func TestOneWrongRowOnANewDeviceCannotDragIt(t *testing.T) {
	// A device nothing was measured on gets its first few measurements, as
	// after the active learner's reveals; one of them is 3× too fast, and
	// it is the only row of a level (the device itself, or the device at a
	// precision). It must be flagged and must not move the device's other
	// predictions from where the other rows put them: a level seen once
	// cannot tell its effect from an artefact, so its group variance must
	// not grow to explain it.
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	space := DefaultSpace(cat)
	const dev = "rocm"
	var hist, devRows []Result
	for _, r := range SimulateHistory(cat, DemoWorld, space, 400, 3) {
		switch {
		case r.Hardware != dev:
			hist = append(hist, r)
		case r.Phase == "":
			devRows = append(devRows, r)
		}
	}
	// fp16 rows of one model, and an fp32 row of another.
	pick := func(prec Precision, notModel string) Result {
		for _, r := range devRows {
			if r.Precision == prec && r.Model != notModel {
				return r
			}
		}
		t.Fatalf("no %s row on %s", prec, dev)
		return Result{}
	}
	a := pick(FP16, "")
	b := pick(FP16, a.Model)
	c := pick(FP32, "")
	for _, tc := range []struct {
		name  string
		clean []Result // the other rows revealed on the device
		wrong Result
	}{
		{"the device's only row", nil, a},
		{"alone at its precision", []Result{a, b}, c},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.wrong
			bad.LatencyMS /= 3
			bad.Throughput *= 3
			ref := mustPredictor(t, cat, append(slices.Clone(hist), tc.clean...))
			got := mustPredictor(t, cat, append(append(slices.Clone(hist), tc.clean...), bad))
			flagged := false
			for _, f := range got.Flags() {
				flagged = flagged || f.Key() == bad.Key()
			}
			if !flagged {
				t.Errorf("the 3× row %s is not flagged (flags %+v)", bad.Config, got.Flags())
			}
			var cfgs []Config
			for _, cfg := range space.Configs(cat) {
				if cfg.Hardware == dev && cfg.Phase == "" && !got.Measured(cfg) {
					cfgs = append(cfgs, cfg)
				}
			}
			br, err := ref.PredictAll(ctx, cfgs)
			if err != nil {
				t.Fatal(err)
			}
			bg, err := got.PredictAll(ctx, cfgs)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range cfgs {
				worst = math.Max(worst, math.Abs(math.Log(bg.Preds[i].Latency.Value/br.Preds[i].Latency.Value)))
			}
			if worst > math.Log(1.1) {
				t.Errorf("the 3× row moved the device's other predictions by up to %.0f%%", (math.Exp(worst)-1)*100)
			}
		})
	}
}

func TestFlagDeviates(t *testing.T) {
	// A configuration measured 5× faster than predicted (geometric mean
	// over its rows): the rows at least that far, the same way, are the
	// ones to check.
	f := Flag{Metric: Latency, Ratio: 0.2, Predicted: 10}
	for _, tc := range []struct {
		lat  float64
		want bool
	}{{2, true}, {1, true}, {1.9996, true}, {3, false}, {10, false}, {50, false}} {
		r := Result{Config: Config{BatchSize: 1}, LatencyMS: tc.lat}
		if got := f.Deviates(r); got != tc.want {
			t.Errorf("latency %v: deviates %v, want %v", tc.lat, got, tc.want)
		}
	}
	if got := f.WhyFor(Result{Config: Config{BatchSize: 1}, LatencyMS: 1}); got != "measured 10.0× faster than similar configurations predict" {
		t.Errorf("why for one row: %q", got)
	}
	m := Flag{Metric: Memory, Ratio: 2, Predicted: 100}
	if !m.Deviates(Result{MemoryMB: 250}) || m.Deviates(Result{MemoryMB: 150}) {
		t.Error("memory rows")
	}
}
