package engine

import (
	"fmt"
	"math"
)

// backendDefault holds the roofline knobs a hardware entry inherits when it
// leaves them at zero. Overheads follow the public priors: eager frameworks
// spend ~10 ms launching ResNet-50 (17 blocks) at batch 1 on V100/T4.
//
// The text-generation knobs describe serving runtimes (llama.cpp, vLLM,
// MLX) rather than eager frameworks: llmComputeEff is the share of peak
// their prompt GEMMs reach, tokenLayerMS the launch cost per layer of a
// decode step (a few small kernels, no framework dispatch), fusedDequant
// whether int4 weights are always dequantized inside the kernels (Metal,
// CPU) rather than into a 16-bit copy for large products. interconnectGBps
// is what a copy between two GPUs of an unknown machine achieves per
// direction: PCIe 4.0 x16 staged through host memory, since GeForce-class
// cards have no peer-to-peer path; maxGPUs is how many a machine holds.
type backendDefault struct {
	computeEff, bandwidthEff float64
	overheadMS, layerMS      float64
	runtimeMB                float64
	llmComputeEff            float64
	tokenLayerMS             float64
	fusedDequant             bool
	interconnectGBps         float64
	maxGPUs                  int
}

var backendDefaults = map[string]backendDefault{
	"cpu":      {0.55, 0.70, 0.2, 0.08, 250, 0.50, 0.01, true, 0, 1},
	"cuda":     {0.50, 0.75, 0.5, 0.55, 700, 0.40, 0.06, false, 12, 8},
	"rocm":     {0.40, 0.70, 0.8, 0.65, 700, 0.35, 0.08, false, 12, 8},
	"mps":      {0.45, 0.70, 1.0, 0.45, 400, 0.75, 0.08, true, 0, 1},
	"openvino": {0.50, 0.70, 0.5, 0.10, 300, 0.50, 0.05, true, 0, 1},
	"qnn":      {0.35, 0.60, 1.0, 0.15, 200, 0.35, 0.10, true, 0, 1},
	"webnn":    {0.50, 0.70, 2.0, 0.10, 400, 0.50, 0.10, true, 0, 1},
	"webgpu":   {0.45, 0.70, 2.0, 0.45, 500, 0.45, 0.10, true, 0, 1},
}

// Knobs returns the effective roofline knobs of a device.
func (h *Hardware) Knobs() (computeEff, bandwidthEff, overheadMS, layerMS, runtimeMB, slowdown float64) {
	k := h.llmKnobs()
	return k.computeEff, k.bandwidthEff, k.overheadMS, k.layerMS, k.runtimeMB, k.slowdown
}

// knobs are a device's resolved roofline knobs.
type knobs struct {
	backendDefault
	slowdown float64
}

func (h *Hardware) llmKnobs() knobs {
	d := backendDefaults[h.Backend]
	pick := func(v, def float64) float64 {
		if v > 0 {
			return v
		}
		return def
	}
	k := knobs{backendDefault: d, slowdown: pick(h.Slowdown, 1)}
	k.computeEff, k.bandwidthEff = pick(h.ComputeEfficiency, d.computeEff), pick(h.BandwidthEfficiency, d.bandwidthEff)
	k.overheadMS, k.layerMS, k.runtimeMB = pick(h.OverheadMS, d.overheadMS), pick(h.LayerOverheadMS, d.layerMS), pick(h.RuntimeMemoryMB, d.runtimeMB)
	// A device's own compute efficiency speaks for its GEMMs in every runtime.
	k.llmComputeEff = pick(h.ComputeEfficiency, d.llmComputeEff)
	return k
}

// interconnectGBps is the per-direction bandwidth between two GPUs of one
// machine.
func (h *Hardware) interconnectGBps() float64 {
	if h.InterconnectGBps > 0 {
		return h.InterconnectGBps
	}
	if d := backendDefaults[h.Backend].interconnectGBps; d > 0 {
		return d
	}
	return 12
}

// MaxGPUs is how many of the device one machine holds.
func (h *Hardware) MaxGPUs() int {
	if h.MaxCount > 0 {
		return h.MaxCount
	}
	return max(backendDefaults[h.Backend].maxGPUs, 1)
}

// activationPrecision is what an int4 (weight-only) configuration computes
// in: the device's 16-bit format, or fp32 where it has none.
func (h *Hardware) activationPrecision() Precision {
	for _, p := range []Precision{FP16, BF16} {
		if h.PeakTFLOPS[p] > 0 {
			return p
		}
	}
	return FP32
}

// vectorPeak is the rate of the non-matrix units (dequantization, elementwise).
func (h *Hardware) vectorPeak() float64 {
	if v := h.PeakTFLOPS[FP32]; v > 0 {
		return v
	}
	return h.EffectivePeak(FP32)
}

