package engine

import (
	"math"
	"slices"
)

// featurizer maps configurations to the feature space shared by the
// predictor and the active learner: batch and sizes log-scaled, categories
// one-hot over fixed vocabularies (backends, precisions, model types, and
// the catalog's hardware and model ids).
type featurizer struct {
	hwIndex    map[string]int
	modelIndex map[string]int
}

// Raw feature layout: continuous, then one-hots. The one-hots are scaled so
// two different categories are at distance 1.
const (
	nContinuous = 11
	nPrecisions = 6 // len(Precisions)
	nRaw        = nContinuous + 8 + nPrecisions + 5
)

var oneHotScale = 1 / math.Sqrt2

func newFeaturizer(cat *Catalog) *featurizer {
	f := &featurizer{hwIndex: map[string]int{}, modelIndex: map[string]int{}}
	for i, id := range cat.HardwareIDs() {
		f.hwIndex[id] = i
	}
	for i, id := range cat.ModelIDs() {
		f.modelIndex[id] = i
	}
	return f
}

func (f *featurizer) nLinear() int { return 1 + nRaw + len(f.hwIndex) + len(f.modelIndex) }

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// raw fills x (length nRaw) for a configuration and its roofline.
func (f *featurizer) raw(x []float64, m *Model, h *Hardware, cfg Config, rf Roofline) {
	clear(x)
	peak := h.EffectivePeak(cfg.Precision)
	_, _, _, _, _, slow := h.Knobs()
	x[0] = math.Log2(float64(cfg.BatchSize)) / 6
	x[1] = math.Log10(math.Max(rf.GFLOPs, 1e-3)) / 2
	x[2] = (math.Log10(math.Max(m.Arch.Params, 1)) - 8) / 2
	x[3] = math.Log10(math.Max(peak, 1e-3)) / 2
	x[4] = (math.Log10(h.MemoryBandwidthGBps) - 2) / 1.5
	x[5] = clamp(math.Log10(math.Max(rf.ComputeMS, 1e-9)/math.Max(rf.MemoryMS, 1e-9)), -3, 3) / 2
	x[6] = rf.OverheadMS / rf.LatencyMS
	x[7] = math.Log10(float64(max(cfg.SequenceLength, 1))) / 3
	x[8] = math.Log(slow) / math.Log(5)
	// Power-limited devices reach a smaller share of peak; devices with few
	// bytes per FLOP spend longer in memory-bound kernels.
	x[9] = (math.Log10(h.TDPWatts) - 2) / 1
	x[10] = math.Log10(h.MemoryBandwidthGBps/(peak*1000)) / 2
	o := nContinuous
	if i := slices.Index(Backends, h.Backend); i >= 0 {
		x[o+i] = oneHotScale
	}
	o += 8
	if i := slices.Index(Precisions, cfg.Precision); i >= 0 {
		x[o+i] = oneHotScale
	}
	o += nPrecisions
	if i := slices.Index(ModelTypes, m.ModelType); i >= 0 {
		x[o+i] = oneHotScale
	}
}

// linear fills the linear block: bias, raw features, hardware and model ids.
func (f *featurizer) linear(phi []float64, x []float64, cfg Config) {
	phi[0] = 1
	copy(phi[1:], x)
	o := 1 + nRaw
	for i := o; i < f.nLinear(); i++ {
		phi[i] = 0
	}
	if i, ok := f.hwIndex[cfg.Hardware]; ok {
		phi[o+i] = 1
	}
	o += len(f.hwIndex)
	if i, ok := f.modelIndex[cfg.Model]; ok {
		phi[o+i] = 1
	}
}
