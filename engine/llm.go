package engine

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Phase is the part of text generation a configuration measures.
type Phase string

const (
	// Forward is one forward pass over the batch (the zero value).
	Forward Phase = ""
	// Prefill is one pass over the prompt: it ends with the first token.
	Prefill Phase = "prefill"
	// Decode is one step producing one token per sequence against a KV
	// cache of ContextTokens.
	Decode Phase = "decode"
	// Generate is a whole request: prefill, then OutputTokens−1 decode
	// steps. It is what text-generation candidates are ranked as.
	Generate Phase = "generate"
)

// Phases lists the phases in feature order.
var Phases = []Phase{Forward, Prefill, Decode, Generate}

// String names the phase ("forward" for the zero value).
func (p Phase) String() string {
	if p == Forward {
		return "forward"
	}
	return string(p)
}

// ParsePhase validates a phase name; "" and "forward" are Forward.
func ParsePhase(s string) (Phase, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "", "forward":
		return Forward, nil
	case string(Prefill), string(Decode), string(Generate):
		return Phase(v), nil
	}
	return "", fmt.Errorf("unknown phase %q (valid: forward, prefill, decode, generate)", s)
}

// Parallelism is how a model is split over several GPUs.
type Parallelism string

const (
	// Tensor splits every layer's matrices (Megatron style: vLLM,
	// TensorRT-LLM), with two all-reduces per layer.
	Tensor Parallelism = "tensor"
	// Layer gives each GPU a contiguous slice of layers (pipeline split;
	// llama.cpp's default since 2024): a token passes the GPUs in turn.
	Layer Parallelism = "layer"
	// Row splits every matrix by rows and gathers each product on the main
	// GPU (llama.cpp's --split-mode row, its default before 2024).
	Row Parallelism = "row"
)

// Parallelisms lists the valid values.
var Parallelisms = []Parallelism{Tensor, Layer, Row}

// ParseParallelism validates a parallelism name ("" is Tensor).
func ParseParallelism(s string) (Parallelism, error) {
	v := Parallelism(strings.ToLower(strings.TrimSpace(s)))
	if v == "" {
		return Tensor, nil
	}
	if slices.Contains(Parallelisms, v) {
		return v, nil
	}
	return "", fmt.Errorf("unknown parallelism %q (valid: tensor, layer, row)", s)
}

// GPUs is the number of devices the configuration runs on.
func (c Config) GPUs() int { return max(c.GPUCount, 1) }

// Generative reports whether the configuration is a text-generation phase.
func (c Config) Generative() bool { return c.Phase != Forward }

// ItemsPerPass is what throughput counts per measured pass: sequences for a
// forward pass or a prefill, tokens for a decode step (one per sequence),
// output tokens for a whole generation request.
func (c Config) ItemsPerPass() float64 {
	if c.Phase == Generate {
		return float64(c.BatchSize * max(c.OutputTokens, 1))
	}
	return float64(c.BatchSize)
}

// Default generation shape of a text-generation model whose catalog entry
// names none.
const (
	DefaultPromptTokens = 512
	DefaultOutputTokens = 128
)

// weightBitsByLabel is the storage cost per weight of common formats,
// scales and mixed-precision tensors included (llama.cpp's k-quant figures
// are its measured file sizes for Llama-2-7B).
var weightBitsByLabel = map[string]float64{
	"f32": 32, "fp32": 32, "f16": 16, "fp16": 16, "bf16": 16,
	"q8_0": 8.5, "q6_k": 6.56, "q5_1": 6, "q5_0": 5.5, "q5_k_m": 5.68, "q5_k_s": 5.52,
	"q4_1": 5, "q4_0": 4.5, "q4_k_m": 4.84, "q4_k_s": 4.58, "iq4_nl": 4.5, "iq4_xs": 4.25,
	"q3_k_l": 4.27, "q3_k_m": 3.91, "q3_k_s": 3.5, "iq3_s": 3.44, "iq3_xxs": 3.06,
	"q2_k": 3.35, "iq2_m": 2.7, "iq2_s": 2.5, "iq2_xs": 2.31, "iq2_xxs": 2.06, "iq1_m": 1.75, "iq1_s": 1.56,
	// 4-bit groups of 128 with a 16-bit scale and a packed zero point.
	"awq": 4.25, "gptq": 4.25, "marlin": 4.25,
	"nf4": 4.127, "mxfp4": 4.25, "nvfp4": 4.5,
	"fp8": 8, "int8": 8, "w8a8": 8, "w8a16": 8, "w4a16": 4.25,
}

