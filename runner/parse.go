package runner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"perfpilot/engine"
)

// Metrics are measured values in perfpilot's units: items/s, ms, MB. Zero
// means not measured. Generation holds what an LLM benchmark tool reported
// per text-generation phase (see Results).
type Metrics struct {
	Throughput float64        `json:"throughput,omitempty"`
	LatencyMS  float64        `json:"latency_ms,omitempty"`
	MemoryMB   float64        `json:"memory_mb,omitempty"`
	Generation []PhaseMetrics `json:"generation,omitempty"`
}

// Any reports whether at least one metric was measured.
func (m Metrics) Any() bool {
	return m.Throughput > 0 || m.LatencyMS > 0 || m.MemoryMB > 0 || len(m.Generation) > 0
}

// maxLine bounds the length of a line the parser looks at; longer lines
// are skipped. maxDocument bounds the output kept to look for JSON
// documents spread over several lines.
const (
	maxLine     = 1 << 20
	maxDocument = 16 << 20
)

// ParseOutput reads a benchmark command's output and returns its metrics.
//
// perfpilot's own format: a line holding a JSON object with any of
// "throughput" (items/s), "latency_ms" and "memory_mb", and for text
// generation "ttft_ms", "tpot_ms" and "output_tokens_per_s"; the last such
// line wins, and when there is one nothing else is read. Then the output of
// LLM benchmark tools (see parse_llm.go): llama-bench's markdown table and
// its -o json / jsonl documents, vLLM's "Serving Benchmark Result" lines
// (vllm bench serve, benchmark_serving.py) and its --save-result JSON. Then
// the seed's text lines: "Throughput: <n> [items/s|samples/s|it/s]",
// "Latency: <n> [ms|s|us]" and "Memory: <n> [MB|GB|KB|MiB|GiB|KiB]" (a
// missing unit means items/s, ms or MB; the last line of each metric wins),
// which also give the memory of an LLM tool's run. Memory units are binary,
// as PyTorch and nvidia-smi report them: MB = MiB, GB = 1024 MB. Values
// that are not positive finite numbers, and units not listed, are ignored.
// ok is false when no metric was found.
func ParseOutput(r io.Reader) (m Metrics, ok bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var jsonM, textM Metrics
	sawJSON := false
	var llm llmParser
	var doc []byte   // the output so far, for multi-line JSON documents
	var starts []int // offsets in doc of lines that may open a JSON document
	for {
		line, rerr := readLine(br)
		if line != nil {
			s := strings.TrimSpace(string(line))
			if jm, ok := parseJSONLine(s); ok {
				jsonM, sawJSON = jm, true
			} else if !llm.line(s) {
				parseTextLine(s, &textM)
			}
			if len(doc)+len(line) < maxDocument {
				if opensDocument(s) {
					starts = append(starts, len(doc))
				}
				doc = append(append(doc, line...), '\n')
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return Metrics{}, false, rerr
		}
	}
	if sawJSON {
		return jsonM, true, nil
	}
	end := 0
	for i, at := range starts {
		if at < end || i >= maxDocuments {
			continue // inside a document already read
		}
		if n, ok := llm.jsonDocument(doc[at:]); ok {
			end = at + n
		}
	}
	textM.Generation = llm.phases()
	return textM, textM.Any(), nil
}

// maxDocuments bounds the JSON documents tried in one output.
const maxDocuments = 4096

// opensDocument reports whether a line can begin a JSON document a tool
// printed: an object with a key, or an array of objects (not "[INFO]").
func opensDocument(s string) bool {
	switch {
	case s == "[" || s == "{":
		return true
	case strings.HasPrefix(s, "{"):
		return strings.HasPrefix(strings.TrimSpace(s[1:]), `"`)
	case strings.HasPrefix(s, "["):
		return strings.HasPrefix(strings.TrimSpace(s[1:]), "{")
	}
	return false
}

// readLine returns the next line without its newline; a line longer than
// maxLine is returned as nil (skipped).
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	tooLong := false
	for {
		frag, isPrefix, err := br.ReadLine()
		if !tooLong {
			buf = append(buf, frag...)
			if len(buf) > maxLine {
				tooLong, buf = true, nil
			}
		}
		if err != nil {
			if len(buf) > 0 && !tooLong {
				return buf, nil
			}
			return nil, err
		}
		if !isPrefix {
			if tooLong {
				return nil, nil
			}
			if buf == nil {
				buf = []byte{}
			}
			return buf, nil
		}
	}
}

