package engine

import (
	"fmt"
	"math"
	"slices"
)

// The predictor's feature map has two parts (engine/blr.go):
//
//   - a dense block shared by every configuration: bias, the raw features
//     below, and random Fourier features of an RBF kernel on them;
//   - random effects, one weight per level of a grouping (a device, its
//     architecture family, its vendor, a model, a device at a precision, a
//     device's batch slope), each group with a prior variance learned from
//     how much its levels differ. They are sparse: a configuration touches
//     one level per group, and a level without data keeps its prior.
//
// The device-level raw features (peak, bandwidth, TDP, cache, release year,
// memory kind, dual-issue FP32) make the dense block a regression on specs:
// it is the prior mean of a device's efficiency, and the device, family and
// vendor effects are how far a device sits from it.

// Raw feature layout: continuous, then one-hots. The one-hots are scaled so
// two different categories are at distance 1.
const (
	nContinuous = 16
	nMemClass   = 3
	nPrecisions = 6 // len(Precisions)
	nPhaseSlots = 3 // forward, prefill, decode (a whole request is its decode steps)
	nRaw        = nContinuous + nMemClass + 8 + nPrecisions + 5 + nPhaseSlots
)

var oneHotScale = 1 / math.Sqrt2

// Random-effect groups.
const (
	reHardware = iota
	reFamily
	reVendor
	reModel
	reHWPrecision
	reHWBatch
	reHWPhase // a device's prefills
	reHWDecode
	reHWSplit
	reHWSync
	reBox
	nGroups
)

// levels are one configuration's random-effect levels and their values
// (the feature multiplying the effect); an empty key means no level.
type levels struct {
	key [nGroups]string
	val [nGroups]float64
	// stratum is the kind of pass (engine/calibrate.go calibrates each on
	// its own).
	stratum uint8
}

// deviceLevel marks the raw features that are constant for a device (at a
// precision). They enter the model linearly only — the spec regression of a
// device's efficiency — and not the RBF kernel: with a handful of devices an
// RBF over spec space extrapolates arbitrary device × configuration shapes
// to a new device, which one measurement there then bends wildly. How a
// device's efficiency varies across its configurations is left to the
// roofline-derived features (compute/memory balance, overhead share) in the
// kernel and to the per-device random effects.
var deviceLevel = func() [nRaw]bool {
	var m [nRaw]bool
	for _, i := range []int{3, 4, 8, 9, 10, 11, 12, 13, 14} {
		m[i] = true
	}
	for i := nContinuous; i < nContinuous+nMemClass; i++ {
		m[i] = true
	}
	return m
}()

// batchDims are the raw features that change with the batch size alone.
var batchDims = [nRaw]bool{0: true, 5: true, 6: true}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// batchFeature is the log batch size centred on batch 8, so a device's batch
// slope does not also move its offset at typical batches.
func batchFeature(batch int) float64 { return (math.Log2(float64(batch)) - 3) / 6 }

// rawFeatures fills x (length nRaw) for a configuration and its roofline.
func rawFeatures(x []float64, m *Model, h *Hardware, cfg Config, rf Roofline) {
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
	// Peak per watt: a datasheet peak that the power budget cannot sustain.
	x[11] = math.Log10(peak/h.TDPWatts) / 1
	// A large last-level cache keeps activations out of DRAM, so such a
	// device beats its bandwidth roofline. Unknown: the 16 MB midpoint.
	if h.LastLevelCacheMB > 0 {
		x[12] = math.Log2(h.LastLevelCacheMB/16) / 3
	}
	// Newer generations run the same software better. Unknown: 2020.
	if h.ReleaseYear > 0 {
		x[13] = float64(h.ReleaseYear-2020) / 4
	}
	// A dual-issue fp32 peak counts lanes shared with integer work: fp32
	// kernels reach about half of it.
	if h.FP32DualIssue && cfg.Precision == FP32 {
		x[14] = 1
	}
	o := nContinuous
	if c := memoryClass(h.MemoryType); c >= 0 {
		x[o+c] = oneHotScale
	}
	o += nMemClass
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
	o += 5
	generationFeatures(x, o, cfg)
}