// Supports reports whether the device runs the precision: it has a peak
// figure for it, or for int4 (weight-only, dequantized to the activation
// precision) any floating-point peak.
func (h *Hardware) Supports(p Precision) bool {
	if p == INT4 {
		return h.PeakTFLOPS[FP16] > 0 || h.PeakTFLOPS[BF16] > 0 || h.PeakTFLOPS[FP32] > 0
	}
	return h.PeakTFLOPS[p] > 0
}

// EffectivePeak is the compute rate a runtime reaches at a precision: a
// runtime runs a layer at a higher precision when that is faster (TensorRT
// int8 on V100, without int8 tensor cores, runs at fp16 speed), int4 is
// weight-only and computes at the activation precision, and an unsupported
// precision is emulated at fp32 so the feature space stays total.
func (h *Hardware) EffectivePeak(p Precision) float64 {
	if p == INT4 {
		p = h.activationPrecision()
	}
	order := []Precision{INT8, FP8, FP16, BF16, FP32}
	i := 0
	for i < len(order) && order[i] != p {
		i++
	}
	peak := h.PeakTFLOPS[p]
	for _, q := range order[min(i, len(order)):] {
		if (q == BF16 || q == FP8) && p != q {
			continue
		}
		peak = math.Max(peak, h.PeakTFLOPS[q])
	}
	if peak <= 0 {
		peak = 1
	}
	return peak
}

// Roofline is the analytic estimate of one configuration.
type Roofline struct {
	LatencyMS  float64 `json:"latency_ms"`
	ComputeMS  float64 `json:"compute_ms"`
	MemoryMS   float64 `json:"memory_ms"`
	OverheadMS float64 `json:"overhead_ms"`
	MemoryMB   float64 `json:"memory_mb"`
	GFLOPs     float64 `json:"gflops_per_item"`
	Supported  bool    `json:"supported"`
	Feasible   bool    `json:"feasible"`
	Reason     string  `json:"reason,omitempty"`
	// Text generation: time between GPUs, time to first token, time per
	// output token, the KV cache of the batch and how many sequences fit.
	CommMS float64 `json:"comm_ms,omitempty"`
	// CommSyncMS is the part of CommMS that is per-transfer latency (a
	// link's bandwidth and its latency are separate unknowns of a machine).
	CommSyncMS     float64 `json:"-"`
	TTFTMS         float64 `json:"ttft_ms,omitempty"`
	TPOTMS         float64 `json:"tpot_ms,omitempty"`
	KVCacheMB      float64 `json:"kv_cache_mb,omitempty"`
	MaxConcurrency int     `json:"max_concurrency,omitempty"`
}

// Throughput in items per second (see Config.ItemsPerPass).
func (r Roofline) Throughput(cfg Config) float64 { return cfg.ItemsPerPass() * 1000 / r.LatencyMS }

// RooflineFor estimates latency and memory of a normalized configuration
// from the architecture and the device. A forward pass takes the larger of
// compute and memory traffic at the device's achievable rates, plus a fixed
// and a per-layer launch overhead; memory is weights at the precision,
// activations and KV cache for the batch, and the runtime's own footprint.
// Text-generation phases follow engine/generation.go.
func RooflineFor(m *Model, h *Hardware, cfg Config) Roofline {
	if cfg.Generative() {
		return generationRoofline(m, h, cfg)
	}
	batch, p, seq := cfg.BatchSize, cfg.Precision, cfg.SequenceLength
	cost := m.Arch.Cost(seq, p)
	ce, be, ov, lay, rt, slow := h.Knobs()
	b := float64(batch)
	r := Roofline{GFLOPs: cost.FLOPs / 1e9, Supported: h.Supports(p)}
	peak := h.EffectivePeak(p)
	r.ComputeMS = b * cost.FLOPs / (peak * 1e12 * ce / slow) * 1000
	bw := h.MemoryBandwidthGBps * 1e9 * be / slow
	weightMS := cost.WeightBytes / bw * 1000
	actMS := b * cost.TrafficBytes / bw * 1000
	r.MemoryMS = weightMS + actMS
	r.OverheadMS = ov + lay*float64(cost.Layers)
	// Weight reads stream under the matrix products; activation traffic is
	// mostly elementwise kernels (norms, softmax, activations) that run
	// between them, so it adds to the time rather than hiding under it.
	r.LatencyMS = r.OverheadMS + math.Max(r.ComputeMS, weightMS) + actMS
	r.MemoryMB = (cost.WeightBytes+b*(cost.ActivationBytes+cost.KVBytes))/(1<<20) + rt
	r.Feasible = r.Supported && r.MemoryMB <= h.UsableMemoryMB()
	switch {
	case !r.Supported:
		r.Reason = fmt.Sprintf("%s has no %s support", h.ID, p)
	case !r.Feasible:
		r.Reason = fmt.Sprintf("out of memory: needs %.0f MB of %.0f MB", r.MemoryMB, h.UsableMemoryMB())
	}
	return r
}
