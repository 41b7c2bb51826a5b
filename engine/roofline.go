package engine

import (
	"fmt"
	"math"
)

// backendDefault holds the roofline knobs a hardware entry inherits when it
// leaves them at zero. Overheads follow the public priors: eager frameworks
// spend ~10 ms launching ResNet-50 (17 blocks) at batch 1 on V100/T4.
type backendDefault struct {
	computeEff, bandwidthEff float64
	overheadMS, layerMS      float64
	runtimeMB                float64
}

var backendDefaults = map[string]backendDefault{
	"cpu":      {0.55, 0.70, 0.2, 0.08, 250},
	"cuda":     {0.50, 0.75, 0.5, 0.55, 700},
	"rocm":     {0.40, 0.70, 0.8, 0.65, 700},
	"mps":      {0.45, 0.70, 1.0, 0.45, 400},
	"openvino": {0.50, 0.70, 0.5, 0.10, 300},
	"qnn":      {0.35, 0.60, 1.0, 0.15, 200},
	"webnn":    {0.50, 0.70, 2.0, 0.10, 400},
	"webgpu":   {0.45, 0.70, 2.0, 0.45, 500},
}

// Knobs returns the effective roofline knobs of a device.
func (h *Hardware) Knobs() (computeEff, bandwidthEff, overheadMS, layerMS, runtimeMB, slowdown float64) {
	d := backendDefaults[h.Backend]
	pick := func(v, def float64) float64 {
		if v > 0 {
			return v
		}
		return def
	}
	slowdown = h.Slowdown
	if slowdown <= 0 {
		slowdown = 1
	}
	return pick(h.ComputeEfficiency, d.computeEff), pick(h.BandwidthEfficiency, d.bandwidthEff),
		pick(h.OverheadMS, d.overheadMS), pick(h.LayerOverheadMS, d.layerMS), pick(h.RuntimeMemoryMB, d.runtimeMB), slowdown
}

// EffectivePeak is the compute rate a runtime reaches at a precision: a
// runtime runs a layer at a higher precision when that is faster (TensorRT
// int8 on V100, without int8 tensor cores, runs at fp16 speed), and an
// unsupported precision is emulated at fp32 so the feature space stays total.
func (h *Hardware) EffectivePeak(p Precision) float64 {
	order := []Precision{INT4, INT8, FP16, BF16, FP32}
	i := 0
	for i < len(order) && order[i] != p {
		i++
	}
	peak := h.PeakTFLOPS[p]
	for _, q := range order[i:] {
		if q == BF16 && p != BF16 {
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
}

// Throughput in items per second.
func (r Roofline) Throughput(batch int) float64 { return float64(batch) * 1000 / r.LatencyMS }

// RooflineFor estimates latency and memory of a configuration from the
// architecture and the device: time is the larger of compute and memory
// traffic at the device's achievable rates, plus a fixed and a per-layer
// launch overhead; memory is weights at the precision, activations and KV
// cache for the batch, and the runtime's own footprint.
func RooflineFor(m *Model, h *Hardware, batch int, p Precision, seq int) Roofline {
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
