package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Loop strategies.
const (
	StrategyActive      = "active"
	StrategyRandom      = "random"
	StrategyUncertainty = "uncertainty"
)

// LoopStrategies lists the valid strategies.
var LoopStrategies = []string{StrategyActive, StrategyRandom, StrategyUncertainty}

// LoopOptions configure SimulateLoop.
type LoopOptions struct {
	Strategies []string
	Rounds     int
	Batch      int
	Initial    int // size of the random seed set
	Seeds      []uint64
	Metric     Metric
	// Target is the median APE (percent) a strategy must reach.
	Target   float64
	Progress func(done, total int)
}

// LoopPoint is the error on the unrevealed rest after some measurements.
type LoopPoint struct {
	Measured  int     `json:"measured"`
	MAPE      float64 `json:"mape"`
	MedianAPE float64 `json:"median_ape"`
}

// LoopCurve is one strategy's run at one seed.
type LoopCurve struct {
	Strategy string      `json:"strategy"`
	Seed     uint64      `json:"seed"`
	Points   []LoopPoint `json:"points"`
	// Needed is the number of measurements at which median APE first fell
	// to the target, or -1 when it never did.
	Needed int `json:"needed"`
}

// LoopStat is the median and spread (min..max) over seeds at one round.
type LoopStat struct {
	Measured int     `json:"measured"`
	Median   float64 `json:"median_ape"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
}

// LoopSummary aggregates a strategy over seeds.
type LoopSummary struct {
	Strategy string     `json:"strategy"`
	Rounds   []LoopStat `json:"rounds"`
	// NeededMedian is the median over seeds of measurements needed to reach
	// the target (seeds that never reached it count as -1 and make the
	// median -1 when they are the majority).
	NeededMedian float64 `json:"needed_median"`
	Needed       []int   `json:"needed"`
}

// LoopReport is the outcome of SimulateLoop.
type LoopReport struct {
	Metric    Metric        `json:"metric"`
	Target    float64       `json:"target_median_ape"`
	Pool      int           `json:"pool"`
	Initial   int           `json:"initial"`
	Batch     int           `json:"batch"`
	Rounds    int           `json:"rounds"`
	Seeds     []uint64      `json:"seeds"`
	Summaries []LoopSummary `json:"summaries"`
	Curves    []LoopCurve   `json:"curves"`
}

// SimulateLoop replays benchmarking: from a small random seed set it
// "measures" batches chosen by each strategy by revealing held-back true
// values, retrains, and records the error on the unrevealed rest.
func SimulateLoop(ctx context.Context, cat *Catalog, truth []Result, opts LoopOptions) (*LoopReport, error) {
	if opts.Rounds <= 0 || opts.Batch <= 0 || opts.Initial <= 0 {
		return nil, fmt.Errorf("rounds, batch and initial must be positive")
	}
	if len(opts.Seeds) == 0 {
		opts.Seeds = []uint64{1}
	}
	if opts.Metric == "" {
		opts.Metric = Latency
	}
	if len(opts.Strategies) == 0 {
		opts.Strategies = LoopStrategies
	}
	for _, s := range opts.Strategies {
		if !slices.Contains(LoopStrategies, s) {
			return nil, fmt.Errorf("unknown strategy %q (valid: active, random, uncertainty)", s)
		}
	}
	pts, err := points(cat, truth)
	if err != nil {
		return nil, err
	}
	var pool []point
	for _, pt := range pts {
		if pt.truth(opts.Metric) > 0 {
			pool = append(pool, pt)
		}
	}
	if need := opts.Initial + opts.Batch*opts.Rounds; len(pool) <= need {
		return nil, fmt.Errorf("pool of %d measured configurations is too small for %d initial + %d×%d revealed", len(pool), opts.Initial, opts.Rounds, opts.Batch)
	}
	rep := &LoopReport{Metric: opts.Metric, Target: opts.Target, Pool: len(pool), Initial: opts.Initial, Batch: opts.Batch,
		Rounds: opts.Rounds, Seeds: opts.Seeds}
	total, done := len(opts.Seeds)*len(opts.Strategies), 0
	for _, strat := range opts.Strategies {
		for _, seed := range opts.Seeds {
			c, err := runLoop(ctx, cat, pool, strat, seed, opts)
			if err != nil {
				return nil, err
			}
			rep.Curves = append(rep.Curves, *c)
			done++
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		}
	}
	for _, strat := range opts.Strategies {
		s := LoopSummary{Strategy: strat}
		var curves []LoopCurve
		for _, c := range rep.Curves {
			if c.Strategy == strat {
				curves = append(curves, c)
				s.Needed = append(s.Needed, c.Needed)
			}
		}
		for r := range curves[0].Points {
			var v []float64
			for _, c := range curves {
				v = append(v, c.Points[r].MedianAPE)
			}
			s.Rounds = append(s.Rounds, LoopStat{Measured: curves[0].Points[r].Measured, Median: round4(median(v)),
				Low: round4(slices.Min(v)), High: round4(slices.Max(v))})
		}
		s.NeededMedian = neededMedian(s.Needed)
		rep.Summaries = append(rep.Summaries, s)
	}
	return rep, nil
}

// neededMedian treats "never reached" as larger than any count.
func neededMedian(needed []int) float64 {
	v := make([]float64, len(needed))
	for i, n := range needed {
		v[i] = float64(n)
		if n < 0 {
			v[i] = math.Inf(1)
		}
	}
	m := median(v)
	if math.IsInf(m, 1) || math.IsNaN(m) {
		return -1
	}
	return m
}

func runLoop(ctx context.Context, cat *Catalog, pool []point, strat string, seed uint64, opts LoopOptions) (*LoopCurve, error) {
	// The seed set depends on the seed only, so strategies start equal.
	rng := rand.New(rand.NewPCG(seed, 0x1009))
	order := rng.Perm(len(pool))
	revealed := make([]bool, len(pool))
	for _, i := range order[:opts.Initial] {
		revealed[i] = true
	}
	pick := rand.New(rand.NewPCG(seed, 0x5e1ec7))
	c := &LoopCurve{Strategy: strat, Seed: seed, Needed: -1}
	for round := 0; round <= opts.Rounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var train []Result
		var restIdx []int
		for i, r := range revealed {
			if r {
				train = append(train, pool[i].results...)
			} else {
				restIdx = append(restIdx, i)
			}
		}
		p, err := NewPredictor(ctx, cat, train, PredictorOptions{Seed: seed})
		if err != nil {
			return nil, err
		}
		cfgs := make([]Config, len(restIdx))
		for i, ri := range restIdx {
			cfgs[i] = pool[ri].cfg
		}
		b, err := p.PredictAll(ctx, cfgs)
		if err != nil {
			return nil, err
		}
		apes := make([]float64, len(restIdx))
		sum := 0.0
		for i, ri := range restIdx {
			apes[i] = math.Abs(b.Preds[i].Get(opts.Metric).Value/pool[ri].truth(opts.Metric)-1) * 100
			sum += apes[i]
		}
		pt := LoopPoint{Measured: len(train), MAPE: round4(sum / float64(len(apes))), MedianAPE: round4(median(apes))}
		pt.Measured = len(pool) - len(restIdx)
		c.Points = append(c.Points, pt)
		if c.Needed < 0 && opts.Target > 0 && pt.MedianAPE <= opts.Target {
			c.Needed = pt.Measured
		}
		if round == opts.Rounds {
			break
		}
		var chosen []int // indexes into restIdx
		switch strat {
		case StrategyRandom:
			perm := pick.Perm(len(restIdx))
			chosen = perm[:opts.Batch]
		case StrategyUncertainty:
			idx := make([]int, len(restIdx))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b2 int) bool {
				return b.Preds[idx[a]].Get(opts.Metric).Std > b.Preds[idx[b2]].Get(opts.Metric).Std
			})
			chosen = idx[:opts.Batch]
		case StrategyActive:
			picks, err := p.SelectBatch(ctx, cfgs, opts.Metric, opts.Batch)
			if err != nil {
				return nil, err
			}
			at := map[string]int{}
			for i, cf := range cfgs {
				at[cf.Key()] = i
			}
			for _, pk := range picks {
				chosen = append(chosen, at[pk.Key()])
			}
		}
		for _, i := range chosen {
			revealed[restIdx[i]] = true
		}
	}
	return c, nil
}

// SimulatedTruth measures every feasible configuration of a space in a
// world: the ground truth the loop reveals on the simulated space.
func SimulatedTruth(cat *Catalog, w World, space Space, seed uint64) []Result {
	rng := rand.New(rand.NewPCG(seed, 0x7e57))
	var out []Result
	for _, c := range space.Configs(cat) {
		m, h := cat.Model(c.Model), cat.Hardware(c.Hardware)
		if RooflineFor(m, h, c).Feasible {
			out = append(out, w.Run(m, h, c, rng)...)
		}
	}
	return out
}
