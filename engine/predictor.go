package engine

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// PredictorOptions tune a Predictor.
type PredictorOptions struct {
	// Seed fixes the random features; same data and seed, same predictions.
	Seed uint64
	// RooflineOnly disables learning: the plain roofline prior with its wide
	// prior uncertainty (the baseline evaluate reports beside ours).
	RooflineOnly bool
}

// Predictor predicts latency (hence throughput) and memory with calibrated
// uncertainty: the roofline is the prior mean, and a Bayesian model learns
// log(measured / roofline) from the results. Measured values always win.
type Predictor struct {
	cat      *Catalog
	time     *blr
	mem      *blr
	measured measuredSet // by normalized configuration
	results  []Result
	flags    []Flag
	opts     PredictorOptions
}

type measuredAgg struct {
	cfg      Config
	lat, mem geoStat
	// sources is read-only: configurations measured from one source, as
	// many times, share one map (one per configuration held tens of MB with
	// 100,000 measured configurations, issue 11).
	sources map[string]int
	flags   []Flag
	next    int32 // the next aggregate whose configuration has the same hash; −1: none
}

// geoStat is the geometric mean (v), min and max of a configuration's
// measured values, accumulated result by result.
type geoStat struct {
	v, lo, hi, sumLog float64
	n                 int
}

func (g *geoStat) add(x float64) {
	if g.n == 0 {
		g.lo, g.hi = math.Inf(1), math.Inf(-1)
	}
	g.n++
	g.sumLog += math.Log(x)
	g.lo, g.hi = math.Min(g.lo, x), math.Max(g.hi, x)
	g.v = x
	if g.n > 1 {
		g.v = math.Exp(g.sumLog / float64(g.n))
	}
}

// measuredSet holds the measured configurations' aggregates in order of
// first result, found by a hash of the configuration: a map keyed by the
// 176-byte Config held 24 MB more with 100,000 measured configurations
// (issue 11).
type measuredSet struct {
	seed  maphash.Seed
	first map[uint64]int32 // hash → the first aggregate with it
	aggs  pages[measuredAgg]
}

// get returns cfg's aggregate, or nil.
func (m *measuredSet) get(cfg Config) *measuredAgg {
	if k := m.index(cfg, maphash.Comparable(m.seed, cfg)); k >= 0 {
		return m.aggs.at(k)
	}
	return nil
}

// index returns the index of cfg's aggregate (h its hash), or −1.
func (m *measuredSet) index(cfg Config, h uint64) int {
	k, ok := m.first[h]
	for ok && k >= 0 {
		a := m.aggs.at(int(k))
		if a.cfg == cfg {
			return int(k)
		}
		k = a.next
	}
	return -1
}

// aggregate collects results by normalized configuration.
func (m *measuredSet) aggregate(cat *Catalog, results []Result) error {
	m.seed, m.first = maphash.MakeSeed(), map[uint64]int32{}
	// The sources of a configuration measured from one source only.
	type single struct {
		src string
		n   int
	}
	var singles pages[single]
	for i, r := range results {
		cfg, err := cat.Normalize(r.Config)
		if err != nil {
			return fmt.Errorf("result %d: %w", i+1, err)
		}
		h := maphash.Comparable(m.seed, cfg)
		k := m.index(cfg, h)
		if k < 0 {
			next, ok := m.first[h]
			if !ok {
				next = -1
			}
			k = m.aggs.n
			m.first[h] = int32(k)
			*m.aggs.add() = measuredAgg{cfg: cfg, next: next}
			singles.add().src = r.Source
		}
		a := m.aggs.at(k)
		if l := r.Latency(); usable(l) {
			a.lat.add(l)
		}
		if usable(r.MemoryMB) {
			a.mem.add(r.MemoryMB)
		}
		switch s := singles.at(k); {
		case a.sources != nil:
			a.sources[r.Source]++
		case s.src == r.Source:
			s.n++
		default:
			a.sources = map[string]int{s.src: s.n, r.Source: 1}
		}
	}
	shared := map[single]map[string]int{}
	for k := range m.aggs.n {
		if a, s := m.aggs.at(k), *singles.at(k); a.sources == nil {
			if shared[s] == nil {
				shared[s] = map[string]int{s.src: s.n}
			}
			a.sources = shared[s]
		}
	}
	return nil
}

