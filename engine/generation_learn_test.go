package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// splitWorld is a synthetic llama.cpp-style campaign: each machine's links
// move bytes at their own speed (bwSlow × the prior's time for bytes)
// while their per-transfer latency is the prior's, as when a rig runs
// PCIe x4 risers; every device also runs its single-GPU passes a little
// off the prior, per phase.
func splitWorld(t *testing.T, bwSlow map[string]float64, seed uint64) (*Catalog, []Result) {
	t.Helper()
	cat := MustBuiltinCatalog()
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []Result
	for _, hw := range []string{"cuda", "h100-sxm", "l40s", "a30", "rtx4090", "l4"} {
		dev := map[Phase]float64{Prefill: math.Exp(0.15 * rng.NormFloat64()), Decode: math.Exp(0.1 * rng.NormFloat64())}
		for _, model := range []string{"meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-70b-hf", "mistralai/Mixtral-8x7B-v0.1"} {
			for _, prec := range []Precision{FP16, INT4} {
				for _, gpus := range []int{1, 2, 4} {
					for _, ph := range []Phase{Prefill, Decode} {
						cfg := Config{Model: model, Hardware: hw, BatchSize: 1, Precision: prec, Phase: ph, PromptTokens: 512,
							OutputTokens: 256, GPUCount: gpus, Parallelism: Row}
						n, rf := genConfig(cat, t, cfg)
						if !rf.Feasible {
							continue
						}
						lat := (rf.LatencyMS + (bwSlow[hw]-1)*(rf.CommMS-rf.CommSyncMS)) * dev[ph] * math.Exp(0.03*rng.NormFloat64())
						out = append(out, Result{Config: n, LatencyMS: lat, Source: "synthetic"})
					}
				}
			}
		}
	}
	return cat, out
}

// TestSplitEffectsSeparateBandwidthFromLatency: one measured multi-GPU
// prefill of a machine with slow links teaches its bandwidth; its decode
// steps, whose time between GPUs is handshakes, must not be dragged along
// (with one effect for both, decode came out 2× too slow: median APE 100%).
func TestSplitEffectsSeparateBandwidthFromLatency(t *testing.T) {
	const target = "rtx4090"
	bw := map[string]float64{"cuda": 1, "h100-sxm": 0.8, "l40s": 2.5, "a30": 1.3, "l4": 4, target: 5}
	cat, rs := splitWorld(t, bw, 1)
	var train, decodes, prefills []Result
	revealed := false
	for _, r := range rs {
		switch {
		case r.Hardware != target || r.GPUs() == 1:
			train = append(train, r)
		case !revealed && r.Phase == Prefill && r.GPUs() == 4:
			train, revealed = append(train, r), true
		case r.Phase == Decode:
			decodes = append(decodes, r)
		default:
			prefills = append(prefills, r)
		}
	}
	p := mustPredictor(t, cat, train)
	for _, tc := range []struct {
		name string
		rows []Result
		max  float64
	}{
		{"multi-GPU decode", decodes, 0.25},
		{"multi-GPU prefill", prefills, 0.25},
	} {
		apes := make([]float64, len(tc.rows))
		for i, r := range tc.rows {
			pr, err := p.Predict(r.Config)
			if err != nil {
				t.Fatal(err)
			}
			apes[i] = math.Abs(pr.Latency.Value/r.LatencyMS - 1)
		}
		if m := median(apes); m > tc.max {
			t.Errorf("%s of %s after one measured prefill: median APE %.0f%%, want ≤ %.0f%%", tc.name, target, 100*m, 100*tc.max)
		}
	}
}