// DefaultWeightBits is the storage per weight of a precision when no format
// label says otherwise: int4 formats carry a 16-bit scale per 32 weights.
func DefaultWeightBits(p Precision) float64 {
	switch p {
	case FP16, BF16:
		return 16
	case INT8, FP8:
		return 8
	case INT4:
		return 4.5
	}
	return 32
}

// WeightBitsFor resolves the bits per weight of a format label, falling
// back to the precision's default for an unknown or empty label.
func WeightBitsFor(label string, p Precision) float64 {
	if b, ok := weightBitsByLabel[strings.ToLower(label)]; ok {
		return b
	}
	return DefaultWeightBits(p)
}

// weightBits is the configuration's resolved bits per weight.
func (c Config) weightBits() float64 {
	if c.WeightBits > 0 {
		return c.WeightBits
	}
	return WeightBitsFor(c.PrecisionLabel, c.Precision)
}

// weightOnly reports whether the matrices run at a higher precision than
// the weights are stored in: int4 formats are dequantized on the fly.
func (c Config) weightOnly() bool { return c.Precision == INT4 }

// kvBytes is the size of one KV cache element.
func (c Config) kvBytes() float64 {
	switch c.KVCache {
	case FP8, INT8:
		return 1
	case FP32:
		return 4
	}
	return 2
}

// meanContext is the KV length a decode step attends to: the measured mean,
// or the mean over a request's output tokens.
func (c Config) meanContext() int {
	if c.ContextTokens > 0 {
		return c.ContextTokens
	}
	return c.PromptTokens + c.OutputTokens/2
}

// reservedContext is the KV cache length held per sequence.
func (c Config) reservedContext() int {
	if c.ContextSize > 0 {
		return c.ContextSize
	}
	return c.PromptTokens + c.OutputTokens
}

// Generates reports whether the architecture can generate text: it has a
// causal stack with a language-model head.
func (a *Architecture) Generates() bool {
	if !a.LMHead {
		return false
	}
	for _, s := range a.Stacks {
		if s.Causal {
			return true
		}
	}
	return false
}

// KVBytesPerToken is the KV cache one token of context occupies, over every
// causal stack, at bytes per element.
func (a *Architecture) KVBytesPerToken(bytes float64) float64 {
	kv := 0.0
	for _, s := range a.Stacks {
		if s.Causal {
			kv += float64(s.Layers) * 2 * s.kvDim() * bytes
		}
	}
	return kv
}

// Limits of a configuration's generation fields.
const (
	MaxGPUCount = 16
	MaxTokens   = 1 << 22
)

