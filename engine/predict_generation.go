package engine

import (
	"context"
	"math"
)

// predictChunk is how many configurations predictAll predicts at once:
// full predictions, features and random features of a row and of its
// request's phases are held only while its chunk is predicted (those of a
// whole large space held integrate's peak memory, issue 11). A multiple of
// chunkRows, so a chunk's blocks are those of the whole.
const predictChunk = 2 * chunkRows

// predictAll predicts configurations, which must be normalized, a chunk at a
// time, and hands each chunk's batch to emit with the index of its first
// configuration; the batch's memory is reused for the next chunk. Each row's prediction depends on the row only, so chunking
// does not change it. keep names the model whose design the active learner
// conditions on ("" for none); see predictPart.
func (p *Predictor) predictAll(ctx context.Context, cfgs []Config, keep Metric, emit func(lo int, b *Batch)) error {
	var buf partBuf
	for lo := 0; lo < len(cfgs); lo += predictChunk {
		b, err := p.predictPart(ctx, cfgs[lo:min(lo+predictChunk, len(cfgs))], keep, &buf)
		if err != nil {
			return err
		}
		emit(lo, b)
	}
	return nil
}

// predictPart predicts configurations in one batch. A whole generation
// request is predicted from its phases: its prefill gives the time to first
// token, a decode step at the request's mean context the time per output
// token, and latency = TTFT + (output − 1) × TPOT. Each phase has its own
// learned correction and its measured value wins. For the learner, a
// request stands for the phase that dominates its latency.
func (p *Predictor) predictPart(ctx context.Context, cfgs []Config, keep Metric, buf *partBuf) (*Batch, error) {
	// Requests first (a request needs its own memory; its phases, their
	// latency), then their phases.
	skip, reqs := buf.skip[:0], buf.reqs[:0]
	for i, c := range cfgs {
		skip = append(skip, partSkip{latency: c.Phase == Generate && keep != Memory})
		if c.Phase == Generate {
			reqs = append(reqs, i)
		}
	}
	buf.skip, buf.reqs = skip, reqs
	// Room for the random features of every request's dominant phase.
	spare := 0
	if keep != Memory {
		spare = len(reqs)
	}
	b, err := p.predictDirect(ctx, cfgs, keep, skip, spare, &buf.direct)
	if err != nil {
		return nil, err
	}
	for i, c := range cfgs {
		if c.Phase != Generate {
			b.Preds[i].fillPhase(p.cat)
		}
	}
	if len(reqs) == 0 {
		return b, nil
	}
	phases, phaseSkip := buf.phaseCfgs[:0], buf.phaseSkip[:0]
	for _, i := range reqs {
		pre, dec := cfgs[i].phaseConfigs()
		phases = append(phases, pre, dec)
		phaseSkip = append(phaseSkip, partSkip{memory: true}, partSkip{memory: true})
	}
	buf.phaseCfgs, buf.phaseSkip = phases, phaseSkip
	inner, err := p.predictDirect(ctx, phases, keep, phaseSkip, 0, &buf.phases)
	if err != nil {
		return nil, err
	}
	for k, i := range reqs {
		dom := b.Preds[i].compose(inner.Preds[2*k], inner.Preds[2*k+1], p.cat)
		if keep == Memory {
			continue // the learner conditions on the request's own memory row
		}
		row := 2*k + dom
		b.raw.SetRow(i, inner.raw.RawRowView(row))
		b.lev[i] = inner.lev[row]
		if b.vars != nil {
			b.vars[i], b.noise2[i] = inner.vars[row], inner.noise2[row]
		}
		if b.rffAt != nil {
			b.rffAt[i] = -1
			if c := int(inner.rffAt[row]); c >= 0 {
				b.rffAt[i] = int32(len(b.rff) / nRFF)
				b.rff = append(b.rff, inner.rff[c*nRFF:(c+1)*nRFF]...)
			}
		}
	}
	return b, nil
}

// partBuf is predictPart's memory, reused chunk after chunk: the
// requests' batch and their phases'.
type partBuf struct {
	direct, phases  batchBuf
	skip, phaseSkip []partSkip
	reqs            []int
	phaseCfgs       []Config
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