// Flag marks a measured configuration the model finds far outside its
// predictive distribution given every other measurement: a likely
// measurement artefact. It is down-weighted in fitting, never dropped.
// Several results of one configuration are judged by their geometric mean;
// Deviates tells which of them carry the deviation.
type Flag struct {
	Config
	Metric Metric `json:"metric"` // latency or memory
	// Ratio is measured / predicted from the other measurements;
	// Predicted is that prediction (latency ms or memory MB).
	Ratio     float64 `json:"ratio"`
	Predicted float64 `json:"predicted"`
	// Sigma is how many predictive standard deviations away it lies.
	Sigma float64 `json:"sigma"`
	// Why says it in words, e.g. "measured 3.1× faster than similar
	// configurations predict".
	Why string `json:"why"`
}

// usable reports a measured latency (ms) or memory (MB) the predictor can
// take as measured: beyond these bounds (a picosecond, a petabyte and more)
// a value kept with --allow-implausible is a unit error, and the numbers
// derived from it (throughput = items × 1000 / latency, geometric means)
// could overflow.
func usable(v float64) bool { return v >= 1e-9 && v <= 1e12 }

// maxLogTarget bounds |log(measured / roofline)| a fit learns from (a
// factor of a million); NaN fails the comparison too.
var maxLogTarget = math.Log(1e6)

// NewPredictor fits the predictor on results. Results whose model or
// hardware the catalog does not know are an error: import validates them.
func NewPredictor(ctx context.Context, cat *Catalog, results []Result, opts PredictorOptions) (*Predictor, error) {
	p := &Predictor{cat: cat, results: results, opts: opts}
	// Both models draw the same random features, so a prediction computes
	// each configuration's features once for both (predictModels).
	p.time = newBLR(opts.Seed)
	p.mem = newBLR(opts.Seed)
	if err := p.measured.aggregate(cat, results); err != nil {
		return nil, err
	}
	if opts.RooflineOnly {
		p.time.setPrior()
		p.mem.setPrior()
		return p, nil
	}
	aggs := make([]*measuredAgg, p.measured.aggs.n)
	for k := range aggs {
		aggs[k] = p.measured.aggs.at(k)
	}
	// The fit sees the configurations in order, whatever the results' order.
	slices.SortFunc(aggs, func(a, b *measuredAgg) int { return compareConfigs(a.cfg, b.cfg) })
	// Features of every measured configuration (in parallel), then the
	// training rows in order.
	n := len(aggs)
	xs, ls, rfs := make([]float64, n*nRaw), make([]levels, n), make([][2]float64, n)
	names := make([]levelNames, workers(n))
	if err := parallelChunks(ctx, n, func(w, _, lo, hi int) {
		for i := lo; i < hi; i++ {
			cfg := aggs[i].cfg
			m, h := cat.Model(cfg.Model), cat.Hardware(cfg.Hardware)
			rf := RooflineFor(m, h, cfg)
			rawFeatures(xs[i*nRaw:(i+1)*nRaw], m, h, cfg, rf)
			ls[i], rfs[i] = names[w].levels(h, cfg, rf), [2]float64{rf.LatencyMS, rf.MemoryMB}
		}
	}); err != nil {
		return nil, err
	}
	var rowsT, rowsM []int
	var yT, yM []float64
	aggT, aggM := make([]*measuredAgg, 0, n), make([]*measuredAgg, 0, n)
	for i, a := range aggs {
		// A target that is not finite (a roofline of zero), or a million
		// times off the physics (a unit error kept with --allow-implausible),
		// would poison the fit: such a row is kept as measured but not
		// learned from. A whole request is learned through its phases
		// (engine/predict_generation.go).
		if a.lat.n > 0 && a.cfg.Phase != Generate {
			if y := math.Log(a.lat.v / rfs[i][0]); math.Abs(y) <= maxLogTarget {
				rowsT, yT = append(rowsT, i), append(yT, y)
				aggT = append(aggT, a)
			}
		}
		if a.mem.n > 0 {
			if y := math.Log(a.mem.v / rfs[i][1]); math.Abs(y) <= maxLogTarget {
				rowsM, yM = append(rowsM, i), append(yM, y)
				aggM = append(aggM, a)
			}
		}
	}
	tsT, tsM := trainRows(xs, ls, rowsT, yT), trainRows(xs, ls, rowsM, yM)
	// The two models are independent: fit them at once.
	var frM *fitResult
	var errM error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		frM, errM = p.mem.fit(ctx, tsM)
	}()
	frT, err := p.time.fit(ctx, tsT)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("fit latency model: %w", err)
	}
	if errM != nil {
		return nil, fmt.Errorf("fit memory model: %w", errM)
	}
	p.addFlags(Latency, aggT, tsT.y, frT)
	p.addFlags(Memory, aggM, tsM.y, frM)
	return p, nil
}

// compareConfigs orders configurations field by field (a total order on
// the comparable struct; cheaper than comparing Key strings). Fields are
// compared lazily: cmp.Or would compare all fifteen for every pair.
func compareConfigs(a, b Config) int {
	if c := cmp.Compare(a.Model, b.Model); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Hardware, b.Hardware); c != 0 {
		return c
	}
	if c := cmp.Compare(a.BatchSize, b.BatchSize); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Precision, b.Precision), cmp.Compare(a.SequenceLength, b.SequenceLength), cmp.Compare(a.Phase, b.Phase),
		cmp.Compare(a.GPUCount, b.GPUCount), cmp.Compare(a.Parallelism, b.Parallelism), cmp.Compare(a.PromptTokens, b.PromptTokens),
		cmp.Compare(a.OutputTokens, b.OutputTokens), cmp.Compare(a.ContextTokens, b.ContextTokens),
		cmp.Compare(a.ContextSize, b.ContextSize), cmp.Compare(a.PrecisionLabel, b.PrecisionLabel),
		cmp.Compare(a.WeightBits, b.WeightBits), cmp.Compare(a.KVCache, b.KVCache))
}

// addFlags records the training rows of one model that lie more than
// FlagSigma leave-one-out standard deviations from the rest.
func (p *Predictor) addFlags(m Metric, aggs []*measuredAgg, y []float64, fr *fitResult) {
	for i, a := range aggs {
		if i >= len(fr.z) || math.Abs(fr.z[i]) <= FlagSigma {
			continue
		}
		ratio := math.Exp(y[i] - fr.loo[i])
		v := a.lat.v
		if m == Memory {
			v = a.mem.v
		}
		f := Flag{Config: a.cfg, Metric: m, Ratio: round4(ratio), Predicted: round4(v / ratio), Sigma: round4(math.Abs(fr.z[i]))}
		f.Why = why(m, ratio)
		a.flags = append(a.flags, f)
		p.flags = append(p.flags, f)
	}
}

// why says a measured/predicted ratio in words.
func why(m Metric, ratio float64) string {
	switch {
	case m == Memory && ratio > 1:
		return fmt.Sprintf("uses %.1f× more memory than similar configurations predict", ratio)
	case m == Memory:
		return fmt.Sprintf("uses %.1f× less memory than similar configurations predict", 1/ratio)
	case ratio > 1:
		return fmt.Sprintf("measured %.1f× slower than similar configurations predict", ratio)
	default:
		return fmt.Sprintf("measured %.1f× faster than similar configurations predict", 1/ratio)
	}
}

// WhyFor is Why for one result of the configuration (its own ratio).
func (f Flag) WhyFor(r Result) string {
	v := r.Latency()
	if f.Metric == Memory {
		v = r.MemoryMB
	}
	if v <= 0 || f.Predicted <= 0 {
		return f.Why
	}
	return why(f.Metric, v/f.Predicted)
}

// Deviates reports whether a result of the flagged configuration deviates
// at least as far, in the same direction, as the configuration's geometric
// mean: the rows to check, not their consistent siblings.
func (f Flag) Deviates(r Result) bool {
	v := r.Latency()
	if f.Metric == Memory {
		v = r.MemoryMB
	}
	if v <= 0 || f.Predicted <= 0 {
		return false
	}
	lr, lf := math.Log(v/f.Predicted), math.Log(f.Ratio)
	// Ratio and Predicted are rounded to 4 digits: allow for it.
	return lr*lf > 0 && math.Abs(lr) >= math.Abs(lf)-1e-3
}

// Flags lists the flagged measured configurations (latency, then memory;
// each in configuration order).
func (p *Predictor) Flags() []Flag { return slices.Clone(p.flags) }

// Catalog returns the catalog the predictor was built with.
func (p *Predictor) Catalog() *Catalog { return p.cat }

// Results returns the results the predictor learned from.
func (p *Predictor) Results() []Result { return p.results }

// Measured reports whether a configuration has any measurement.
func (p *Predictor) Measured(cfg Config) bool { return p.measured.get(cfg) != nil }

// NoiseStd returns the fitted pooled noise of the latency and memory models
// (log).
func (p *Predictor) NoiseStd() (latency, memory float64) { return p.time.hp.noise, p.mem.hp.noise }

// Prediction is everything known about one configuration.
type Prediction struct {
	Config
	ModelType  string
	Roofline   Roofline
	Feasible   bool
	Reason     string
	Latency    Estimate
	Throughput Estimate
	Memory     Estimate
	// Uncertainty is the share of prior (epistemic) uncertainty left for
	// the latency and memory models, in [0,1].
	LatencyUncertainty, MemoryUncertainty float64
	Sources                               map[string]int
	// Flags are set on measured configurations whose measurement the model
	// finds implausible (see Flag).
	Flags []Flag
	// Text generation (engine/predict_generation.go): time to first token
	// and per output token, the batch's KV cache and how many sequences fit.
	TTFT, TPOT, KVCacheMB, MaxConcurrency Estimate
}

// Get returns the estimate of a metric.
func (p *Prediction) Get(m Metric) Estimate {
	switch m {
	case Throughput:
		return p.Throughput
	case Latency:
		return p.Latency
	default:
		return p.Memory
	}
}

// Measured reports whether any metric of the prediction was measured.
func (p *Prediction) Measured() bool { return p.Latency.Measured || p.Memory.Measured }

// Intervals converts to the JSON "predicted" object; text-generation rows
// add TTFT, TPOT, output tokens/s, max concurrency and KV cache.
func (p *Prediction) Intervals() PredictedMetrics {
	c := func(e Estimate) Interval {
		return Interval{Value: round4(e.Value), Low: round4(e.Low), High: round4(e.High), Measured: e.Measured}
	}
	out := PredictedMetrics{Throughput: c(p.Throughput), LatencyMS: c(p.Latency), MemoryMB: c(p.Memory)}
	opt := func(e Estimate) *Interval {
		if e.Value <= 0 && e.High <= 0 {
			return nil
		}
		iv := c(e)
		return &iv
	}
	if p.Generative() {
		out.TTFTMS, out.TPOTMS, out.KVCacheMB, out.MaxConcurrency = opt(p.TTFT), opt(p.TPOT), opt(p.KVCacheMB), opt(p.MaxConcurrency)
		if p.Phase != Prefill {
			out.OutputTokensPerS = opt(p.Throughput)
		}
	}
	return out
}

// Batch holds predictions for many configurations (PredictAll). Inside the
// engine a chunk's batch also carries, for the model of one metric, what
// the active learner conditions on (predictLearn keeps it for the open
// rows).
type Batch struct {
	Preds  []Prediction
	raw    *mat.Dense // rows × nRaw
	lev    []levels
	vars   []float64 // epistemic variances of the kept model
	noise2 []float64 // noise variance per row of the kept model
	// rff and rffAt are the random Fourier features of the rows the kept
	// model predicted (design.rff), for the selector.
	rff   []float64
	rffAt []int32
}

// Predict predicts one configuration.
func (p *Predictor) Predict(cfg Config) (Prediction, error) {
	cfg, err := p.cat.Normalize(cfg)
	if err != nil {
		return Prediction{}, err
	}
	b, err := p.PredictAll(context.Background(), []Config{cfg})
	if err != nil {
		return Prediction{}, err
	}
	return b.Preds[0], nil
}

// PredictAll predicts configurations, which must be normalized (known ids,
// sequence length set), in one vectorized pass.
func (p *Predictor) PredictAll(ctx context.Context, cfgs []Config) (*Batch, error) {
	out := &Batch{Preds: make([]Prediction, len(cfgs))}
	if err := p.predictAll(ctx, cfgs, "", func(lo int, b *Batch) { copy(out.Preds[lo:], b.Preds) }); err != nil {
		return nil, err
	}
	return out, nil
}

// scoreRow is what ranking candidates reads of one prediction.
type scoreRow struct {
	// value and std are the learner's metric's estimate and its log
	// standard deviation; memoryMB is the predicted memory; uncertainty is
	// the learner's model's share of prior uncertainty.
	value, std, memoryMB, uncertainty float64
	reason                            string // why it is infeasible
	feasible, measured                bool
}

// learnBatch is what ranking candidates and the active learner need of the
// predictions of many configurations: a scoreRow per configuration, the
// selector's inputs for the open ones (unmeasured and feasible: the only
// candidates) and the raw features of the measured ones (diversity). The
// full predictions and features of every row of a large space held most of
// integrate's peak memory (issue 11); the rows shown are predicted again
// whole.
type learnBatch struct {
	cfgs []Config
	rows []scoreRow
	// open holds the selector's inputs of the open rows, in order; openRows
	// are their indices in cfgs.
	open     *openRows
	openRows []int
	// measured holds the raw features of the measured rows.
	measured measuredFeatures
}

// openRows holds what the selector conditions on for the open rows of a
// learner batch, in pages: their number is known only once predicted, and
// room reserved for every unmeasured row, or arrays grown by copying, held
// tens of MB (issue 11).
type openRows struct {
	model *blr // the kept model
	raw   pages[[nRaw]float64]
	// A row's levels are its level values and one of the distinct level
	// keys (consecutive rows mostly share them).
	lev          pages[levelValues]
	levKeys      [][nGroups]string
	vars, noise2 pages[float64] // the kept model's epistemic and noise variances
	// rff holds the random features of the rows at rffAt (−1: not computed).
	rff   pages[[nRFF]float64]
	rffAt pages[int32]
}

// add appends row k of a batch predicted with a model kept.
func (o *openRows) add(b *Batch, k int) {
	copy(o.raw.add()[:], b.raw.RawRowView(k))
	l := &b.lev[k]
	if n := len(o.levKeys); n == 0 || o.levKeys[n-1] != l.key {
		o.levKeys = append(o.levKeys, l.key)
	}
	*o.lev.add() = levelValues{val: l.val, stratum: l.stratum, keys: int32(len(o.levKeys) - 1)}
	*o.vars.add(), *o.noise2.add() = b.vars[k], b.noise2[k]
	at := int32(-1)
	if c := int(b.rffAt[k]); c >= 0 {
		at = int32(o.rff.n)
		copy(o.rff.add()[:], b.rff[c*nRFF:(c+1)*nRFF])
	}
	*o.rffAt.add() = at
}

// levelValues are a row's levels but for their keys (openRows.levKeys).
type levelValues struct {
	val     [nGroups]float64
	stratum uint8
	keys    int32
}

// keys returns open row r's level keys.
func (o *openRows) keys(r int) *[nGroups]string { return &o.levKeys[o.lev.at(r).keys] }

// levels returns open row r's levels.
func (o *openRows) levels(r int) levels {
	v := o.lev.at(r)
	return levels{key: o.levKeys[v.keys], val: v.val, stratum: v.stratum}
}