// normalizeGeneration validates the generation fields of a configuration
// whose sequence length is as given (not yet resolved), fills the model's
// defaults and returns it in canonical form.
func normalizeGeneration(cfg Config, m *Model, h *Hardware) (Config, error) {
	phase, err := ParsePhase(string(cfg.Phase))
	if err != nil {
		return cfg, err
	}
	cfg.Phase = phase
	switch {
	case cfg.GPUCount < 0:
		return cfg, fmt.Errorf("gpu count %d is negative", cfg.GPUCount)
	case cfg.GPUCount > h.MaxGPUs():
		return cfg, fmt.Errorf("gpu count %d: a machine holds at most %d of %s (its catalog max_count)", cfg.GPUCount, h.MaxGPUs(), h.ID)
	case cfg.GPUCount > 1:
		if _, err = ParseParallelism(string(cfg.Parallelism)); err != nil {
			return cfg, err
		}
	}
	if b := cfg.WeightBits; math.IsNaN(b) || b < 0 || b > 32 {
		return cfg, fmt.Errorf("weight bits %v is outside 0..32", b)
	}
	switch cfg.KVCache {
	case "", FP16, BF16, FP8, INT8, FP32:
	default:
		return cfg, fmt.Errorf("unknown kv cache dtype %q (valid: fp16, bf16, fp8, int8, fp32)", cfg.KVCache)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"prompt tokens", cfg.PromptTokens}, {"output tokens", cfg.OutputTokens}, {"context tokens", cfg.ContextTokens}, {"context size", cfg.ContextSize}} {
		if f.v < 0 || f.v > MaxTokens {
			return cfg, fmt.Errorf("%s %d is outside 0..%d", f.name, f.v, MaxTokens)
		}
	}
	if phase == Forward {
		if cfg.GPUCount > 1 {
			return cfg, fmt.Errorf("gpu count %d: a forward pass is modelled on one device; use phase prefill, decode or generate", cfg.GPUCount)
		}
		cfg.SequenceLength = m.ResolveSequenceLength(cfg.SequenceLength)
		return cfg.Canonical(), nil
	}
	if m.ModelType != "text_generation" || !m.Arch.Generates() {
		return cfg, fmt.Errorf("phase %s needs a text-generation model; %s is %s", phase, m.ID, m.ModelType)
	}
	if cfg.PromptTokens == 0 {
		cfg.PromptTokens = m.PromptTokens
		if phase == Prefill && cfg.SequenceLength > 0 {
			cfg.PromptTokens = cfg.SequenceLength
		}
	}
	cfg.OutputTokens = firstPositive(cfg.OutputTokens, m.OutputTokens)
	return cfg.Canonical(), nil
}

// Canonical puts the generation fields of a valid configuration in their
// canonical form, without the catalog: one GPU as 0 and no split, several
// GPUs split by tensor unless told, bits the format label implies as 0, a
// 16-bit KV cache as "", the reserved context as 0 when it is prompt +
// output, and the sequence length and decode context from the phase's
// token counts (a forward pass carries none).
func (c Config) Canonical() Config {
	c.PrecisionLabel = strings.ToLower(strings.TrimSpace(c.PrecisionLabel))
	if c.WeightBits == WeightBitsFor(c.PrecisionLabel, c.Precision) {
		c.WeightBits = 0
	}
	if c.KVCache == FP16 || c.KVCache == BF16 {
		c.KVCache = ""
	}
	if c.GPUCount <= 1 {
		c.GPUCount, c.Parallelism = 0, ""
	} else if p, err := ParseParallelism(string(c.Parallelism)); err == nil {
		c.Parallelism = p
	}
	switch c.Phase {
	case Forward:
		c.PromptTokens, c.OutputTokens, c.ContextTokens, c.ContextSize, c.KVCache = 0, 0, 0, 0, ""
		return c
	case Decode:
		c.SequenceLength, c.ContextTokens = 1, c.meanContext()
	default:
		c.SequenceLength, c.ContextTokens = c.PromptTokens, 0
	}
	if c.ContextSize == c.PromptTokens+c.OutputTokens {
		c.ContextSize = 0
	}
	return c
}

// llamaCppLayerSplitBuild is the llama.cpp build that made the layer split
// its default (ggml-org/llama.cpp#4766, January 2024); before it, several
// GPUs split every matrix by rows.
const llamaCppLayerSplitBuild = 1833

var llamaCppBuild = regexp.MustCompile(`(?i)llama\.cpp\b.*?\bbuild (\d+)`)

// DefaultParallelism is the split a software stack uses over several GPUs
// when a measurement does not say: llama.cpp's row split before build
// 1833 and layer split after, tensor parallelism for everything else
// (vLLM, TensorRT-LLM, SGLang).
func DefaultParallelism(stack string) Parallelism {
	if g := llamaCppBuild.FindStringSubmatch(stack); g != nil {
		if n, err := strconv.Atoi(g[1]); err == nil && n < llamaCppLayerSplitBuild {
			return Row
		}
		return Layer
	}
	if strings.Contains(strings.ToLower(stack), "llama.cpp") {
		return Layer
	}
	return Tensor
}

// Unit is the unit a metric of this configuration is reported in: a
// request's throughput is output tokens/s, a decode step's tokens/s, a
// prefill's prompts/s.
func (c Config) Unit(m Metric) string {
	if m != Throughput {
		return m.Unit()
	}
	switch c.Phase {
	case Prefill:
		return "prompts/s"
	case Decode, Generate:
		return "tokens/s"
	}
	return m.Unit()
}
