package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestCatalogHardwareBounds: a hardware number beyond physical sense (a
// zettaFLOP/s device, 5e-324 GB/s of bandwidth) is refused naming the
// field, because the roofline divides by it and its NaN would leave the
// engine; values at the bounds are accepted and predict finite numbers.
func TestCatalogHardwareBounds(t *testing.T) {
	fields := []string{"peak_tflops", "memory_bandwidth_gbps", "memory_gb", "tdp_watts", "relative_cost", "overhead_ms",
		"layer_overhead_ms", "runtime_memory_mb", "slowdown", "interconnect_gbps", "last_level_cache_mb"}
	base := func() map[string]any {
		return map[string]any{"id": "hx", "backend": "cpu", "peak_tflops": map[string]any{"fp32": 1.0}, "memory_bandwidth_gbps": 50.0,
			"memory_gb": 16.0, "tdp_watts": 65.0, "availability": 1, "relative_cost": 0.1, "deployment_complexity": 0.1}
	}
	set := func(h map[string]any, f string, v float64) {
		if f == "peak_tflops" {
			h[f] = map[string]any{"fp32": v}
			return
		}
		h[f] = v
	}
	add := func(h map[string]any) (*Catalog, error) {
		c := MustBuiltinCatalog()
		doc, _ := json.Marshal(map[string]any{"hardware": []any{h}})
		return c, c.AddJSON(doc, "bounds.json")
	}
	for _, f := range fields {
		_, hi := hardwareBounds(f)
		for _, v := range []float64{1e308, 1e300, hi * 1.5, 1e-300, 5e-324} {
			if v < 1 && (f != "peak_tflops" && f != "memory_bandwidth_gbps" && f != "memory_gb" && f != "tdp_watts") {
				continue // zero and tiny are fine where the field may be 0
			}
			h := base()
			set(h, f, v)
			if _, err := add(h); err == nil || !strings.Contains(err.Error(), f) {
				t.Errorf("%s = %g: %v; want it refused naming the field", f, v, err)
			}
		}
	}
	// The bounds themselves are accepted and predict finite numbers.
	for _, extreme := range []string{"low", "high"} {
		h := base()
		for _, f := range fields {
			lo, hi := hardwareBounds(f)
			v := hi
			if extreme == "low" {
				v = lo
			}
			set(h, f, v)
		}
		c, err := add(h)
		if err != nil {
			t.Fatalf("%s bounds refused: %v", extreme, err)
		}
		p, err := NewPredictor(context.Background(), c, nil, PredictorOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"gpt2", "bert-base-uncased", "meta-llama/Llama-2-70b-hf"} {
			pr, err := p.Predict(Config{Model: m, Hardware: "hx", BatchSize: 64, Precision: FP32})
			if err != nil {
				t.Fatalf("%s bounds, %s: %v", extreme, m, err)
			}
			assertFinite(t, reflect.ValueOf(pr), fmt.Sprintf("%s bounds %s prediction", extreme, m))
		}
	}
}
