package runner

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"

	"perfpilot/engine"
)

// PhaseMetrics is one text-generation measurement a benchmark tool
// reported, with the shape it ran (zero: the configuration's own).
type PhaseMetrics struct {
	Phase          engine.Phase       `json:"phase"`
	BatchSize      int                `json:"batch_size,omitempty"`
	PromptTokens   int                `json:"prompt_tokens,omitempty"`
	OutputTokens   int                `json:"output_tokens,omitempty"`
	ContextTokens  int                `json:"context_tokens,omitempty"`
	GPUCount       int                `json:"gpu_count,omitempty"`
	Parallelism    engine.Parallelism `json:"parallelism,omitempty"`
	PrecisionLabel string             `json:"precision_label,omitempty"`
	WeightBits     float64            `json:"weight_bits,omitempty"`
	KVCache        engine.Precision   `json:"kv_cache_dtype,omitempty"`
	// LatencyMS is the phase's time: the whole prompt for a prefill, one
	// step for a decode, the whole request for a generation.
	LatencyMS float64 `json:"latency_ms"`
	// TokensPerS: prompt tokens/s for a prefill, output tokens/s otherwise.
	TokensPerS float64 `json:"tokens_per_s,omitempty"`
	Stack      string  `json:"stack,omitempty"`
}

// llmParser collects what llama-bench and vLLM's serving benchmark print.
type llmParser struct {
	// llama-bench markdown: the column index of each header name.
	mdCols  map[string]int
	md      []PhaseMetrics
	build   string
	vllm    vllmText
	jsonDoc []PhaseMetrics // from a JSON document (llama-bench -o json/jsonl, a saved vLLM result)
}

// vllmText holds the lines of a "Serving Benchmark Result" block.
type vllmText struct {
	seen                                        bool
	requests, concurrency, inTokens, outTokens  float64
	ttft, tpot, e2el, outputTokensPerS, itlMean float64
}

