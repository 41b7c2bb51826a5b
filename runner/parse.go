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
)

// Metrics are measured values in perfpilot's units: items/s, ms, MB. Zero
// means not measured.
type Metrics struct {
	Throughput float64 `json:"throughput,omitempty"`
	LatencyMS  float64 `json:"latency_ms,omitempty"`
	MemoryMB   float64 `json:"memory_mb,omitempty"`
}

// Any reports whether at least one metric was measured.
func (m Metrics) Any() bool { return m.Throughput > 0 || m.LatencyMS > 0 || m.MemoryMB > 0 }

// maxLine bounds the length of a line the parser looks at; longer lines
// are skipped.
const maxLine = 1 << 20

// ParseOutput reads a benchmark command's output and returns its metrics.
//
// Two formats are understood. perfpilot's own: a line holding a JSON object
// with any of "throughput" (items/s), "latency_ms" and "memory_mb"; the last
// such line wins, and when there is one the text lines are ignored. The
// seed's text lines: "Throughput: <n> [items/s|samples/s|it/s]",
// "Latency: <n> [ms|s|us]" and "Memory: <n> [MB|GB|KB|MiB|GiB|KiB]" (a
// missing unit means items/s, ms or MB; the last line of each metric wins).
// Memory units are binary, as PyTorch and nvidia-smi report them: MB = MiB,
// GB = 1024 MB. Values that are not positive finite numbers, and units not
// listed, are ignored. ok is false when no metric was found.
func ParseOutput(r io.Reader) (m Metrics, ok bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var jsonM, textM Metrics
	sawJSON := false
	for {
		line, rerr := readLine(br)
		if line != nil {
			s := strings.TrimSpace(string(line))
			if jm, ok := parseJSONLine(s); ok {
				jsonM, sawJSON = jm, true
			} else {
				parseTextLine(s, &textM)
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
	return textM, textM.Any(), nil
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
	for key, dst := range map[string]*float64{"throughput": &m.Throughput, "latency_ms": &m.LatencyMS, "memory_mb": &m.MemoryMB} {
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
	return m, m.Any()
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
