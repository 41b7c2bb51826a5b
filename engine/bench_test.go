package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkIntegrateDefaultSpace: fit on the demo history and integrate over
// the default space (target ≤ 200 ms).
func BenchmarkIntegrateDefaultSpace(b *testing.B) {
	ctx := context.Background()
	cat := MustBuiltinCatalog()
	hist := DemoHistory(cat)
	b.ReportAllocs()
	for b.Loop() {
		p, err := NewPredictor(ctx, cat, hist, PredictorOptions{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Rank(ctx, p, RankParams{Budget: 10, Metric: Throughput}, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// syntheticModels widens the builtin catalog with n explicit encoder models.
func syntheticModels(tb testing.TB, cat *Catalog, n int) {
	var models []map[string]any
	for i := 0; i < n; i++ {
		models = append(models, map[string]any{"id": fmt.Sprintf("synthetic/enc-%02d", i), "model_type": "text_embedding",
			"layers": 4 + i%24, "hidden": 256 + 64*(i%20), "heads": 4, "intermediate": 4 * (256 + 64*(i%20)), "vocab": 30000,
			"sequence_length": 64 + 16*(i%20)})
	}
	doc, _ := json.Marshal(map[string]any{"models": models})
	if err := cat.AddJSON(doc, "bench"); err != nil {
		tb.Fatal(err)
	}
}

// benchPrecisions keep the benchmark spaces the size issue 11 measured
// (fp8 and weight-only int4 on every float device came later).
var benchPrecisions = []Precision{FP32, FP16, BF16, INT8}

// largeWorld widens the catalog with 20 explicit models and the space with
// every hardware, more batch sizes and all precisions: over 20,000 candidates.
func largeWorld(tb testing.TB) (*Catalog, Space) {
	cat := MustBuiltinCatalog()
	syntheticModels(tb, cat, 20)
	space := DefaultSpace(cat)
	space.Hardware = cat.HardwareIDs()
	space.BatchSizes = []int{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128}
	space.Precisions = benchPrecisions
	return cat, space
}

// peakHeap runs f while sampling the heap (objects, live or not yet swept)
// every 2 ms through runtime/metrics, which does not stop the world, and
// returns the largest sample in MB: a lower bound of the true peak,
// comparable between runs.
func peakHeap(f func()) float64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				peak = max(peak, read())
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return float64(max(peak, read())) / (1 << 20)
}

// cpuTime is the process's user+system CPU time: on a shared machine it
// moves less than wall time with other load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports CPU ms per iteration since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// benchIntegrate fits and integrates once per iteration, reporting the
// candidate count and the peak in-use heap.
func benchIntegrate(b *testing.B, cat *Catalog, hist []Result, space *Space) {
	ctx := context.Background()
	b.ReportAllocs()
	var peak float64
	var cands int
	start := cpuTime()
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			p, err := NewPredictor(ctx, cat, hist, PredictorOptions{Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			rep, err := integrate(ctx, p, integrateOptions{RankParams: RankParams{Budget: 20, Metric: Throughput}, Space: space, Now: testNow})
			if err != nil {
				b.Fatal(err)
			}
			cands = rep.TotalCandidates
		}))
	}
	reportCPU(b, start)
	b.ReportMetric(float64(cands), "candidates")
	b.ReportMetric(peak, "peakMB")
}

// BenchmarkIntegrateLarge: ≥ 20,000 candidates with 2,000 results
// (issue 11 target ≤ 0.5 s, ≤ 120 MB).
func BenchmarkIntegrateLarge(b *testing.B) {
	cat, space := largeWorld(b)
	hist := SimulateHistory(cat, DemoWorld, space, 2000, 42)
	if n := len(space.Configs(cat)); n < 20000 || len(hist) < 2000 {
		b.Fatalf("space %d configs, %d results", n, len(hist))
	}
	benchIntegrate(b, cat, hist, &space)
}

// BenchmarkIntegrate100kDistinct: 100,000 distinct measured configurations
// (every batch size 1..600 of the default space) and integrate over the
// default space widened by them (issue 11 target ≤ 2 s, ≤ 300 MB).
func BenchmarkIntegrate100kDistinct(b *testing.B) {
	cat := MustBuiltinCatalog()
	space := DefaultSpace(cat)
	space.BatchSizes = nil
	for bs := 1; bs <= 600; bs++ {
		space.BatchSizes = append(space.BatchSizes, bs)
	}
	hist := SimulateHistory(cat, DemoWorld, space, 100_000, 7)
	if len(hist) != 100_000 {
		b.Fatalf("%d results", len(hist))
	}
	benchIntegrate(b, cat, hist, nil)
}

// BenchmarkIntegrateModels: about 45,000 candidates from a 40-model catalog
// with 2,000 results, and the same space with 10 and 20 models to show the
// cost is linear in models (issue 11 target at 40: ≤ 1 s, ≤ 300 MB).
func BenchmarkIntegrateModels(b *testing.B) {
	for _, n := range []int{10, 20, 40} {
		b.Run(fmt.Sprintf("models=%d", n), func(b *testing.B) {
			cat := MustBuiltinCatalog()
			syntheticModels(b, cat, 30)
			space := DefaultSpace(cat)
			space.Models = space.Models[:n]
			space.Hardware = cat.HardwareIDs()
			space.BatchSizes = []int{1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128, 192, 256}
			space.Precisions = benchPrecisions
			hist := SimulateHistory(cat, DemoWorld, space, 2000, 42)
			benchIntegrate(b, cat, hist, &space)
		})
	}
}

// BenchmarkFit2k: fitting alone (latency and memory models) on 2,000
// results (issue 11 target ≤ 0.1 s).
func BenchmarkFit2k(b *testing.B) {
	ctx := context.Background()
	cat, space := largeWorld(b)
	hist := SimulateHistory(cat, DemoWorld, space, 2000, 42)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, err := NewPredictor(ctx, cat, hist, PredictorOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}
