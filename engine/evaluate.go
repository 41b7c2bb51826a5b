package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Split names.
const (
	SplitKFold    = "kfold"
	SplitHardware = "hardware"
	SplitModel    = "model"
)

// Splits lists the valid split names.
var Splits = []string{SplitKFold, SplitHardware, SplitModel}

// EvalOptions configure Evaluate.
type EvalOptions struct {
	Split   string
	Metrics []Metric
	// Folds for k-fold (default 5).
	Folds int
	// Reveal, for hardware and model splits, first measures this many
	// configurations of the held-out group chosen by the active learner
	// (trained on the other groups), then evaluates on the rest of it.
	Reveal int
	Seed   uint64
	// RooflineOnly evaluates the plain roofline prior (no learning).
	RooflineOnly bool
	// Phases limits the held-out configurations scored to these phases
	// (empty: all); training still sees every other measurement.
	Phases []Phase
	// Progress, if set, is called after each fold.
	Progress func(done, total int)
}

// EvalRow is one line of an evaluation: percentages as 0..100, Spearman
// and coverage as 0..1. Group names the held-out hardware or model for the
// per-group rows of hardware and model splits ("" for the whole split).
type EvalRow struct {
	Split     string `json:"split"`
	Metric    Metric `json:"metric"`
	Predictor string `json:"predictor"`
	Group     string `json:"group,omitempty"`
	// Phase names the text-generation phase the row scores ("" all of them).
	Phase      string  `json:"phase,omitempty"`
	Revealed   int     `json:"revealed,omitempty"`
	N          int     `json:"n"`
	MAPE       float64 `json:"mape"`
	MedianAPE  float64 `json:"median_ape"`
	Within10   float64 `json:"within_10"`
	Within25   float64 `json:"within_25"`
	Spearman   float64 `json:"spearman"`
	Coverage80 float64 `json:"coverage_80"`
	// Coverage50 and Coverage95 are the shares inside the central 50% and
	// 95% intervals of the same predictive distributions (the calibration
	// table); Width80 is the median ratio high/low of the 80% intervals.
	Coverage50 float64 `json:"coverage_50"`
	Coverage95 float64 `json:"coverage_95"`
	Width80    float64 `json:"interval_width_80"`
}

// MarshalJSON writes an undefined Spearman (no group with three or more
// hardware) as null rather than failing on NaN.
func (r EvalRow) MarshalJSON() ([]byte, error) {
	type plain EvalRow
	out := struct {
		plain
		Spearman *float64 `json:"spearman"`
	}{plain: plain(r)}
	if !math.IsNaN(r.Spearman) {
		out.Spearman = &r.Spearman
	}
	return json.Marshal(out)
}

// point is one measured configuration: its aggregated truth per metric.
type point struct {
	cfg     Config
	lat     float64 // 0: not measured
	mem     float64
	results []Result
}

func (pt point) truth(m Metric) float64 {
	switch m {
	case Throughput:
		if pt.lat > 0 {
			return pt.cfg.ItemsPerPass() * 1000 / pt.lat
		}
		return 0
	case Latency:
		return pt.lat
	default:
		return pt.mem
	}
}

// points aggregates results per configuration (geometric mean), in first-
// seen order.
func points(cat *Catalog, results []Result) ([]point, error) {
	idx := map[string]int{}
	var pts []point
	var lat, mem []geoStat
	for i, r := range results {
		cfg, err := cat.Normalize(r.Config)
		if err != nil {
			return nil, fmt.Errorf("result %d: %w", i+1, err)
		}
		r.Config = cfg
		j, ok := idx[cfg.Key()]
		if !ok {
			j = len(pts)
			idx[cfg.Key()] = j
			pts = append(pts, point{cfg: cfg})
			lat, mem = append(lat, geoStat{}), append(mem, geoStat{})
		}
		pts[j].results = append(pts[j].results, r)
		if l := r.Latency(); l > 0 {
			lat[j].add(l)
		}
		if r.MemoryMB > 0 {
			mem[j].add(r.MemoryMB)
		}
	}
	for j := range pts {
		pts[j].lat, pts[j].mem = lat[j].v, mem[j].v
	}
	return pts, nil
}

// LatestSourcePerHardware keeps, for each hardware, only the results of the
// source recorded last for it (results are in recording order): one
// measurement set per device, so software drift between releases does not
// count as prediction error.
func LatestSourcePerHardware(results []Result) []Result {
	last := map[string]string{}
	for _, r := range results {
		last[r.Hardware] = r.Source
	}
	var out []Result
	for _, r := range results {
		if last[r.Hardware] == r.Source {
			out = append(out, r)
		}
	}
	return out
}

