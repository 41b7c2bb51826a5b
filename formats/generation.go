package formats

import (
	"errors"
	"math"
	"strconv"

	"perfpilot/engine"
	"perfpilot/safetext"
)

// generationFields reads a row's text-generation columns into res:
// phase, GPU split, token counts, weight format and tokens_per_s, which
// gives the phase's latency when latency_ms is absent (a prefill's is the
// whole prompt, a decode's one step). It reports whether tokens_per_s gave
// a metric.
func (p *parser) generationFields(val func(field) string, res *engine.Result, bad func(field, string, ...any)) bool {
	ph, err := engine.ParsePhase(val(fPhase))
	if err != nil {
		bad(fPhase, "%v", err)
	}
	res.Phase = ph
	ints := []struct {
		f   field
		dst *int
	}{{fGPUs, &res.GPUCount}, {fPrompt, &res.PromptTokens}, {fOutput, &res.OutputTokens}, {fContext, &res.ContextTokens}, {fContextSize, &res.ContextSize}}
	for _, in := range ints {
		s := val(in.f)
		if s == "" {
			continue
		}
		if n, ok := p.intField(in.f, s, bad); ok {
			if n < 0 {
				bad(in.f, "%d is negative", n)
			}
			*in.dst = n
		}
	}
	if s := val(fParallelism); s != "" {
		par, err := engine.ParseParallelism(s)
		if err != nil {
			bad(fParallelism, "%v", err)
		}
		res.Parallelism = par
	} else if res.GPUCount > 1 {
		res.Parallelism = engine.DefaultParallelism(val(fStack))
	}
	if res.PrecisionLabel = val(fPrecisionLabel); res.PrecisionLabel != "" {
		if err := safetext.CheckID(res.PrecisionLabel); err != nil {
			bad(fPrecisionLabel, "%v", err)
		}
	}
	if s := val(fKVCache); s != "" {
		kv, err := engine.ParsePrecision(s)
		if err != nil {
			bad(fKVCache, "%v", err)
		}
		res.KVCache = kv
	}
	bits, okBits := p.floatField(fWeightBits, val(fWeightBits), bad)
	if okBits && bits > 32 {
		bad(fWeightBits, "%v is above 32", bits)
	}
	res.WeightBits = bits
	if val(fTokensPerS) == "" {
		return false
	}
	tps, ok := p.floatField(fTokensPerS, val(fTokensPerS), bad)
	if ok && tps == 0 {
		bad(fTokensPerS, "0 is not positive")
	}
	if !ok || tps == 0 {
		return true
	}
	// tokens per second of the phase: prompt tokens for a prefill (whole
	// prompts of the batch), output tokens otherwise.
	var perPass float64
	switch ph {
	case engine.Prefill:
		perPass = float64(res.BatchSize * max(res.PromptTokens, res.SequenceLength))
	case engine.Forward:
		bad(fTokensPerS, "needs a phase (prefill, decode or generate)")
		return true
	default:
		perPass = float64(res.BatchSize)
	}
	if perPass <= 0 {
		bad(fTokensPerS, "needs prompt_tokens (or sequence_length) for a prefill")
		return true
	}
	lat := perPass / tps * 1000
	switch {
	case res.LatencyMS == 0 && ph != engine.Generate:
		res.LatencyMS = lat
	case ph == engine.Generate && res.Throughput == 0:
		res.Throughput = tps
	case ph != engine.Generate && math.Abs(res.LatencyMS/lat-1) > 0.05:
		bad(fTokensPerS, "%g tokens/s disagrees with latency_ms %g (expected %.4g)", tps, res.LatencyMS, perPass/res.LatencyMS*1000)
	}
	return true
}

// floatField parses an optional non-negative finite number ("" is 0).
func (p *parser) floatField(f field, s string, bad func(field, string, ...any)) (float64, bool) {
	if s == "" {
		return 0, true
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		bad(f, "%s is not a number", safetext.Quote(s))
	case err != nil || math.IsInf(v, 0) || math.IsNaN(v):
		bad(f, "%s is not a finite number", safetext.Quote(s))
	case v < 0:
		bad(f, "%s is negative", s)
	default:
		return v, true
	}
	return 0, false
}
