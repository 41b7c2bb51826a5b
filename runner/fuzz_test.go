package runner

import (
	"math"
	"strings"
	"testing"
)

// Whatever a command prints, parsing never fails on it and never yields a
// metric that is not a positive finite number.
func FuzzParseOutput(f *testing.F) {
	for _, s := range []string{`{"throughput": 1e308, "latency_ms": 1e-320}`, "Latency: 1e400 s", "Memory: .5 GiB", "Throughput: -0 it/s", "{}}{{"} {
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
	})
}
