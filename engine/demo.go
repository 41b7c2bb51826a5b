package engine

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// World is a simulated ground truth: how configurations "really" perform in
// the demo history and in tests. It deliberately differs from the roofline
// prior — kernels need enough work to saturate the device, compute and
// memory traffic overlap imperfectly, and each backend reaches its own share
// of peak — so the learned correction has something real to learn. The
// shapes follow SPEC §2's public priors: TensorRT-class software reaches
// ~68% of fp16 peak on A100 at large batch, eager frameworks are
// overhead-bound at batch 1, browsers run several times slower than native.
type World struct {
	// Noise is the standard deviation of the multiplicative (log) noise.
	Noise float64
}

// worldBackend: peak share reached at saturation, overhead scale against the
// prior, memory scale against the prior.
var worldBackend = map[string]struct{ eff, overhead, memory float64 }{
	"cpu":      {0.45, 1.6, 1.10},
	"cuda":     {0.62, 0.8, 1.20},
	"rocm":     {0.38, 1.2, 1.25},
	"mps":      {0.35, 1.1, 1.15},
	"openvino": {0.42, 0.9, 1.10},
	"qnn":      {0.25, 1.3, 1.05},
	"webnn":    {0.40, 1.5, 1.30},
	"webgpu":   {0.30, 1.4, 1.35},
}

// precisionShare: lower precisions reach a smaller share of their (higher)
// peak because not every op runs at that precision.
var precisionShare = map[Precision]float64{FP32: 1.0, FP16: 0.85, BF16: 0.85, FP8: 0.6, INT8: 0.6, INT4: 0.45}

// worldPhase: how much slower than the prior each backend's LLM runtime
// runs a prefill and a decode step, and how a decode step slows per
// doubling of the batch (batched kernels leave the bandwidth roofline).
var worldPhase = map[string]struct{ prefill, decode, batchSlope float64 }{
	"cpu":      {1.25, 1.30, 0.06},
	"cuda":     {1.35, 1.10, 0.04},
	"rocm":     {1.60, 1.25, 0.05},
	"mps":      {0.85, 1.15, 0.03},
	"openvino": {1.30, 1.20, 0.05},
	"qnn":      {1.80, 1.40, 0.08},
	"webnn":    {2.10, 1.60, 0.06},
	"webgpu":   {1.90, 1.50, 0.06},
}

// True returns the noiseless latency (ms) and peak memory (MB) of a
// configuration in this world. A generation request takes its prefill and
// (output − 1) decode steps at its mean context, as its prediction does.
func (w World) True(m *Model, h *Hardware, cfg Config) (latencyMS, memoryMB float64) {
	batch, p, seq := cfg.BatchSize, cfg.Precision, cfg.SequenceLength
	prior := RooflineFor(m, h, cfg)
	wb, ok := worldBackend[h.Backend]
	if !ok {
		wb = worldBackend["cuda"]
	}
	memoryMB = prior.MemoryMB*wb.memory + 64
	if cfg.Generative() {
		return w.generationTrue(m, h, cfg), memoryMB
	}
	cost := m.Arch.Cost(seq, p)
	_, _, _, _, _, slow := h.Knobs()
	peak := h.PeakTFLOPS[p]
	if peak <= 0 {
		peak = h.PeakTFLOPS[FP32]
	}
	work := float64(batch) * cost.FLOPs
	// Saturation: a device needs about 30 µs of peak work to fill its units.
	half := peak * 1e12 * 30e-6
	sat := work / (work + half)
	eff := wb.eff * precisionShare[p] * sat
	compute := work / (peak * 1e12 * eff / slow) * 1000
	// Memory traffic runs at 90% of the prior's achievable bandwidth.
	memory := prior.MemoryMS / 0.9
	overhead := prior.OverheadMS * wb.overhead
	hi, lo := math.Max(compute, memory), math.Min(compute, memory)
	latencyMS = overhead + hi + 0.25*lo
	return latencyMS, memoryMB
}

