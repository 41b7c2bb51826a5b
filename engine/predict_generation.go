package engine

import (
	"context"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// predictAll predicts configurations, which must be normalized. A whole
// generation request is predicted from its phases: its prefill gives the
// time to first token, a decode step at the request's mean context the time
// per output token, and latency = TTFT + (output − 1) × TPOT. Each phase
// has its own learned correction and its measured value wins. keep names
// the model whose design the active learner conditions on ("" for none); a
// request stands there for the phase that dominates its latency.
func (p *Predictor) predictAll(ctx context.Context, cfgs []Config, keep Metric) (*Batch, error) {
	if !slices.ContainsFunc(cfgs, func(c Config) bool { return c.Phase == Generate }) {
		b, err := p.predictDirect(ctx, cfgs, keep, nil)
		if err == nil {
			for i := range b.Preds {
				b.Preds[i].fillPhase(p.cat)
			}
		}
		return b, err
	}
	n := len(cfgs)
	gen := 0
	for _, c := range cfgs {
		if c.Phase == Generate {
			gen++
		}
	}
	all := append(make([]Config, 0, n+2*gen), cfgs...)
	skip := make([]partSkip, n, 3*n)
	phases := map[int][2]int{}
	for i, c := range cfgs {
		if c.Phase == Generate {
			// The request needs its own memory; its phases, their latency.
			pre, dec := c.phaseConfigs()
			phases[i] = [2]int{len(all), len(all) + 1}
			all = append(all, pre, dec)
			skip[i].latency = keep != Memory
			skip = append(skip, partSkip{memory: true}, partSkip{memory: true})
		}
	}
	inner, err := p.predictDirect(ctx, all, keep, skip)
	if err != nil {
		return nil, err
	}
	b := &Batch{Preds: inner.Preds[:n:n], lev: inner.lev[:n:n], model: inner.model,
		raw: inner.raw.Slice(0, n, 0, nRaw).(*mat.Dense)}
	if inner.vars != nil {
		b.vars, b.noise2 = inner.vars[:n:n], inner.noise2[:n:n]
	}
	if inner.rffAt != nil {
		b.rff, b.rffAt = inner.rff, inner.rffAt[:n:n]
	}
	for i := range b.Preds {
		ix, ok := phases[i]
		if !ok {
			b.Preds[i].fillPhase(p.cat)
			continue
		}
		pre, dec := inner.Preds[ix[0]], inner.Preds[ix[1]]
		dom := b.Preds[i].compose(pre, dec, p.cat)
		if keep == Memory {
			continue // the learner conditions on the request's own memory row
		}
		row := ix[dom]
		b.raw.SetRow(i, inner.raw.RawRowView(row))
		b.lev[i] = inner.lev[row]
		if b.vars != nil {
			b.vars[i], b.noise2[i] = inner.vars[row], inner.noise2[row]
		}
		if b.rffAt != nil {
			b.rffAt[i] = inner.rffAt[row]
		}
	}
	return b, nil
}

// partSkip marks the models a row of predictDirect does not need.
type partSkip struct{ latency, memory bool }

// phaseConfigs are the prefill and the mean decode step of a request.
func (c Config) phaseConfigs() (prefill, decode Config) {
	prefill, decode = c, c
	prefill.Phase, decode.Phase = Prefill, Decode
	return prefill.Canonical(), decode.Canonical()
}

// compose fills a request's prediction from its phases and returns which
// phase dominates its latency (0 prefill, 1 decode). A measured request
// keeps its measured latency. The two phases' errors are taken to move
// together (they share the device), so the request's log-error is the
// latency-weighted mean of theirs.
func (g *Prediction) compose(pre, dec Prediction, cat *Catalog) int {
	g.TTFT, g.TPOT = pre.Latency, dec.Latency
	steps := float64(max(g.OutputTokens, 1) - 1)
	v := pre.Latency.Value + steps*dec.Latency.Value
	wp := pre.Latency.Value / v
	if !g.Latency.Measured {
		switch {
		case pre.Latency.Measured && dec.Latency.Measured:
			g.Latency = Estimate{Value: v, Low: pre.Latency.Low + steps*dec.Latency.Low,
				High: pre.Latency.High + steps*dec.Latency.High, Measured: true}
		default:
			g.Latency = logEstimate(math.Log(v), wp*pre.Latency.Std+(1-wp)*dec.Latency.Std)
		}
		g.LatencyUncertainty = wp*pre.LatencyUncertainty + (1-wp)*dec.LatencyUncertainty
		g.Throughput = throughputOf(g.Config, g.Latency)
	}
	g.fillPhase(cat)
	if wp >= 0.5 {
		return 0
	}
	return 1
}

// fillPhase sets what a text-generation prediction says beside latency:
// TTFT or TPOT of a phase, the KV cache, and how many sequences fit.
func (g *Prediction) fillPhase(cat *Catalog) {
	switch g.Phase {
	case Forward:
		return
	case Prefill:
		g.TTFT = g.Latency
	case Decode:
		g.TPOT = g.Latency
	}
	kv := g.Roofline.KVCacheMB
	g.KVCacheMB = Estimate{Value: kv, Low: kv, High: kv, Measured: false}
	// Memory beside the KV cache is what the memory model predicts minus
	// the batch's KV cache; what remains of the GPUs holds more sequences.
	h := cat.Hardware(g.Hardware)
	perSeq := kv / float64(g.BatchSize)
	if h == nil || perSeq <= 0 {
		return
	}
	usable := float64(g.GPUs()) * h.UsableMemoryMB()
	conc := func(mem float64) float64 { return math.Max(0, math.Floor((usable-(mem-kv))/perSeq)) }
	g.MaxConcurrency = Estimate{Value: conc(g.Memory.Value), Low: conc(g.Memory.High), High: conc(g.Memory.Low)}
}

// throughputOf is items per second from a latency estimate.
func throughputOf(c Config, lat Estimate) Estimate {
	items := c.ItemsPerPass() * 1000
	return Estimate{Value: items / lat.Value, Low: items / lat.High, High: items / lat.Low, Std: lat.Std, Measured: lat.Measured}
}
