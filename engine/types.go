// Package engine holds perfpilot's domain and all of its thinking: catalogs,
// the roofline prior, the learned predictor, the active learner, the hardware
// recommender, the integration of the two, and evaluation. It is pure: no SQL,
// no terminal, no clock or randomness it was not handed, and no I/O beyond
// reading catalog files through an fs.FS.
package engine

import (
	"fmt"
	"strings"
	"time"

	"perfpilot/safetext"
)

// Precision is the numeric format a configuration runs in.
type Precision string

const (
	FP32 Precision = "fp32"
	FP16 Precision = "fp16"
	BF16 Precision = "bf16"
	INT8 Precision = "int8"
	INT4 Precision = "int4"
	FP8  Precision = "fp8"
)

// Precisions is the fixed vocabulary, in feature order.
var Precisions = []Precision{FP32, FP16, BF16, INT8, INT4, FP8}

// ParsePrecision validates a precision name.
func ParsePrecision(s string) (Precision, error) {
	for _, p := range Precisions {
		if string(p) == strings.ToLower(strings.TrimSpace(s)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown precision %s (valid: fp32, fp16, bf16, int8, int4, fp8)", safetext.Quote(s))
}

// BytesPerWeight is the storage size of one parameter: int4 formats carry
// a 16-bit scale per block of 32 weights (4.5 bits; see WeightBits).
func (p Precision) BytesPerWeight() float64 { return DefaultWeightBits(p) / 8 }

// BytesPerActivation is the size of one activation value: quantised models
// still carry 16-bit activations between layers.
func (p Precision) BytesPerActivation() float64 {
	if p == FP32 {
		return 4
	}
	return 2
}

// Metric is what a ranking optimises.
type Metric string

const (
	Throughput Metric = "throughput"
	Latency    Metric = "latency"
	Memory     Metric = "memory"
)

// Metrics lists the metrics in display order.
var Metrics = []Metric{Throughput, Latency, Memory}

// ParseMetric validates a metric name.
func ParseMetric(s string) (Metric, error) {
	for _, m := range Metrics {
		if string(m) == strings.ToLower(strings.TrimSpace(s)) {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown metric %s (valid: throughput, latency, memory)", safetext.Quote(s))
}

// HigherIsBetter tells the direction of a metric.
func (m Metric) HigherIsBetter() bool { return m == Throughput }

// Unit is the display unit of a metric.
func (m Metric) Unit() string {
	switch m {
	case Throughput:
		return "items/s"
	case Latency:
		return "ms"
	default:
		return "MB"
	}
}

// Backends is the fixed backend vocabulary.
var Backends = []string{"cpu", "cuda", "rocm", "mps", "openvino", "qnn", "webnn", "webgpu"}

// ModelTypes is the fixed model-type vocabulary.
var ModelTypes = []string{"text_embedding", "text_generation", "vision", "audio", "multimodal"}

// Config is one (model, hardware, batch size, precision, sequence length)
// point. The workload is one forward pass over the batch, or for text
// generation a phase of it (see Phase, engine/llm.go). Zero values of the
// generation fields are their defaults; Catalog.Normalize puts a
// configuration in that canonical form so equal configurations compare
// equal.
type Config struct {
	Model          string    `json:"model_name"`
	Hardware       string    `json:"hardware"`
	BatchSize      int       `json:"batch_size"`
	Precision      Precision `json:"precision"`
	SequenceLength int       `json:"sequence_length"`
	// Phase: "" is one forward pass (forward); prefill, decode, generate.
	Phase Phase `json:"phase,omitempty"`
	// GPUCount: 0 is one device; Parallelism splits the model over several.
	GPUCount    int         `json:"gpu_count,omitempty"`
	Parallelism Parallelism `json:"parallelism,omitempty"`
	// PromptTokens and OutputTokens shape a generation request;
	// ContextTokens is the mean KV length a decode step attends to, and
	// ContextSize the KV cache reserved per sequence (0: prompt + output).
	PromptTokens  int `json:"prompt_tokens,omitempty"`
	OutputTokens  int `json:"output_tokens,omitempty"`
	ContextTokens int `json:"context_tokens,omitempty"`
	ContextSize   int `json:"context_size,omitempty"`
	// PrecisionLabel names the weight format (q4_0, awq, …); WeightBits
	// overrides the bits per weight it implies (0: from the label or the
	// precision). KVCache is the KV cache's element type ("": 16-bit).
	PrecisionLabel string    `json:"precision_label,omitempty"`
	WeightBits     float64   `json:"weight_bits,omitempty"`
	KVCache        Precision `json:"kv_cache_dtype,omitempty"`
}

// Group is the configuration without its hardware: the set of
// configurations a hardware recommendation chooses between. Config is
// comparable, so a Group is a map key, and a field added to Config takes
// part in grouping without any change at the call sites.
func (c Config) Group() Config {
	c.Hardware = ""
	return c
}

// Key identifies a configuration; equal keys are the same configuration.
// A forward pass on one device keeps the key it had before generation
// fields existed.
func (c Config) Key() string {
	k := fmt.Sprintf("%s|%s|%d|%s|%d", c.Model, c.Hardware, c.BatchSize, c.Precision, c.SequenceLength)
	if c.generationFieldsSet() {
		k += fmt.Sprintf("|%s|%d|%s|%d|%d|%d|%d|%s|%g|%s", c.Phase, c.GPUCount, c.Parallelism, c.PromptTokens,
			c.OutputTokens, c.ContextTokens, c.ContextSize, c.PrecisionLabel, c.WeightBits, c.KVCache)
	}
	return k
}

func (c Config) generationFieldsSet() bool {
	g := c
	g.Model, g.Hardware, g.BatchSize, g.Precision, g.SequenceLength = "", "", 0, "", 0
	return g != Config{}
}

func (c Config) String() string {
	s := fmt.Sprintf("%s on %s, batch %d, %s", c.Model, c.Hardware, c.BatchSize, c.Precision)
	if c.Hardware == "" {
		s = fmt.Sprintf("%s, batch %d, %s", c.Model, c.BatchSize, c.Precision)
	}
	if c.PrecisionLabel != "" {
		s += " (" + c.PrecisionLabel + ")"
	}
	if c.GPUs() > 1 {
		s += fmt.Sprintf(", %d GPUs (%s)", c.GPUs(), c.Parallelism)
	}
	switch c.Phase {
	case Prefill:
		return s + fmt.Sprintf(", prefill of %d tokens", c.PromptTokens)
	case Decode:
		return s + fmt.Sprintf(", decode at context %d", c.ContextTokens)
	case Generate:
		return s + fmt.Sprintf(", %d prompt + %d output tokens", c.PromptTokens, c.OutputTokens)
	}
	return s + fmt.Sprintf(", seq %d", c.SequenceLength)
}

// Result is one measured benchmark. A metric of zero was not measured; every
// measured metric is positive (import validates that).
type Result struct {
	Config
	ModelType  string    `json:"model_type,omitempty"`
	Throughput float64   `json:"throughput,omitempty"`
	LatencyMS  float64   `json:"latency_ms,omitempty"`
	MemoryMB   float64   `json:"memory_mb,omitempty"`
	Source     string    `json:"source"`
	Timestamp  time.Time `json:"timestamp,omitzero"` // zero: the source did not say
	Stack      string    `json:"stack,omitempty"`
	// Flag says why an implausible measurement was kept anyway (import
	// --allow-implausible); empty for a plausible one.
	Flag string `json:"flag,omitempty"`
}

// Latency returns the measured latency in ms, deriving it from throughput
// (one forward pass over the batch) when only throughput was measured.
func (r Result) Latency() float64 {
	if r.LatencyMS > 0 {
		return r.LatencyMS
	}
	if r.Throughput > 0 {
		return float64(r.BatchSize) * 1000 / r.Throughput
	}
	return 0
}

// Estimate is a value with its 80% interval. Std is the standard deviation of
// the log value (0 for a measured value seen once).
type Estimate struct {
	Value    float64 `json:"value"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	Std      float64 `json:"-"`
	Measured bool    `json:"-"`
}

// Z80 is the standard normal quantile for a central 80% interval.
const Z80 = 1.2815515655446004
