package runner

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"perfpilot/engine"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// TestParseLLMTools reads captured outputs of llama-bench (markdown of
// today and of 2023, -o json, -o jsonl) and vLLM's serving benchmark (text
// and --save-result JSON), written from the tools' documented formats.
func TestParseLLMTools(t *testing.T) {
	tests := []struct {
		file string
		want []PhaseMetrics
	}{
		{"llama-bench.md.txt", []PhaseMetrics{
			{Phase: engine.Prefill, BatchSize: 1, PromptTokens: 512, LatencyMS: 512 / 5531.19 * 1000, TokensPerS: 5531.19},
			{Phase: engine.Decode, BatchSize: 1, OutputTokens: 128, ContextTokens: 64, LatencyMS: 1000 / 149.37, TokensPerS: 149.37},
			// pp512 @ d512 (a prefill after a cached prefix) is not a phase perfpilot models.
			{Phase: engine.Decode, BatchSize: 1, PromptTokens: 512, OutputTokens: 128, ContextTokens: 576, LatencyMS: 1000 / 141.80, TokensPerS: 141.80},
		}},
		{"llama-bench-2023.md.txt", []PhaseMetrics{
			{Phase: engine.Prefill, BatchSize: 1, PromptTokens: 512, LatencyMS: 512 / 2368.80 * 1000, TokensPerS: 2368.80},
			{Phase: engine.Decode, BatchSize: 1, OutputTokens: 128, ContextTokens: 64, LatencyMS: 1000 / 131.42, TokensPerS: 131.42},
		}},
		{"llama-bench-split.md.txt", []PhaseMetrics{
			{Phase: engine.Prefill, BatchSize: 1, PromptTokens: 1024, LatencyMS: 1024 / 3120.44 * 1000, TokensPerS: 3120.44},
			{Phase: engine.Decode, BatchSize: 1, OutputTokens: 256, ContextTokens: 128, LatencyMS: 1000 / 88.15, TokensPerS: 88.15},
			{Phase: engine.Generate, BatchSize: 1, PromptTokens: 512, OutputTokens: 128, LatencyMS: 640 / 640.02 * 1000, TokensPerS: 128 / (640 / 640.02)},
		}},
		{"llama-bench.json", []PhaseMetrics{
			{Phase: engine.Prefill, BatchSize: 1, PromptTokens: 512, LatencyMS: 512 / 7100.002165 * 1000, TokensPerS: 7100.002165},
			{Phase: engine.Decode, BatchSize: 1, OutputTokens: 128, ContextTokens: 64, LatencyMS: 1000 / 118.881588, TokensPerS: 118.881588},
		}},
		{"llama-bench.jsonl", []PhaseMetrics{
			{Phase: engine.Prefill, BatchSize: 1, PromptTokens: 512, LatencyMS: 512 / 7100.002165 * 1000, TokensPerS: 7100.002165},
			{Phase: engine.Decode, BatchSize: 1, OutputTokens: 128, ContextTokens: 64, LatencyMS: 1000 / 118.881588, TokensPerS: 118.881588},
		}},
		{"vllm-bench-serve.txt", []PhaseMetrics{
			{Phase: engine.Prefill, BatchSize: 16, PromptTokens: 1024, LatencyMS: 305.41},
			{Phase: engine.Decode, BatchSize: 16, PromptTokens: 1024, OutputTokens: 128, ContextTokens: 1088, LatencyMS: 20.79},
			{Phase: engine.Generate, BatchSize: 16, PromptTokens: 1024, OutputTokens: 128, LatencyMS: 305.41 + 127*20.79, TokensPerS: 689.56},
		}},
		{"benchmark-serving-result.json", []PhaseMetrics{
			{Phase: engine.Prefill, BatchSize: 16, PromptTokens: 1024, LatencyMS: 305.41},
			{Phase: engine.Decode, BatchSize: 16, PromptTokens: 1024, OutputTokens: 128, ContextTokens: 1088, LatencyMS: 20.79},
			{Phase: engine.Generate, BatchSize: 16, PromptTokens: 1024, OutputTokens: 128, LatencyMS: 2945.74, TokensPerS: 689.56},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, ok, err := ParseOutput(f)
			if err != nil || !ok {
				t.Fatalf("ParseOutput: ok %v, %v", ok, err)
			}
			if m.Throughput != 0 || m.LatencyMS != 0 {
				t.Errorf("tool output read as items/s or ms: %+v", m)
			}
			if len(m.Generation) != len(tc.want) {
				t.Fatalf("got %d phases, want %d: %+v", len(m.Generation), len(tc.want), m.Generation)
			}
			for i, w := range tc.want {
				g := m.Generation[i]
				if g.Phase != w.Phase || g.BatchSize != w.BatchSize || g.PromptTokens != w.PromptTokens || g.OutputTokens != w.OutputTokens ||
					g.ContextTokens != w.ContextTokens || !near(g.LatencyMS, w.LatencyMS) || !near(g.TokensPerS, w.TokensPerS) {
					t.Errorf("phase %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

// TestParseLLMDetails checks what the tools say beside the numbers: the
// weight format, bits per weight, KV type, split and build.
func TestParseLLMDetails(t *testing.T) {
	read := func(name string) []PhaseMetrics {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := ParseOutput(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		return m.Generation
	}
	tests := []struct {
		name string
		got  PhaseMetrics
		want PhaseMetrics
	}{
		{"markdown", read("llama-bench.md.txt")[0], PhaseMetrics{PrecisionLabel: "q4_0", WeightBits: 4.54, Stack: "llama.cpp build 4500 (8e672efe)"}},
		{"markdown 2023", read("llama-bench-2023.md.txt")[1], PhaseMetrics{PrecisionLabel: "q4_0", WeightBits: 4.54, Stack: "llama.cpp build 1047 (1e8f3d4)"}},
		{"markdown split", read("llama-bench-split.md.txt")[0], PhaseMetrics{PrecisionLabel: "q4_k_m", WeightBits: 4.91, Parallelism: engine.Row,
			KVCache: engine.INT8, Stack: "llama.cpp build 5163 (3a1b2c4d)"}},
		{"json", read("llama-bench.json")[0], PhaseMetrics{PrecisionLabel: "q4_k_m", WeightBits: 4.91, Stack: "llama.cpp build 5163 (8cf427ff)"}},
		{"jsonl on two GPUs", read("llama-bench.jsonl")[1], PhaseMetrics{PrecisionLabel: "q4_k_m", WeightBits: 4.91, GPUCount: 2, Parallelism: engine.Row,
			Stack: "llama.cpp build 5163 (8cf427ff)"}},
	}
	for _, tc := range tests {
		g, w := tc.got, tc.want
		if g.PrecisionLabel != w.PrecisionLabel || g.WeightBits != w.WeightBits || g.Parallelism != w.Parallelism || g.GPUCount != w.GPUCount ||
			g.KVCache != w.KVCache || g.Stack != w.Stack {
			t.Errorf("%s:\n got %+v\nwant details of %+v", tc.name, g, w)
		}
	}
	for _, tc := range []struct{ model, label string }{
		{"llama 7B mostly Q4_0", "q4_0"}, {"qwen2 7B Q4_K - Medium", "q4_k_m"}, {"llama 8B IQ4_XS - 4.25 bpw", "iq4_xs"},
		{"llama 13B F16", "f16"}, {"mixtral 8x7B Q8_0", "q8_0"}, {"some model", ""},
	} {
		if got := ggufLabel(tc.model); got != tc.label {
			t.Errorf("ggufLabel(%q) = %q, want %q", tc.model, got, tc.label)
		}
	}
}

// TestParseLLMPrecedence: perfpilot's own JSON line wins; LLM tool lines
// are not misread as items/s; hostile tables and documents yield nothing.
func TestParseLLMPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		out    string
		ok     bool
		phases int
		thr    float64
	}{
		{"own JSON line wins", "| model | test | t/s |\n| --- | --- | --- |\n| llama 7B Q4_0 | tg128 | 100 ± 1 |\n{\"ttft_ms\": 30, \"tpot_ms\": 9, \"output_tokens_per_s\": 700}", true, 2, 700},
		{"vLLM throughput line is not items/s", "Output token throughput (tok/s):         689.56", false, 0, 0},
		{"table without t/s", "| model | test |\n| --- | --- |\n| x | tg128 |", false, 0, 0},
		{"row with a bad rate", "| model | test | t/s |\n| --- | --- | --- |\n| x | tg128 | fast |\n| x | tg128 | -3 ± 1 |\n| x | tg0 | 5 ± 1 |", false, 0, 0},
		{"row with the wrong column count", "| model | test | t/s |\n| x | tg128 |", false, 0, 0},
		{"log lines that look like arrays", "[INFO] starting\n[\n{\"a\": 1}\n]\n[{\"avg_ts\": \"x\", \"n_gen\": 1}]", false, 0, 0},
		{"truncated JSON document", "[\n  {\"avg_ts\": 100, \"n_gen\": 128, \"n_prompt\": 0,", false, 0, 0},
		{"vLLM block without means", "Successful requests: 10\nBenchmark duration (s): 3.2", false, 0, 0},
		{"memory beside a table", "| model | test | t/s |\n| --- | --- | --- |\n| llama 7B Q4_0 | tg128 | 100 ± 1 |\nMemory: 4.5 GiB", true, 1, 0},
	}
	for _, tc := range tests {
		m, ok, err := ParseOutput(strings.NewReader(tc.out))
		if err != nil {
			t.Fatal(err)
		}
		if ok != tc.ok || len(m.Generation) != tc.phases || m.Throughput != tc.thr {
			t.Errorf("%s: ok %v, %+v", tc.name, ok, m)
		}
	}
}

// TestMetricsResults maps a run's metrics onto results of the configuration.
func TestMetricsResults(t *testing.T) {
	cat := engine.MustBuiltinCatalog()
	cfg, err := cat.Normalize(engine.Config{Model: "meta-llama/Llama-2-7b-hf", Hardware: "cuda", BatchSize: 8, Precision: engine.INT4,
		Phase: engine.Generate, PromptTokens: 1024, OutputTokens: 256})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join("testdata", "llama-bench.md.txt"))
	defer f.Close()
	m, _, _ := ParseOutput(f)
	m.MemoryMB = 4600
	rs := m.Results(cfg)
	if len(rs) != 4 {
		t.Fatalf("%d results: %+v", len(rs), rs)
	}
	if r := rs[0]; r.Config != cfg || r.MemoryMB != 4600 || r.LatencyMS != 0 {
		t.Errorf("run memory: %+v", r)
	}
	pre := rs[1]
	if pre.Phase != engine.Prefill || pre.BatchSize != 1 || pre.PromptTokens != 512 || pre.OutputTokens != 256 || pre.PrecisionLabel != "q4_0" ||
		pre.WeightBits != 4.54 || !near(pre.Throughput, 1000/pre.LatencyMS) || pre.Stack == "" {
		t.Errorf("prefill result: %+v", pre)
	}
	dec := rs[3]
	if dec.Phase != engine.Decode || dec.ContextTokens != 576 || !near(dec.Throughput, 141.80) {
		t.Errorf("decode result: %+v", dec)
	}
	for _, r := range rs {
		if n, err := cat.Normalize(r.Config); err != nil || n != r.Config {
			t.Errorf("%+v is not canonical: %+v, %v", r.Config, n, err)
		}
	}
}
