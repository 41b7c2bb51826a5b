package engine

import (
	"context"
	"fmt"
	"math"
	"sort"

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
	feat     *featurizer
	time     *blr
	mem      *blr
	measured map[string]*measuredAgg
	results  []Result
	opts     PredictorOptions
}

type measuredAgg struct {
	cfg      Config
	lat, mem []float64
	sources  map[string]int
}

// geo returns the geometric mean, min and max of positive values.
func geo(vals []float64) (v, lo, hi float64) {
	if len(vals) == 1 {
		return vals[0], vals[0], vals[0]
	}
	s := 0.0
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range vals {
		s += math.Log(x)
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return math.Exp(s / float64(len(vals))), lo, hi
}

// NewPredictor fits the predictor on results. Results whose model or
// hardware the catalog does not know are an error: import validates them.
func NewPredictor(ctx context.Context, cat *Catalog, results []Result, opts PredictorOptions) (*Predictor, error) {
	f := newFeaturizer(cat)
	p := &Predictor{cat: cat, feat: f, measured: map[string]*measuredAgg{}, results: results, opts: opts}
	idOffset := 1 + nRaw
	p.time = newBLR(f.nLinear(), idOffset, defaultRFF, opts.Seed)
	p.mem = newBLR(f.nLinear(), idOffset, defaultRFF, opts.Seed+1)
	for i, r := range results {
		cfg, err := cat.Normalize(r.Config)
		if err != nil {
			return nil, fmt.Errorf("result %d: %w", i+1, err)
		}
		a := p.measured[cfg.Key()]
		if a == nil {
			a = &measuredAgg{cfg: cfg, sources: map[string]int{}}
			p.measured[cfg.Key()] = a
		}
		if l := r.Latency(); l > 0 {
			a.lat = append(a.lat, l)
		}
		if r.MemoryMB > 0 {
			a.mem = append(a.mem, r.MemoryMB)
		}
		a.sources[r.Source]++
	}
	if opts.RooflineOnly {
		if err := p.time.setPosterior(&trainSet{}, p.time.hp); err != nil {
			return nil, err
		}
		return p, p.mem.setPosterior(&trainSet{}, p.mem.hp)
	}
	var tsT, tsM trainSet
	keys := make([]string, 0, len(p.measured))
	for k := range p.measured {
		keys = append(keys, k)
	}
	sort.Strings(keys) // map order must not leak into the fit
	for _, k := range keys {
		a := p.measured[k]
		cfg := a.cfg
		m, h := cat.Model(cfg.Model), cat.Hardware(cfg.Hardware)
		rf := RooflineFor(m, h, cfg)
		x := make([]float64, nRaw)
		f.raw(x, m, h, cfg, rf)
		lin := make([]float64, f.nLinear())
		f.linear(lin, x, cfg)
		if len(a.lat) > 0 {
			v, _, _ := geo(a.lat)
			tsT.raw, tsT.lin, tsT.y = append(tsT.raw, x), append(tsT.lin, lin), append(tsT.y, math.Log(v/rf.LatencyMS))
		}
		if len(a.mem) > 0 {
			v, _, _ := geo(a.mem)
			tsM.raw, tsM.lin, tsM.y = append(tsM.raw, x), append(tsM.lin, lin), append(tsM.y, math.Log(v/rf.MemoryMB))
		}
	}
	if err := p.time.fit(ctx, &tsT); err != nil {
		return nil, fmt.Errorf("fit latency model: %w", err)
	}
	if err := p.mem.fit(ctx, &tsM); err != nil {
		return nil, fmt.Errorf("fit memory model: %w", err)
	}
	return p, nil
}

// Catalog returns the catalog the predictor was built with.
func (p *Predictor) Catalog() *Catalog { return p.cat }

// Results returns the results the predictor learned from.
func (p *Predictor) Results() []Result { return p.results }

// Measured reports whether a configuration has any measurement.
func (p *Predictor) Measured(cfg Config) bool { return p.measured[cfg.Key()] != nil }

// NoiseStd returns the fitted noise of the latency and memory models (log).
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

// Intervals converts to the JSON "predicted" object.
func (p *Prediction) Intervals() PredictedMetrics {
	c := func(e Estimate) Interval {
		return Interval{Value: round4(e.Value), Low: round4(e.Low), High: round4(e.High), Measured: e.Measured}
	}
	return PredictedMetrics{Throughput: c(p.Throughput), LatencyMS: c(p.Latency), MemoryMB: c(p.Memory)}
}

// Batch holds predictions for many configurations, plus, for the model of
// one metric, the design rows and ΦΣ the active learner conditions on.
type Batch struct {
	Preds []Prediction
	raw   *mat.Dense // rows × nRaw
	phi   *mat.Dense // design of the kept model (nil when none kept)
	V     *mat.Dense // ΦΣ of the kept model
	vars  []float64  // epistemic variances of the kept model
	model *blr
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
	return p.predictAll(ctx, cfgs, "")
}

// model returns the residual model behind a metric.
func (p *Predictor) model(m Metric) *blr {
	if m == Memory {
		return p.mem
	}
	return p.time
}

const predictChunk = 2048

// evalModel computes a model's posterior for every row, featurizing in
// chunks; with keep it also returns the full Φ and ΦΣ.
func (p *Predictor) evalModel(ctx context.Context, b *blr, raw *mat.Dense, cfgs []Config, keep bool) (mean, epi, prior []float64, phi, V *mat.Dense, err error) {
	n, d := len(cfgs), b.dim()
	if keep {
		phi = mat.NewDense(n, d, nil)
	}
	buf := mat.NewDense(min(predictChunk, n), d, nil)
	for lo := 0; lo < n; lo += predictChunk {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, nil, nil, err
		}
		hi := min(lo+predictChunk, n)
		var part *mat.Dense
		if keep {
			part = phi.Slice(lo, hi, 0, d).(*mat.Dense)
		} else {
			part = buf.Slice(0, hi-lo, 0, d).(*mat.Dense)
		}
		for i := lo; i < hi; i++ {
			row := part.RawRowView(i - lo)
			x := raw.RawRowView(i)
			p.feat.linear(row, x, cfgs[i])
			b.featurize(row, x, b.hp.ell)
		}
		if !keep {
			mu, e, pr, _ := b.predictRows(part, false)
			mean, epi, prior = append(mean, mu...), append(epi, e...), append(prior, pr...)
		}
	}
	if keep {
		mean, epi, prior, V = b.predictRows(phi, true)
	}
	return mean, epi, prior, phi, V, nil
}

