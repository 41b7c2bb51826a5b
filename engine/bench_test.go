package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
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

// largeWorld widens the catalog with 20 explicit models and the space with
// every hardware, more batch sizes and all precisions: over 20,000 candidates.
func largeWorld(tb testing.TB) (*Catalog, Space) {
	cat := MustBuiltinCatalog()
	var models []map[string]any
	for i := 0; i < 20; i++ {
		models = append(models, map[string]any{"id": fmt.Sprintf("synthetic/enc-%02d", i), "model_type": "text_embedding",
			"layers": 4 + i, "hidden": 256 + 64*i, "heads": 4, "intermediate": 4 * (256 + 64*i), "vocab": 30000, "sequence_length": 64 + 16*i})
	}
	doc, _ := json.Marshal(map[string]any{"models": models})
	if err := cat.AddJSON(doc, "bench"); err != nil {
		tb.Fatal(err)
	}
	space := DefaultSpace(cat)
	space.Hardware = cat.HardwareIDs()
	space.BatchSizes = []int{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128}
	space.Precisions = Precisions
	return cat, space
}

// BenchmarkIntegrateLarge: ≥ 20,000 candidates with ≥ 2,000 results
// (target ≤ 2 s, peak heap ≤ 200 MB).
func BenchmarkIntegrateLarge(b *testing.B) {
	ctx := context.Background()
	cat, space := largeWorld(b)
	hist := SimulateHistory(cat, DemoWorld, space, 2000, 42)
	n := len(space.Configs(cat))
	if n < 20000 || len(hist) < 2000 {
		b.Fatalf("space %d configs, %d results", n, len(hist))
	}
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		p, err := NewPredictor(ctx, cat, hist, PredictorOptions{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := integrate(ctx, p, integrateOptions{RankParams: RankParams{Budget: 20, Metric: Throughput}, Space: &space, Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		b.ReportMetric(float64(rep.TotalCandidates), "candidates")
	}
	b.ReportMetric(float64(peak)/(1<<20), "heapMB")
}