var (
	buildLine    = regexp.MustCompile(`^build: ([0-9a-f]+) \((\d+)\)`)
	vllmLine     = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9 ()/]*?):\s+([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$`)
	benchTest    = regexp.MustCompile(`^(pp|tg) ?(\d+)(?: @ d(\d+))?$`)
	benchPG      = regexp.MustCompile(`^pp(\d+)\+tg(\d+)(?: @ d(\d+))?$`)
	benchSizeGiB = regexp.MustCompile(`^([\d.]+) GiB$`)
	benchParamsB = regexp.MustCompile(`^([\d.]+) ([BM])$`)
)

// line feeds one output line; it reports whether the line belonged to an
// LLM tool's output (so the generic text parser leaves it alone).
func (p *llmParser) line(s string) bool {
	if strings.HasPrefix(s, "|") {
		return p.mdLine(s)
	}
	if g := buildLine.FindStringSubmatch(s); g != nil {
		p.build = "llama.cpp build " + g[2] + " (" + g[1] + ")"
		return true
	}
	g := vllmLine.FindStringSubmatch(s)
	if g == nil {
		return false
	}
	v, err := strconv.ParseFloat(g[2], 64)
	if err != nil || v < 0 || math.IsInf(v, 0) {
		return false
	}
	t := &p.vllm
	switch strings.TrimSpace(g[1]) {
	case "Successful requests":
		t.requests = v
	case "Maximum request concurrency":
		t.concurrency = v
	case "Total input tokens":
		t.inTokens = v
	case "Total generated tokens":
		t.outTokens = v
	case "Output token throughput (tok/s)":
		t.outputTokensPerS = v
	case "Mean TTFT (ms)":
		t.ttft = v
	case "Mean TPOT (ms)":
		t.tpot = v
	case "Mean ITL (ms)":
		t.itlMean = v
	case "Mean E2EL (ms)":
		t.e2el = v
	case "Median TTFT (ms)", "P99 TTFT (ms)", "Median TPOT (ms)", "P99 TPOT (ms)", "Median ITL (ms)", "P99 ITL (ms)",
		"Request throughput (req/s)", "Total Token throughput (tok/s)", "Total token throughput (tok/s)",
		"Peak output token throughput (tok/s)", "Benchmark duration (s)", "Failed requests", "Peak concurrent requests",
		"Median E2EL (ms)", "P99 E2EL (ms)":
	default:
		return false
	}
	t.seen = true
	return true
}

// mdLine reads a llama-bench markdown table: the header names the
// columns, the separator is skipped, every other row is one test.
func (p *llmParser) mdLine(s string) bool {
	cells := strings.Split(strings.Trim(s, "|"), "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	if cells[0] == "model" {
		p.mdCols = map[string]int{}
		for i, c := range cells {
			p.mdCols[c] = i
		}
		if _, ok := p.mdCols["t/s"]; !ok {
			p.mdCols = nil
		}
		return p.mdCols != nil
	}
	if p.mdCols == nil || len(cells) != len(p.mdCols) {
		return false
	}
	if strings.HasPrefix(cells[0], "---") {
		return true
	}
	col := func(name string) string {
		if i, ok := p.mdCols[name]; ok {
			return cells[i]
		}
		return ""
	}
	ts, err := strconv.ParseFloat(strings.TrimSpace(strings.SplitN(col("t/s"), "±", 2)[0]), 64)
	if err != nil || !positive(ts) {
		return true
	}
	var prompt, gen, depth int
	if g := benchTest.FindStringSubmatch(col("test")); g != nil {
		n, _ := strconv.Atoi(g[2])
		depth, _ = strconv.Atoi(g[3])
		if g[1] == "pp" {
			prompt = n
		} else {
			gen = n
		}
	} else if g := benchPG.FindStringSubmatch(col("test")); g != nil {
		prompt, _ = strconv.Atoi(g[1])
		gen, _ = strconv.Atoi(g[2])
		depth, _ = strconv.Atoi(g[3])
	} else {
		return true
	}
	m, ok := benchPhase(prompt, gen, depth, ts)
	if !ok {
		return true
	}
	m.PrecisionLabel = ggufLabel(col("model"))
	m.WeightBits = mdWeightBits(col("size"), col("params"))
	m.Parallelism = splitMode(col("sm"))
	m.KVCache = kvType(col("type_k"))
	p.md = append(p.md, m)
	return true
}

// benchPhase turns one llama-bench test into a phase measurement: pp is a
// prefill, tg a run of decode steps from depth tokens of context, pp+tg a
// whole request. llama-bench runs one sequence; t/s counts all tokens.
func benchPhase(prompt, gen, depth int, ts float64) (PhaseMetrics, bool) {
	m := PhaseMetrics{BatchSize: 1}
	for _, n := range []int{prompt, gen, depth} {
		if n < 0 || n > engine.MaxTokens {
			return m, false
		}
	}
	switch {
	case prompt > 0 && gen == 0:
		if depth > 0 {
			return m, false // a prefill after a cached prefix: not a phase perfpilot models
		}
		m.Phase, m.PromptTokens, m.TokensPerS = engine.Prefill, prompt, ts
		m.LatencyMS = float64(prompt) / ts * 1000
	case prompt == 0 && gen > 0:
		m.Phase, m.PromptTokens, m.OutputTokens, m.TokensPerS = engine.Decode, depth, gen, ts
		m.ContextTokens = max(depth+gen/2, 1)
		m.LatencyMS = 1000 / ts
	case prompt > 0 && gen > 0 && depth == 0:
		m.Phase, m.PromptTokens, m.OutputTokens = engine.Generate, prompt, gen
		m.LatencyMS = float64(prompt+gen) / ts * 1000
		m.TokensPerS = float64(gen) / m.LatencyMS * 1000
	default:
		return m, false
	}
	return m, positive(m.LatencyMS)
}

// ggufLabels maps llama.cpp's file-type names to format labels.
var ggufLabels = map[string]string{"Q4_K - Medium": "q4_k_m", "Q4_K - Small": "q4_k_s", "Q5_K - Medium": "q5_k_m",
	"Q5_K - Small": "q5_k_s", "Q3_K - Medium": "q3_k_m", "Q3_K - Small": "q3_k_s", "Q3_K - Large": "q3_k_l",
	"Q2_K - Medium": "q2_k", "Q2_K - Small": "q2_k"}

// ggufLabel reads the format from a llama-bench model name such as
// "llama 7B Q4_0", "llama 7B mostly Q4_0" or "qwen2 7B Q4_K - Medium".
func ggufLabel(model string) string {
	for name, label := range ggufLabels {
		if strings.HasSuffix(model, name) {
			return label
		}
	}
	f := strings.Fields(model)
	if len(f) == 0 {
		return ""
	}
	last := f[len(f)-1]
	if i := strings.Index(model, " - "); i > 0 { // "IQ4_XS - 4.25 bpw"
		g := strings.Fields(model[:i])
		last = g[len(g)-1]
	}
	if l := strings.ToLower(last); l == "f16" || l == "bf16" || l == "f32" || strings.HasPrefix(l, "q") || strings.HasPrefix(l, "iq") {
		return l
	}
	return ""
}

// mdWeightBits is the bits per weight a markdown row's size and parameter
// count imply ("3.56 GiB", "6.74 B"); 0 when unreadable.
func mdWeightBits(size, params string) float64 {
	s, p := benchSizeGiB.FindStringSubmatch(size), benchParamsB.FindStringSubmatch(params)
	if s == nil || p == nil {
		return 0
	}
	gib, _ := strconv.ParseFloat(s[1], 64)
	n, _ := strconv.ParseFloat(p[1], 64)
	if p[2] == "B" {
		n *= 1e9
	} else {
		n *= 1e6
	}
	return bitsPerWeight(gib*(1<<30), n)
}

func bitsPerWeight(bytes, params float64) float64 {
	if !positive(bytes) || !positive(params) {
		return 0
	}
	b := bytes * 8 / params
	if b > 32 {
		return 0
	}
	return math.Round(b*100) / 100
}

func splitMode(s string) engine.Parallelism {
	switch s {
	case "layer":
		return engine.Layer
	case "row":
		return engine.Row
	case "tensor":
		return engine.Tensor
	}
	return ""
}

// kvType maps llama.cpp's KV cache types onto perfpilot's precisions.
func kvType(s string) engine.Precision {
	switch strings.ToLower(s) {
	case "f32":
		return engine.FP32
	case "q8_0":
		return engine.INT8
	}
	return ""
}

// benchJSON is one llama-bench result object (-o json, -o jsonl).
type benchJSON struct {
	BuildCommit string  `json:"build_commit"`
	BuildNumber int     `json:"build_number"`
	GPUInfo     string  `json:"gpu_info"`
	ModelType   string  `json:"model_type"`
	ModelSize   float64 `json:"model_size"`
	ModelParams float64 `json:"model_n_params"`
	TypeK       string  `json:"type_k"`
	NGPULayers  int     `json:"n_gpu_layers"`
	SplitMode   string  `json:"split_mode"`
	NPrompt     int     `json:"n_prompt"`
	NGen        int     `json:"n_gen"`
	NDepth      int     `json:"n_depth"`
	AvgTS       float64 `json:"avg_ts"`
}

func (b benchJSON) phase() (PhaseMetrics, bool) {
	m, ok := benchPhase(b.NPrompt, b.NGen, b.NDepth, b.AvgTS)
	if !ok || !positive(b.AvgTS) {
		return m, false
	}
	m.PrecisionLabel = ggufLabel(b.ModelType)
	m.WeightBits = bitsPerWeight(b.ModelSize, b.ModelParams)
	m.KVCache = kvType(b.TypeK)
	if b.BuildNumber > 0 {
		m.Stack = "llama.cpp build " + strconv.Itoa(b.BuildNumber) + " (" + b.BuildCommit + ")"
	}
	// gpu_info lists the devices the run saw; a split over them needs
	// layers on the GPU and a split mode.
	if gpus := len(strings.Split(b.GPUInfo, ", ")); b.GPUInfo != "" && b.NGPULayers != 0 && b.SplitMode != "none" && gpus > 1 {
		m.GPUCount, m.Parallelism = gpus, splitMode(b.SplitMode)
	}
	return m, true
}

// vllmResult is the --save-result document of vllm bench serve and
// benchmark_serving.py.
type vllmResult struct {
	Completed        float64  `json:"completed"`
	MaxConcurrency   *float64 `json:"max_concurrency"`
	TotalInput       float64  `json:"total_input_tokens"`
	TotalOutput      float64  `json:"total_output_tokens"`
	OutputThroughput float64  `json:"output_throughput"`
	MeanTTFT         float64  `json:"mean_ttft_ms"`
	MeanTPOT         float64  `json:"mean_tpot_ms"`
	MeanE2EL         float64  `json:"mean_e2el_ms"`
}

// jsonDocument tries the JSON value data starts with: a llama-bench array
// or object, or a saved vLLM result. It returns the bytes the value spans
// and whether it understood it.
func (p *llmParser) jsonDocument(data []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return 0, false
	}
	n := int(dec.InputOffset())
	var objs []json.RawMessage
	if raw[0] == '[' {
		if json.Unmarshal(raw, &objs) != nil {
			return n, false
		}
	} else {
		objs = []json.RawMessage{raw}
	}
	found := false
	for _, o := range objs {
		var keys map[string]json.RawMessage
		if json.Unmarshal(o, &keys) != nil {
			continue
		}
		switch {
		case keys["avg_ts"] != nil && keys["n_gen"] != nil:
			var b benchJSON
			if json.Unmarshal(o, &b) == nil {
				if m, ok := b.phase(); ok {
					p.jsonDoc, found = append(p.jsonDoc, m), true
				}
			}
		case keys["mean_ttft_ms"] != nil || keys["mean_tpot_ms"] != nil:
			var v vllmResult
			if json.Unmarshal(o, &v) == nil {
				t := vllmText{seen: true, requests: v.Completed, inTokens: v.TotalInput, outTokens: v.TotalOutput,
					outputTokensPerS: v.OutputThroughput, ttft: v.MeanTTFT, tpot: v.MeanTPOT, e2el: v.MeanE2EL}
				if v.MaxConcurrency != nil {
					t.concurrency = *v.MaxConcurrency
				}
				if ms := t.phases(); len(ms) > 0 {
					p.jsonDoc, found = append(p.jsonDoc, ms...), true
				}
			}
		}
	}
	return n, found
}

// phases turns a serving benchmark's means into a prefill (TTFT at the mean
// prompt), a decode step (TPOT at the mean context) and the request
// (end-to-end latency and output tokens/s), at the run's concurrency.
func (t vllmText) phases() []PhaseMetrics {
	if !t.seen {
		return nil
	}
	base := PhaseMetrics{BatchSize: count(t.concurrency)}
	if t.requests >= 1 {
		base.PromptTokens = count(t.inTokens / t.requests)
		base.OutputTokens = count(t.outTokens / t.requests)
	}
	tpot := t.tpot
	if tpot <= 0 {
		tpot = t.itlMean
	}
	var out []PhaseMetrics
	if positive(t.ttft) {
		m := base
		m.Phase, m.LatencyMS, m.OutputTokens = engine.Prefill, t.ttft, 0
		out = append(out, m)
	}
	if positive(tpot) {
		m := base
		m.Phase, m.LatencyMS = engine.Decode, tpot
		if m.PromptTokens > 0 {
			m.ContextTokens = m.PromptTokens + m.OutputTokens/2
		}
		out = append(out, m)
	}
	e2e := t.e2el
	if e2e <= 0 && positive(t.ttft) && positive(tpot) && base.OutputTokens > 0 {
		e2e = t.ttft + float64(base.OutputTokens-1)*tpot
	}
	if positive(e2e) && positive(t.outputTokensPerS) {
		m := base
		m.Phase, m.LatencyMS, m.TokensPerS = engine.Generate, e2e, t.outputTokensPerS
		out = append(out, m)
	}
	return out
}

// count turns a reported mean into a token or request count; values out of
// range count as not reported.
func count(v float64) int {
	if !(v >= 0.5) || v > engine.MaxTokens {
		return 0
	}
	return int(math.Round(v))
}

// phases returns what the tools printed: a JSON document wins over the
// markdown table, which wins over the serving text.
func (p *llmParser) phases() []PhaseMetrics {
	var out []PhaseMetrics
	switch {
	case len(p.jsonDoc) > 0:
		out = p.jsonDoc
	case len(p.md) > 0:
		out = p.md
		for i := range out {
			if out[i].Stack == "" {
				out[i].Stack = p.build
			}
		}
	default:
		out = p.vllm.phases()
	}
	return out
}