// predictLearn predicts configurations (normalized) keeping keep's model for
// the learner.
func (p *Predictor) predictLearn(ctx context.Context, cfgs []Config, keep Metric) (*learnBatch, error) {
	lb := &learnBatch{cfgs: cfgs, rows: make([]scoreRow, len(cfgs)), open: &openRows{model: p.time}}
	if keep == Memory {
		lb.open.model = p.mem
	}
	err := p.predictAll(ctx, cfgs, keep, func(lo int, b *Batch) {
		for k := range b.Preds {
			pr := &b.Preds[k]
			u := pr.LatencyUncertainty
			if keep == Memory {
				u = pr.MemoryUncertainty
			}
			e := pr.Get(keep)
			lb.rows[lo+k] = scoreRow{value: e.Value, std: e.Std, memoryMB: pr.Memory.Value, uncertainty: u, reason: pr.Reason,
				feasible: pr.Feasible, measured: pr.Measured()}
			switch {
			case pr.Measured():
				lb.measured.add(b.raw.RawRowView(k))
			case pr.Feasible:
				lb.openRows = append(lb.openRows, lo+k)
				lb.open.add(b, k)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return lb, nil
}

// pages is an append-only list kept in pages of pageLen elements: beyond
// the first page, growing it never copies (a slice grown by append to
// 100,000 large elements allocated several times its size, issue 11). An
// element's address is stable once the first page is full.
type pages[T any] struct {
	pages [][]T
	n     int
}

const pageLen = 1024

// add appends a zero element and returns it.
func (s *pages[T]) add() *T {
	if s.n%pageLen == 0 && s.n > 0 || s.pages == nil {
		// The first page grows as needed; the others are whole at once.
		s.pages = append(s.pages, make([]T, 0, min(s.n, pageLen)))
	}
	last := &s.pages[len(s.pages)-1]
	var zero T
	*last = append(*last, zero)
	s.n++
	return &(*last)[len(*last)-1]
}

func (s *pages[T]) at(i int) *T { return &s.pages[i/pageLen][i%pageLen] }

// rankRow is what ranking on the learner's metric reads of row i.
func (lb *learnBatch) rankRow(i int) rankRow {
	r := &lb.rows[i]
	return rankRow{cfg: &lb.cfgs[i], value: r.value, std: r.std, memoryMB: r.memoryMB, feasible: r.feasible, reason: r.reason}
}

// predictDirect predicts each configuration with its own features, keeping
// what the active learner needs for keep's model ("" keeps none; with one
// kept, the other model's intervals and uncertainty are left at zero width);
// predictAll composes whole requests from it. skip, when set, marks the
// models a row does not need (see partSkip); the kept random features have
// room for rffSpare more rows'.
func (p *Predictor) predictDirect(ctx context.Context, cfgs []Config, keep Metric, skip []partSkip, rffSpare int, buf *batchBuf) (*Batch, error) {
	n := len(cfgs)
	b := buf.batch(n)
	if n == 0 {
		return b, nil
	}
	for _, cfg := range cfgs {
		if p.cat.Model(cfg.Model) == nil || p.cat.Hardware(cfg.Hardware) == nil {
			return nil, fmt.Errorf("predict %s: unknown model or hardware", cfg)
		}
	}
	skipT, skipM, aggs := buf.skipT[:n], buf.skipM[:n], buf.aggs[:n]
	names := make([]levelNames, workers(n))
	if err := parallelChunks(ctx, n, func(w, _, lo, hi int) {
		for i := lo; i < hi; i++ {
			cfg := cfgs[i]
			m, h := p.cat.Model(cfg.Model), p.cat.Hardware(cfg.Hardware)
			rf := RooflineFor(m, h, cfg)
			rawFeatures(b.raw.RawRowView(i), m, h, cfg, rf)
			b.lev[i] = names[w].levels(h, cfg, rf)
			b.Preds[i] = Prediction{Config: cfg, ModelType: m.ModelType, Roofline: rf}
			skipT[i], skipM[i] = false, false
			aggs[i] = p.measured.get(cfg)
			if a := aggs[i]; a != nil {
				// Measured values win: the model is not needed there.
				skipT[i], skipM[i] = a.lat.n > 0, a.mem.n > 0
			}
			if skip != nil {
				skipT[i], skipM[i] = skipT[i] || skip[i].latency, skipM[i] || skip[i].memory
			}
		}
	}); err != nil {
		return nil, err
	}
	raw := b.raw.RawMatrix().Data[:n*nRaw]
	// With a model kept for the active learner, the other one's variances
	// are not needed for every row (integrate re-predicts its picks whole).
	dT, dM := p.time.redesign(&buf.dT, raw, b.lev, p.time.lev), p.mem.redesign(&buf.dM, raw, b.lev, p.mem.lev)
	if keep != "" {
		// The selector needs the random features of the kept model's rows:
		// they are computed once, here (both models share them).
		skipK := skipT
		if keep == Memory {
			skipK = skipM
		}
		need := buf.need[:0]
		for i, s := range skipK {
			if !s {
				need = append(need, i)
			}
		}
		// Room grown twofold: chunks' needs vary a little.
		if c := (len(need) + rffSpare) * nRFF; cap(dT.rff) < c {
			dT.rff = make([]float64, 0, max(c, 2*cap(dT.rff)))
		}
		if err := p.time.cacheRFF(ctx, dT, need, rffSpare); err != nil {
			return nil, err
		}
		dM.rff, dM.rffAt = dT.rff, dT.rffAt
		b.rff, b.rffAt = dT.rff, dT.rffAt
	}
	out, err := predictModels(ctx, []modelRows{
		{model: p.time, d: dT, skip: skipT, meanOnly: keep == Memory},
		{model: p.mem, d: dM, skip: skipM, meanOnly: keep != "" && keep != Memory},
	}, nil)
	if err != nil {
		return nil, err
	}
	muT, epiT, priT := out[0].mean, out[0].epi, out[0].prior
	muM, epiM, priM := out[1].mean, out[1].epi, out[1].prior
	noise := func(model *blr, out []float64) []float64 {
		s2 := model.hp.noise * model.hp.noise
		for i := range out {
			out[i] = s2 * model.kappaOf(b.lev[i].key[reHardware])
		}
		return out
	}
	nT, nM := noise(p.time, buf.noiseT[:n]), noise(p.mem, buf.noiseM[:n])
	switch {
	case keep == Memory:
		b.vars, b.noise2 = epiM, nM
	case keep != "":
		b.vars, b.noise2 = epiT, nT
	}
	// Each row's prediction depends on the row only: all cores fill them.
	parallelRows(n, func(_, i int) {
		pr := &b.Preds[i]
		rf := pr.Roofline
		pr.Latency = logEstimate(math.Log(rf.LatencyMS)+muT[i], math.Sqrt((epiT[i]+nT[i])*p.time.varFactor(&b.lev[i])))
		pr.Memory = logEstimate(math.Log(rf.MemoryMB)+muM[i], math.Sqrt((epiM[i]+nM[i])*p.mem.varFactor(&b.lev[i])))
		pr.LatencyUncertainty = math.Sqrt(epiT[i] / math.Max(priT[i], 1e-12))
		pr.MemoryUncertainty = math.Sqrt(epiM[i] / math.Max(priM[i], 1e-12))
		if a := aggs[i]; a != nil {
			pr.Sources = a.sources
			pr.Flags = a.flags
			if a.lat.n > 0 {
				pr.Latency = Estimate{Value: a.lat.v, Low: a.lat.lo, High: a.lat.hi, Measured: true}
				pr.LatencyUncertainty = 0
			}
			if a.mem.n > 0 {
				pr.Memory = Estimate{Value: a.mem.v, Low: a.mem.lo, High: a.mem.hi, Measured: true}
				pr.MemoryUncertainty = 0
			}
		}
		pr.Throughput = throughputOf(pr.Config, pr.Latency)
		h := p.cat.Hardware(pr.Hardware)
		switch {
		case pr.Measured():
			pr.Feasible = true
		case !rf.Supported:
			pr.Reason = rf.Reason
		case pr.Memory.Value > float64(pr.GPUs())*h.UsableMemoryMB():
			pr.Reason = fmt.Sprintf("out of memory: needs %.0f MB of %.0f MB", pr.Memory.Value, float64(pr.GPUs())*h.UsableMemoryMB())
		default:
			pr.Feasible = true
		}
	})
	return b, nil
}

// batchBuf holds a batch's predictions, raw features, levels and skip
// marks for reuse: predictAll predicts chunk after chunk into the same
// memory, and the garbage of a fresh batch per chunk set the peak heap
// (issue 11).
type batchBuf struct {
	preds          []Prediction
	raw            []float64
	lev            []levels
	skipT, skipM   []bool
	aggs           []*measuredAgg // nil: not measured
	noiseT, noiseM []float64
	need           []int
	dT, dM         design // the models' designs
}

// batch returns a batch of n rows on the buffer's memory (which grows, at
// least twofold, when n does); predictDirect overwrites every row.
func (buf *batchBuf) batch(n int) *Batch {
	if cap(buf.preds) < n {
		c := max(n, 2*cap(buf.preds))
		buf.preds, buf.raw, buf.lev = make([]Prediction, c), make([]float64, c*nRaw), make([]levels, c)
		buf.skipT, buf.skipM, buf.aggs = make([]bool, c), make([]bool, c), make([]*measuredAgg, c)
		buf.noiseT, buf.noiseM, buf.need = make([]float64, c), make([]float64, c), make([]int, c)
	}
	b := &Batch{Preds: buf.preds[:n], raw: mat.NewDense(1, nRaw, nil), lev: buf.lev[:n]}
	if n > 0 {
		b.raw = mat.NewDense(n, nRaw, buf.raw[:n*nRaw])
	}
	return b
}

func logEstimate(mu, sd float64) Estimate {
	return Estimate{Value: math.Exp(mu), Low: math.Exp(mu - Z80*sd), High: math.Exp(mu + Z80*sd), Std: sd}
}
