package engine

import (
	"math"
	"testing"
)

func TestRooflineKnownFigures(t *testing.T) {
	c := MustBuiltinCatalog()
	bert := c.Model("bert-base-uncased")
	// BERT-base at 128 tokens is about 22 GFLOP per sequence (2 × 85M
	// non-embedding parameters × 128 tokens plus attention).
	if g := bert.Arch.Cost(128, FP32).FLOPs / 1e9; math.Abs(g/22-1) > 0.10 {
		t.Errorf("bert-base seq 128: %.2f GFLOP, want 22 ±10%%", g)
	}
	// ResNet-50 is about 4.1 GMAC = 8.2 GFLOP per 224² image.
	if g := c.Model("microsoft/resnet-50").Arch.Cost(0, FP32).FLOPs / 1e9; math.Abs(g/8.2-1) > 0.10 {
		t.Errorf("resnet-50: %.2f GFLOP, want 8.2 ±10%%", g)
	}
	llama := c.Model("meta-llama/Llama-2-7b-hf")
	if r := RooflineFor(llama, c.Hardware("t4"), Config{BatchSize: 1, Precision: FP32, SequenceLength: 128}); r.Feasible {
		t.Errorf("Llama-2-7b fp32 fits a 16 GB T4 (%.0f MB)", r.MemoryMB)
	}
	if r := RooflineFor(llama, c.Hardware("cuda"), Config{BatchSize: 1, Precision: FP16, SequenceLength: 128}); !r.Feasible {
		t.Errorf("Llama-2-7b fp16 does not fit an 80 GB A100: %s", r.Reason)
	}
	// Unsupported precision is infeasible with a reason.
	if r := RooflineFor(bert, c.Hardware("cpu"), Config{BatchSize: 1, Precision: FP16, SequenceLength: 128}); r.Supported || r.Feasible || r.Reason == "" {
		t.Errorf("cpu fp16 should be unsupported: %+v", r)
	}
}

func TestRooflineShape(t *testing.T) {
	c := MustBuiltinCatalog()
	bert, a100 := c.Model("bert-large-uncased"), c.Hardware("cuda")
	// Batch 1 on a GPU is overhead-bound; batch 64 is compute-bound, and
	// throughput grows with batch.
	c1, c64 := Config{BatchSize: 1, Precision: FP16, SequenceLength: 128}, Config{BatchSize: 64, Precision: FP16, SequenceLength: 128}
	r1, r64 := RooflineFor(bert, a100, c1), RooflineFor(bert, a100, c64)
	if r1.OverheadMS < math.Max(r1.ComputeMS, r1.MemoryMS) {
		t.Errorf("batch 1 not overhead-bound: %+v", r1)
	}
	if r64.Throughput(c64) <= r1.Throughput(c1)*4 {
		t.Errorf("throughput does not grow with batch: %.0f vs %.0f", r64.Throughput(c64), r1.Throughput(c1))
	}
	// fp16 tensor cores beat fp32 at large batch; memory grows with batch.
	if RooflineFor(bert, a100, Config{BatchSize: 64, Precision: FP32, SequenceLength: 128}).LatencyMS <= r64.LatencyMS {
		t.Error("fp32 not slower than fp16 at batch 64 on A100")
	}
	if r64.MemoryMB <= r1.MemoryMB {
		t.Error("memory does not grow with batch")
	}
	// The browser runtime is slower than the native one on the same laptop.
	if RooflineFor(bert, c.Hardware("webgpu"), Config{BatchSize: 8, Precision: FP16, SequenceLength: 128}).LatencyMS <= RooflineFor(bert, c.Hardware("mps"), Config{BatchSize: 8, Precision: FP16, SequenceLength: 128}).LatencyMS {
		t.Error("webgpu not slower than mps")
	}
}
