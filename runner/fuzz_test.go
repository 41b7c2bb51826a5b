package runner

import (
	"math"
	"strings"
	"testing"

	"perfpilot/engine"
)

// Whatever a command prints, parsing never fails on it and never yields a
// metric that is not a positive finite number.
func FuzzParseOutput(f *testing.F) {
	for _, s := range []string{`{"throughput": 1e308, "latency_ms": 1e-320}`, "Latency: 1e400 s", "Memory: .5 GiB", "Throughput: -0 it/s", "{}}{{",
		"| model | size | params | test | t/s |\n| llama 7B Q4_0 | 3.56 GiB | 6.74 B | pp512+tg128 | 1e-300 ± 1 |",
		"[\n{\"avg_ts\": 1e308, \"n_gen\": 2147483647, \"n_prompt\": 0, \"n_depth\": 2147483647}\n]",
		"Mean TTFT (ms): 1e308\nMean TPOT (ms): 0.0001\nSuccessful requests: 0\nTotal generated tokens: 1e300\nOutput token throughput (tok/s): 5",
		`{"mean_ttft_ms": 5, "completed": 1e-300, "total_input_tokens": 1e300, "max_concurrency": -4}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok, err := ParseOutput(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{m.Throughput, m.LatencyMS, m.MemoryMB} {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q: metric %v", s, v)
			}
		}
		if ok != m.Any() {
			t.Fatalf("%q: ok %v with %+v", s, ok, m)
		}
		for _, g := range m.Generation {
			if !positive(g.LatencyMS) || g.TokensPerS < 0 || math.IsInf(g.TokensPerS, 0) || math.IsNaN(g.TokensPerS) ||
				g.BatchSize < 0 || g.PromptTokens < 0 || g.OutputTokens < 0 || g.ContextTokens < 0 || g.GPUCount < 0 {
				t.Fatalf("%q: phase %+v", s, g)
			}
			for _, r := range m.Results(engine.Config{Model: "m", Hardware: "h", BatchSize: 1, Precision: engine.FP16}) {
				if !positive(r.LatencyMS) && r.LatencyMS != 0 || r.Throughput < 0 || math.IsInf(r.Throughput, 0) || math.IsNaN(r.Throughput) {
					t.Fatalf("%q: result %+v", s, r)
				}
			}
		}
	})
}
