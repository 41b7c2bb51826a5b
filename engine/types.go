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
)

// Precision is the numeric format a configuration runs in.
type Precision string

const (
	FP32 Precision = "fp32"
	FP16 Precision = "fp16"
	BF16 Precision = "bf16"
	INT8 Precision = "int8"
	INT4 Precision = "int4"
)

// Precisions is the fixed vocabulary, in feature order.
var Precisions = []Precision{FP32, FP16, BF16, INT8, INT4}

// ParsePrecision validates a precision name.
func ParsePrecision(s string) (Precision, error) {
	for _, p := range Precisions {
		if string(p) == strings.ToLower(strings.TrimSpace(s)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown precision %q (valid: fp32, fp16, bf16, int8, int4)", s)
}

// BytesPerWeight is the storage size of one parameter.
func (p Precision) BytesPerWeight() float64 {
	switch p {
	case FP32:
		return 4
	case FP16, BF16:
		return 2
	case INT8:
		return 1
	case INT4:
		return 0.5
	}
	return 4
}

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
	return "", fmt.Errorf("unknown metric %q (valid: throughput, latency, memory)", s)
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
// point. The workload is one forward pass over the batch.
type Config struct {
	Model          string    `json:"model_name"`
	Hardware       string    `json:"hardware"`
	BatchSize      int       `json:"batch_size"`
	Precision      Precision `json:"precision"`
	SequenceLength int       `json:"sequence_length"`
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
func (c Config) Key() string {
	return fmt.Sprintf("%s|%s|%d|%s|%d", c.Model, c.Hardware, c.BatchSize, c.Precision, c.SequenceLength)
}

func (c Config) String() string {
	return fmt.Sprintf("%s on %s, batch %d, %s, seq %d", c.Model, c.Hardware, c.BatchSize, c.Precision, c.SequenceLength)
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
	Timestamp  time.Time `json:"timestamp"`
	Stack      string    `json:"stack,omitempty"`
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