// generationFeatures fills the text-generation part of a raw feature row:
// the decode context among the continuous features and the phase as a
// one-hot from o (a whole request is featurized as its decode steps, which
// dominate it). How fast several GPUs exchange data is a property of the
// machine (its links), not a shape shared across machines, so the split is
// a random effect (levelNames.levels), not a dense feature.
func generationFeatures(x []float64, o int, cfg Config) {
	if cfg.Phase == Decode {
		x[15] = math.Log10(float64(max(cfg.ContextTokens, 1))) / 4
	}
	slot := 0
	switch cfg.Phase {
	case Prefill:
		slot = 1
	case Decode, Generate:
		slot = 2
	}
	x[o+slot] = oneHotScale
}

// levelNames keeps the level keys built for the last device, so the rows
// of one device that follow each other (a space's order) share their
// strings: building them per row was most of a large prediction's
// allocations (issue 11). One per goroutine.
type levelNames struct {
	hw               *Hardware
	family           string
	prec             Precision
	precKey          string
	prefill, decode  string
	split            Parallelism
	gpus             int
	splitKey, boxKey string
}

// levels returns a configuration's random-effect levels.
func (n *levelNames) levels(h *Hardware, cfg Config, rf Roofline) levels {
	if n.hw != h {
		*n = levelNames{hw: h, family: h.FamilyKey(), prefill: h.ID + "|" + string(Prefill), decode: h.ID + "|" + string(Decode)}
	}
	if n.precKey == "" || n.prec != cfg.Precision {
		n.prec, n.precKey = cfg.Precision, h.ID+"|"+string(cfg.Precision)
	}
	var l levels
	l.key[reHardware], l.val[reHardware] = h.ID, 1
	l.key[reFamily], l.val[reFamily] = n.family, 1
	if v := h.VendorKey(); v != "" {
		l.key[reVendor], l.val[reVendor] = v, 1
	}
	l.key[reModel], l.val[reModel] = cfg.Model, 1
	l.key[reHWPrecision], l.val[reHWPrecision] = n.precKey, 1
	l.key[reHWBatch], l.val[reHWBatch] = h.ID, batchFeature(cfg.BatchSize)
	// Prefill and decode stress different units (matrix units against
	// memory streaming), so a device's efficiency differs per phase, and by
	// how much devices differ is a property of each phase: two groups.
	switch cfg.Phase {
	case Prefill:
		l.key[reHWPhase], l.val[reHWPhase] = n.prefill, 1
	case Decode, Generate:
		l.key[reHWDecode], l.val[reHWDecode] = n.decode, 1
	}
	l.stratum = stratumOf(cfg)
	// A machine's links scale the time spent between its GPUs: each effect
	// weighs by its share of the prior's time. Their bandwidth (bytes moved:
	// large in a prefill) and their per-transfer latency (synchronisations:
	// most of a decode step's) are separate unknowns of a machine — a slow
	// link need not be a slow handshake — so a measured prefill does not
	// move the machine's decode steps, nor the reverse.
	if cfg.GPUs() > 1 && rf.LatencyMS > 0 {
		if n.splitKey == "" || n.split != cfg.Parallelism || n.gpus != cfg.GPUs() {
			n.split, n.gpus, n.splitKey = cfg.Parallelism, cfg.GPUs(), h.ID+"|"+string(cfg.Parallelism)
			n.boxKey = fmt.Sprintf("%s|%d", n.splitKey, cfg.GPUs())
		}
		l.key[reHWSplit], l.val[reHWSplit] = n.splitKey, (rf.CommMS-rf.CommSyncMS)/rf.LatencyMS
		l.key[reHWSync], l.val[reHWSync] = n.splitKey, rf.CommSyncMS/rf.LatencyMS
		l.key[reBox], l.val[reBox] = n.boxKey, l.val[reHWSplit]
	}
	return l
}
