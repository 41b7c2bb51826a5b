package runner

import (
	"math"
	"strings"
	"testing"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want Metrics
		ok   bool
	}{
		{"json", `{"throughput": 120.5, "latency_ms": 8.3, "memory_mb": 512}`, Metrics{Throughput: 120.5, LatencyMS: 8.3, MemoryMB: 512}, true},
		{"json partial", `{"latency_ms": 4}`, Metrics{LatencyMS: 4}, true},
		{"json last wins", "{\"throughput\": 1}\nnoise\n{\"throughput\": 2, \"memory_mb\": 3}\n", Metrics{Throughput: 2, MemoryMB: 3}, true},
		{"json with prefix", `RESULT {"throughput": 10, "other": "x"}`, Metrics{Throughput: 10}, true},
		{"json beats text", "Throughput: 99 items/s\n{\"throughput\": 7}\nLatency: 3 ms\n", Metrics{Throughput: 7}, true},
		{"json unrelated object", `{"step": 1, "loss": 0.5}`, Metrics{}, false},
		{"json bad values", `{"throughput": "fast", "latency_ms": -1, "memory_mb": 0}`, Metrics{}, false},
		{"json partly bad", `{"throughput": "fast", "latency_ms": 2}`, Metrics{LatencyMS: 2}, true},
		{"json broken", `{"throughput": 12`, Metrics{}, false},
		{"text seed", "Throughput: 250.0 items/s\nLatency: 12.5 ms\nMemory: 1024 MB\n", Metrics{Throughput: 250, LatencyMS: 12.5, MemoryMB: 1024}, true},
		{"text samples/s", "Throughput: 3 samples/s", Metrics{Throughput: 3}, true},
		{"text it/s", "throughput: 3.5it/s", Metrics{Throughput: 3.5}, true},
		{"text no unit", "Throughput: 42\nLatency: 7\nMemory: 9", Metrics{Throughput: 42, LatencyMS: 7, MemoryMB: 9}, true},
		{"latency seconds", "Latency: 0.25 s", Metrics{LatencyMS: 250}, true},
		{"latency microseconds", "Latency: 1500 us", Metrics{LatencyMS: 1.5}, true},
		{"memory GB", "Memory: 1.5 GB", Metrics{MemoryMB: 1536}, true},
		{"memory GiB", "Memory: 2 GiB", Metrics{MemoryMB: 2048}, true},
		{"memory MiB", "Memory: 300 MiB", Metrics{MemoryMB: 300}, true},
		{"memory KB", "Memory: 2048 KB", Metrics{MemoryMB: 2}, true},
		{"text last wins", "Latency: 5 ms\nLatency: 6 ms", Metrics{LatencyMS: 6}, true},
		{"text with label", "[INFO] Average throughput: 80 items/s", Metrics{Throughput: 80}, true},
		{"text exponent", "Throughput: 1.5e3 items/s", Metrics{Throughput: 1500}, true},
		{"unknown unit", "Throughput: 100 tokens/s\nMemory bandwidth: 80 GB/s", Metrics{}, false},
		{"percent", "Throughput improvement: 5%", Metrics{}, false},
		{"thousands separator", "Throughput: 1,234 items/s", Metrics{}, false},
		{"negative", "Latency: -3 ms", Metrics{}, false},
		{"zero", "Throughput: 0 items/s", Metrics{}, false},
		{"not a number", "Throughput: fast\nLatency: NaN ms", Metrics{}, false},
		{"garbage", "Segmentation fault (core dumped)\n\x00\xff\xfe{{{", Metrics{}, false},
		{"empty", "", Metrics{}, false},
		{"crlf", "Throughput: 5 items/s\r\nMemory: 1 GB\r\n", Metrics{Throughput: 5, MemoryMB: 1024}, true},
		{"no trailing newline", "noise\n{\"memory_mb\": 64}", Metrics{MemoryMB: 64}, true},
		{"overlong line skipped", strings.Repeat("x", maxLine+10) + "\nThroughput: 4", Metrics{Throughput: 4}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := ParseOutput(strings.NewReader(tc.out))
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || !same(got, tc.want) {
				t.Errorf("ParseOutput(%q) = %+v, %v; want %+v, %v", short(tc.out), got, ok, tc.want, tc.ok)
			}
		})
	}
}

func same(a, b Metrics) bool {
	eq := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y)) }
	return eq(a.Throughput, b.Throughput) && eq(a.LatencyMS, b.LatencyMS) && eq(a.MemoryMB, b.MemoryMB)
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