// predictAll is PredictAll keeping the design of keep's model ("" keeps none).
func (p *Predictor) predictAll(ctx context.Context, cfgs []Config, keep Metric) (*Batch, error) {
	n := len(cfgs)
	b := &Batch{Preds: make([]Prediction, n), raw: mat.NewDense(max(n, 1), nRaw, nil)}
	if n == 0 {
		return b, nil
	}
	for i, cfg := range cfgs {
		m, h := p.cat.Model(cfg.Model), p.cat.Hardware(cfg.Hardware)
		if m == nil || h == nil {
			return nil, fmt.Errorf("predict %s: unknown model or hardware", cfg)
		}
		rf := RooflineFor(m, h, cfg)
		p.feat.raw(b.raw.RawRowView(i), m, h, cfg, rf)
		b.Preds[i] = Prediction{Config: cfg, ModelType: m.ModelType, Roofline: rf}
	}
	muT, epiT, priT, phiT, VT, err := p.evalModel(ctx, p.time, b.raw, cfgs, keep != "" && keep != Memory)
	if err != nil {
		return nil, err
	}
	muM, epiM, priM, phiM, VM, err := p.evalModel(ctx, p.mem, b.raw, cfgs, keep == Memory)
	if err != nil {
		return nil, err
	}
	switch {
	case keep == Memory:
		b.phi, b.V, b.vars, b.model = phiM, VM, epiM, p.mem
	case keep != "":
		b.phi, b.V, b.vars, b.model = phiT, VT, epiT, p.time
	}
	sT2, sM2 := p.time.hp.noise*p.time.hp.noise, p.mem.hp.noise*p.mem.hp.noise
	for i := range b.Preds {
		pr := &b.Preds[i]
		rf := pr.Roofline
		pr.Latency = logEstimate(math.Log(rf.LatencyMS)+muT[i], math.Sqrt(epiT[i]+sT2))
		pr.Memory = logEstimate(math.Log(rf.MemoryMB)+muM[i], math.Sqrt(epiM[i]+sM2))
		pr.LatencyUncertainty = math.Sqrt(epiT[i] / math.Max(priT[i], 1e-12))
		pr.MemoryUncertainty = math.Sqrt(epiM[i] / math.Max(priM[i], 1e-12))
		if a := p.measured[pr.Key()]; a != nil {
			pr.Sources = a.sources
			if len(a.lat) > 0 {
				v, lo, hi := geo(a.lat)
				pr.Latency = Estimate{Value: v, Low: lo, High: hi, Measured: true}
				pr.LatencyUncertainty = 0
			}
			if len(a.mem) > 0 {
				v, lo, hi := geo(a.mem)
				pr.Memory = Estimate{Value: v, Low: lo, High: hi, Measured: true}
				pr.MemoryUncertainty = 0
			}
		}
		bs := float64(pr.BatchSize) * 1000
		pr.Throughput = Estimate{Value: bs / pr.Latency.Value, Low: bs / pr.Latency.High, High: bs / pr.Latency.Low,
			Std: pr.Latency.Std, Measured: pr.Latency.Measured}
		h := p.cat.Hardware(pr.Hardware)
		switch {
		case pr.Measured():
			pr.Feasible = true
		case !rf.Supported:
			pr.Reason = rf.Reason
		case pr.Memory.Value > h.UsableMemoryMB():
			pr.Reason = fmt.Sprintf("out of memory: needs %.0f MB of %.0f MB", pr.Memory.Value, h.UsableMemoryMB())
		default:
			pr.Feasible = true
		}
	}
	return b, nil
}

func logEstimate(mu, sd float64) Estimate {
	return Estimate{Value: math.Exp(mu), Low: math.Exp(mu - Z80*sd), High: math.Exp(mu + Z80*sd), Std: sd}
}