// prediction of a held-out point.
type heldPred struct {
	pt    *point
	pred  Prediction
	group string
}

// Evaluate measures prediction quality on held-out measured data.
func Evaluate(ctx context.Context, cat *Catalog, results []Result, opts EvalOptions) ([]EvalRow, error) {
	if opts.Folds <= 1 {
		opts.Folds = 5
	}
	if len(opts.Metrics) == 0 {
		opts.Metrics = Metrics
	}
	if !slices.Contains(Splits, opts.Split) {
		return nil, fmt.Errorf("unknown split %q (valid: kfold, hardware, model)", opts.Split)
	}
	pts, err := points(cat, results)
	if err != nil {
		return nil, err
	}
	if len(pts) < 2 {
		return nil, fmt.Errorf("evaluation needs at least 2 measured configurations, have %d", len(pts))
	}
	folds := makeFolds(pts, opts)
	var held []heldPred
	for fi, f := range folds {
		hp, err := evalFold(ctx, cat, pts, f, opts)
		if err != nil {
			return nil, err
		}
		held = append(held, hp...)
		if opts.Progress != nil {
			opts.Progress(fi+1, len(folds))
		}
	}
	name := "learned"
	if opts.RooflineOnly {
		name = "roofline"
	}
	// With several phases each is scored on its own too: a prefill and a
	// decode step differ by orders of magnitude and in what limits them.
	phases := []string{""}
	seen := map[Phase]bool{}
	for _, h := range held {
		if !seen[h.pt.cfg.Phase] {
			seen[h.pt.cfg.Phase] = true
			phases = append(phases, h.pt.cfg.Phase.String())
		}
	}
	if len(phases) == 2 {
		phases = phases[:1]
	} else {
		slices.Sort(phases[1:])
	}
	var rows []EvalRow
	for _, m := range opts.Metrics {
		for _, ph := range phases {
			row := summarize(held, m, "", ph)
			if row.N == 0 {
				continue
			}
			row.Split, row.Metric, row.Predictor, row.Revealed, row.Phase = opts.Split, m, name, opts.Reveal, ph
			rows = append(rows, row)
			if opts.Split == SplitKFold {
				continue
			}
			for _, f := range folds {
				g := summarize(held, m, f.group, ph)
				if g.N == 0 {
					continue
				}
				g.Split, g.Metric, g.Predictor, g.Group, g.Revealed, g.Phase = opts.Split, m, name, f.group, opts.Reveal, ph
				rows = append(rows, g)
			}
		}
	}
	return rows, nil
}

type fold struct {
	group string
	test  map[int]bool // point indexes held out
}

func makeFolds(pts []point, opts EvalOptions) []fold {
	switch opts.Split {
	case SplitKFold:
		order := make([]int, len(pts))
		for i := range order {
			order[i] = i
		}
		rng := rand.New(rand.NewPCG(opts.Seed, 0xf01d))
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		k := min(opts.Folds, len(pts))
		fs := make([]fold, k)
		for i := range fs {
			fs[i] = fold{group: fmt.Sprintf("fold-%d", i+1), test: map[int]bool{}}
		}
		for i, p := range order {
			fs[i%k].test[p] = true
		}
		return fs
	default:
		key := func(pt point) string {
			if opts.Split == SplitHardware {
				return pt.cfg.Hardware
			}
			return pt.cfg.Model
		}
		byKey := map[string]map[int]bool{}
		var keys []string
		for i, pt := range pts {
			k := key(pt)
			if byKey[k] == nil {
				byKey[k] = map[int]bool{}
				keys = append(keys, k)
			}
			byKey[k][i] = true
		}
		sort.Strings(keys)
		var fs []fold
		for _, k := range keys {
			fs = append(fs, fold{group: k, test: byKey[k]})
		}
		return fs
	}
}