// generationTrue is the noiseless latency of a text-generation phase or
// request: the prior's, slower by the backend's runtime, with batched
// decode steps and int4 prompts (dequantization) slower still.
func (w World) generationTrue(m *Model, h *Hardware, cfg Config) float64 {
	if cfg.Phase == Generate {
		pre, dec := cfg.phaseConfigs()
		return w.generationTrue(m, h, pre) + float64(max(cfg.OutputTokens, 1)-1)*w.generationTrue(m, h, dec)
	}
	wp, ok := worldPhase[h.Backend]
	if !ok {
		wp = worldPhase["cuda"]
	}
	lat := RooflineFor(m, h, cfg).LatencyMS
	if cfg.Phase == Prefill {
		if cfg.Precision == INT4 {
			lat *= 1.15
		}
		return lat * wp.prefill
	}
	return lat * wp.decode * (1 + wp.batchSlope*math.Log2(float64(cfg.BatchSize)))
}

// Run returns what benchmarking a configuration reports: one result, or
// for a generation request its prefill and its mean decode step, as LLM
// benchmark tools report them.
func (w World) Run(m *Model, h *Hardware, cfg Config, rng *rand.Rand) []Result {
	if cfg.Phase != Generate {
		return []Result{w.Measure(m, h, cfg, rng)}
	}
	pre, dec := cfg.phaseConfigs()
	return []Result{w.Measure(m, h, pre, rng), w.Measure(m, h, dec, rng)}
}

// Measure returns one noisy simulated result.
func (w World) Measure(m *Model, h *Hardware, cfg Config, rng *rand.Rand) Result {
	lat, mem := w.True(m, h, cfg)
	lat *= math.Exp(w.Noise * rng.NormFloat64())
	mem *= math.Exp(w.Noise / 2 * rng.NormFloat64())
	return Result{Config: cfg, ModelType: m.ModelType, LatencyMS: round4(lat), MemoryMB: round4(mem),
		Throughput: round4(cfg.ItemsPerPass() * 1000 / lat), Source: "simulated"}
}

// DemoWorld is the world the demo history is drawn from.
var DemoWorld = World{Noise: 0.05}

// demoEpoch anchors demo timestamps so the history is byte-for-byte stable.
var demoEpoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// DemoHistory returns the deterministic demo history: 96 simulated results
// spread over the default candidate space, marked source=simulated.
func DemoHistory(cat *Catalog) []Result {
	return SimulateHistory(cat, DemoWorld, DefaultSpace(cat), 96, 20260105)
}

// SimulateHistory draws distinct feasible configurations of the space,
// round-robin over hardware so every device gets some, and runs them in the
// world (World.Run) until it has n results.
func SimulateHistory(cat *Catalog, w World, space Space, n int, seed uint64) []Result {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	byHW := map[string][]Config{}
	for _, c := range space.Configs(cat) {
		r := RooflineFor(cat.Model(c.Model), cat.Hardware(c.Hardware), c)
		if r.Feasible {
			byHW[c.Hardware] = append(byHW[c.Hardware], c)
		}
	}
	for _, hw := range space.Hardware {
		cs := byHW[hw]
		rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	}
	var out []Result
	for i := 0; len(out) < n; i++ {
		progressed := false
		for _, hw := range space.Hardware {
			if len(out) >= n {
				break
			}
			if i < len(byHW[hw]) {
				c := byHW[hw][i]
				for _, r := range w.Run(cat.Model(c.Model), cat.Hardware(c.Hardware), c, rng) {
					if len(out) < n {
						r.Timestamp = demoEpoch.Add(time.Duration(len(out)) * 17 * time.Minute)
						out = append(out, r)
					}
				}
				progressed = true
			}
		}
		if !progressed {
			break
		}
	}
	return out
}

// round4 rounds to four significant digits. Below ~1e-305 the scale
// 10^(3-exponent) overflows to Inf and the product became NaN, so
// such values go through the decimal text instead.
func round4(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	mag := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	if math.IsInf(mag, 0) {
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
		return r
	}
	return math.Round(v*mag) / mag
}