// phaseWorld is a synthetic campaign whose devices run decode steps close
// to the prior (they stream weights: bandwidth is on the datasheet) and
// prefills far from it (their matrix units sustain a share of peak the
// datasheet does not give), with a little noise.
func phaseWorld(t *testing.T, seed uint64) (*Catalog, []Result) {
	t.Helper()
	cat := MustBuiltinCatalog()
	rng := rand.New(rand.NewPCG(seed, 11))
	var out []Result
	for _, hw := range []string{"cuda", "h100-sxm", "t4", "l4", "v100", "rtx4090", "a100-sxm4-40gb", "a30", "l40s", "rocm"} {
		dev := map[Phase]float64{Prefill: math.Exp(0.35 * rng.NormFloat64()), Decode: math.Exp(0.04 * rng.NormFloat64())}
		for _, prec := range []Precision{FP16, INT4} {
			for _, prompt := range []int{128, 512, 2048} {
				for _, batch := range []int{1, 4, 16} {
					for _, ph := range []Phase{Prefill, Decode} {
						cfg := Config{Model: "meta-llama/Llama-2-7b-hf", Hardware: hw, BatchSize: batch, Precision: prec, Phase: ph,
							PromptTokens: prompt, OutputTokens: 128}
						n, rf := genConfig(cat, t, cfg)
						if !rf.Feasible {
							continue
						}
						lat := rf.LatencyMS * dev[ph] * math.Exp(0.03*rng.NormFloat64())
						out = append(out, Result{Config: n, LatencyMS: lat, Source: "synthetic"})
					}
				}
			}
		}
	}
	return cat, out
}

// TestCalibrationPerPhase: where prefills of an unseen device are far less
// predictable than its decode steps, one variance factor for both makes
// decode intervals too wide and prefill ones too narrow; each phase's 80%
// intervals must hold on its own.
func TestCalibrationPerPhase(t *testing.T) {
	cat, rs := phaseWorld(t, 3)
	rows, err := Evaluate(context.Background(), cat, rs, EvalOptions{Split: SplitHardware, Metrics: []Metric{Latency}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Group != "" || r.Phase == "" {
			continue
		}
		if r.Coverage80 < 0.7 || r.Coverage80 > 0.9 {
			t.Errorf("%s: 80%% coverage on unseen devices %.0f%%, want 70–90%%", r.Phase, 100*r.Coverage80)
		}
	}
}

// TestBoxEffectPerGPUCount: a 2-GPU and a 4-GPU machine of one GPU type are
// different boxes (slots, lanes, switches); with both measured, each
// box's held-out prefill follows its own links, not their average
// (one effect per GPU type and split: 57% off on the 2-GPU box).
func TestBoxEffectPerGPUCount(t *testing.T) {
	const target = "rtx4090"
	bw := map[string]float64{"cuda": 1, "h100-sxm": 0.8, "l40s": 2.5, "a30": 1.3, "l4": 4, target: 1}
	cat, rs := splitWorld(t, bw, 2)
	box := map[int]float64{2: 5, 4: 2}
	held := map[int]Result{}
	var train []Result
	for _, r := range rs {
		if r.Hardware == target && r.GPUs() > 1 {
			rf := RooflineFor(cat.Model(r.Model), cat.Hardware(r.Hardware), r.Config)
			r.LatencyMS *= (rf.LatencyMS + (box[r.GPUs()]-1)*(rf.CommMS-rf.CommSyncMS)) / rf.LatencyMS
			if _, ok := held[r.GPUs()]; !ok && r.Phase == Prefill && r.Precision == FP16 && r.Model == "meta-llama/Llama-2-7b-hf" {
				held[r.GPUs()] = r
				continue
			}
		}
		train = append(train, r)
	}
	p := mustPredictor(t, cat, train)
	for g, r := range held {
		pr, err := p.Predict(r.Config)
		if err != nil {
			t.Fatal(err)
		}
		if ape := math.Abs(pr.Latency.Value/r.LatencyMS - 1); ape > 0.15 {
			t.Errorf("%d-GPU prefill of %s: APE %.0f%% (predicted %.0f ms, measured %.0f), want ≤ 15%%", g, target, 100*ape, pr.Latency.Value, r.LatencyMS)
		}
	}
}