// evalFold trains on everything outside the fold (plus, with Reveal, the
// active learner's picks inside it) and predicts the rest of the fold.
func evalFold(ctx context.Context, cat *Catalog, pts []point, f fold, opts EvalOptions) ([]heldPred, error) {
	var train []Result
	var testIdx []int
	for i := range pts {
		if f.test[i] {
			if len(opts.Phases) == 0 || slices.Contains(opts.Phases, pts[i].cfg.Phase) {
				testIdx = append(testIdx, i)
			}
		} else {
			train = append(train, pts[i].results...)
		}
	}
	popts := PredictorOptions{Seed: opts.Seed, RooflineOnly: opts.RooflineOnly}
	if opts.Reveal > 0 && opts.Split != SplitKFold && len(testIdx) > opts.Reveal {
		p, err := NewPredictor(ctx, cat, train, popts)
		if err != nil {
			return nil, err
		}
		cands := make([]Config, len(testIdx))
		for i, ti := range testIdx {
			cands[i] = pts[ti].cfg
		}
		metric := Latency
		if pts[testIdx[0]].lat == 0 {
			metric = Memory
		}
		picks, err := p.SelectBatch(ctx, cands, metric, opts.Reveal)
		if err != nil {
			return nil, err
		}
		revealed := map[string]bool{}
		for _, c := range picks {
			revealed[c.Key()] = true
		}
		var rest []int
		for _, ti := range testIdx {
			if revealed[pts[ti].cfg.Key()] {
				train = append(train, pts[ti].results...)
			} else {
				rest = append(rest, ti)
			}
		}
		testIdx = rest
	}
	p, err := NewPredictor(ctx, cat, train, popts)
	if err != nil {
		return nil, err
	}
	cfgs := make([]Config, len(testIdx))
	for i, ti := range testIdx {
		cfgs[i] = pts[ti].cfg
	}
	b, err := p.PredictAll(ctx, cfgs)
	if err != nil {
		return nil, err
	}
	out := make([]heldPred, len(testIdx))
	for i, ti := range testIdx {
		if b.Preds[i].Measured() {
			return nil, fmt.Errorf("internal: held-out %s was in the training data", cfgs[i])
		}
		out[i] = heldPred{pt: &pts[ti], pred: b.Preds[i], group: f.group}
	}
	return out, nil
}

// Standard normal quantiles of the central 50% and 95% intervals.
const (
	z50 = 0.6744897501960817
	z95 = 1.959963984540054
)

// summarize scores the held-out predictions of a group ("" all) and phase
// ("" all).
func summarize(held []heldPred, m Metric, group, phase string) EvalRow {
	var apes, widths []float64
	var in, in50, in95 float64
	groups := map[Config][][2]float64{}
	var order []Config
	for _, h := range held {
		if group != "" && h.group != group || phase != "" && h.pt.cfg.Phase.String() != phase {
			continue
		}
		truth := h.pt.truth(m)
		if truth <= 0 {
			continue
		}
		e := h.pred.Get(m)
		apes = append(apes, math.Abs(e.Value/truth-1)*100)
		if truth >= e.Low && truth <= e.High {
			in++
		}
		z := math.Abs(math.Log(truth / e.Value))
		if z <= z50*e.Std {
			in50++
		}
		if z <= z95*e.Std {
			in95++
		}
		widths = append(widths, e.High/e.Low)
		k := h.pt.cfg.Group()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], [2]float64{e.Value, truth})
	}
	row := EvalRow{N: len(apes)}
	if row.N == 0 {
		return row
	}
	var w10, w25, sum float64
	for _, a := range apes {
		sum += a
		if a <= 10 {
			w10++
		}
		if a <= 25 {
			w25++
		}
	}
	n := float64(row.N)
	row.MAPE = round4(sum / n)
	row.MedianAPE = round4(median(apes))
	row.Within10 = round4(w10 / n * 100)
	row.Within25 = round4(w25 / n * 100)
	row.Coverage80 = round4(in / n)
	row.Coverage50 = round4(in50 / n)
	row.Coverage95 = round4(in95 / n)
	row.Width80 = round4(median(widths))
	// Spearman of the hardware order within each group (the configuration
	// without its hardware) with at least three hardware, averaged.
	var rhoSum float64
	var rhoN int
	for _, k := range order {
		g := groups[k]
		if len(g) < 3 {
			continue
		}
		pred, truth := make([]float64, len(g)), make([]float64, len(g))
		for i, v := range g {
			pred[i], truth[i] = v[0], v[1]
		}
		if r, ok := spearman(pred, truth); ok {
			rhoSum += r
			rhoN++
		}
	}
	row.Spearman = math.NaN()
	if rhoN > 0 {
		row.Spearman = round4(rhoSum / float64(rhoN))
	}
	return row
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ranks assigns average ranks to ties.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// spearman is the rank correlation; ok is false when either side is constant.
func spearman(a, b []float64) (float64, bool) {
	ra, rb := ranks(a), ranks(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	n := float64(len(ra))
	ma, mb = ma/n, mb/n
	var cov, va, vb float64
	for i := range ra {
		cov += (ra[i] - ma) * (rb[i] - mb)
		va += (ra[i] - ma) * (ra[i] - ma)
		vb += (rb[i] - mb) * (rb[i] - mb)
	}
	if va == 0 || vb == 0 {
		return 0, false
	}
	return cov / math.Sqrt(va*vb), true
}