// parseJSONLine finds a JSON object on the line (possibly after a prefix
// such as a log label) and takes the metrics it holds.
func parseJSONLine(s string) (Metrics, bool) {
	i := strings.IndexByte(s, '{')
	j := strings.LastIndexByte(s, '}')
	if i < 0 || j < i {
		return Metrics{}, false
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(s[i : j+1])))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return Metrics{}, false
	}
	var m Metrics
	var ttft, tpot, tokensPerS float64
	for key, dst := range map[string]*float64{"throughput": &m.Throughput, "latency_ms": &m.LatencyMS, "memory_mb": &m.MemoryMB,
		"ttft_ms": &ttft, "tpot_ms": &tpot, "output_tokens_per_s": &tokensPerS} {
		raw, found := obj[key]
		if !found {
			continue
		}
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			continue
		}
		if v, err := n.Float64(); err == nil && positive(v) {
			*dst = v
		}
	}
	if positive(ttft) {
		m.Generation = append(m.Generation, PhaseMetrics{Phase: engine.Prefill, LatencyMS: ttft})
	}
	if positive(tpot) {
		m.Generation = append(m.Generation, PhaseMetrics{Phase: engine.Decode, LatencyMS: tpot})
	}
	if positive(tokensPerS) && m.Throughput == 0 {
		m.Throughput = tokensPerS // a request's output tokens/s is a generation's throughput
	}
	return m, m.Any()
}

// Results turns a run's metrics into the results it measured for the
// configuration it ran: the configuration's own metrics, and one result
// per text-generation phase a tool reported, in the shape the tool ran
// (its batch, token counts, split and weight format where it says them).
// Results are canonical (engine.Config.Canonical); the caller sets model
// type, source and time and validates them.
func (m Metrics) Results(cfg engine.Config) []engine.Result {
	var out []engine.Result
	if m.Throughput > 0 || m.LatencyMS > 0 || m.MemoryMB > 0 {
		out = append(out, engine.Result{Config: cfg, Throughput: m.Throughput, LatencyMS: m.LatencyMS, MemoryMB: m.MemoryMB})
	}
	for _, pm := range m.Generation {
		c := cfg
		c.Phase, c.SequenceLength, c.ContextTokens = pm.Phase, 0, pm.ContextTokens
		for _, f := range []struct {
			dst *int
			v   int
		}{{&c.BatchSize, pm.BatchSize}, {&c.PromptTokens, pm.PromptTokens}, {&c.OutputTokens, pm.OutputTokens}, {&c.GPUCount, pm.GPUCount}} {
			if f.v > 0 {
				*f.dst = f.v
			}
		}
		if pm.Parallelism != "" {
			c.Parallelism = pm.Parallelism
		}
		if pm.PrecisionLabel != "" {
			c.PrecisionLabel, c.WeightBits = pm.PrecisionLabel, 0
		}
		if pm.WeightBits > 0 {
			c.WeightBits = pm.WeightBits
		}
		if pm.KVCache != "" {
			c.KVCache = pm.KVCache
		}
		c = c.Canonical()
		r := engine.Result{Config: c, LatencyMS: pm.LatencyMS, Stack: pm.Stack}
		r.Throughput = c.ItemsPerPass() * 1000 / pm.LatencyMS
		if pm.Phase == engine.Generate && positive(pm.TokensPerS) {
			r.Throughput = pm.TokensPerS // measured across concurrent requests, not derived
		}
		out = append(out, r)
	}
	return out
}

var textLine = regexp.MustCompile(`(?i)\b(throughput|latency|memory)\b[^:=\d"]{0,30}[:=][ \t]*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)[ \t]*([^\s;]*)`)

// unitScale converts a unit to perfpilot's unit for each metric.
var unitScale = map[string]map[string]float64{
	"throughput": {"": 1, "items/s": 1, "samples/s": 1, "it/s": 1, "items/sec": 1, "samples/sec": 1},
	"latency":    {"": 1, "ms": 1, "s": 1000, "sec": 1000, "us": 0.001, "µs": 0.001},
	"memory":     {"": 1, "mb": 1, "mib": 1, "gb": 1024, "gib": 1024, "kb": 1.0 / 1024, "kib": 1.0 / 1024},
}

func parseTextLine(s string, m *Metrics) {
	g := textLine.FindStringSubmatch(s)
	if g == nil {
		return
	}
	metric := strings.ToLower(g[1])
	v, err := strconv.ParseFloat(g[2], 64)
	if err != nil || !positive(v) {
		return
	}
	unit := strings.ToLower(strings.TrimRight(g[3], ".,)]"))
	if strings.HasPrefix(unit, "(") {
		unit = "" // "Latency: 12 (mean)"
	}
	scale, ok := unitScale[metric][unit]
	if !ok {
		return
	}
	v *= scale
	switch metric {
	case "throughput":
		m.Throughput = v
	case "latency":
		m.LatencyMS = v
	case "memory":
		m.MemoryMB = v
	}
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }
