package common

import (
	"cmp"
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
)

// FmtVal prints a metric value compactly (at most 6 cells).
func FmtVal(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e5:
		return fmt.Sprintf("%.0fk", v/1e3)
	case a >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a == 0:
		return "0"
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// FmtInterval prints an 80% interval.
func FmtInterval(lo, hi float64) string { return FmtVal(lo) + "–" + FmtVal(hi) }

// FmtScore prints a score in [0,1].
func FmtScore(v float64) string { return fmt.Sprintf("%.3f", v) }

// Improvement says in plain words what moving to the recommended hardware
// does to the metric. pct is engine.Recommendation.ExpectedImprovementPct:
// for throughput recommended/current−1, for latency and memory
// current/recommended−1 (see engine/recommend.go improvementPct), so the
// ratio 1+pct/100 is always "how many times better".
func Improvement(pct float64, m engine.Metric) string {
	r := 1 + pct/100
	if r <= 0 || math.IsNaN(r) {
		return "–"
	}
	if m.HigherIsBetter() {
		switch {
		case r >= 2:
			return fmt.Sprintf("%.0f× faster", r)
		case r >= 1:
			return fmt.Sprintf("+%.0f%% faster", (r-1)*100)
		case r > 0.5:
			return fmt.Sprintf("−%.0f%% slower", (1-r)*100)
		default:
			return fmt.Sprintf("%.0f× slower", 1/r)
		}
	}
	name := "latency"
	if m == engine.Memory {
		name = "memory"
	}
	// The recommended value is current/r: a change of 1/r−1, written with
	// a true minus sign as the throughput wording is.
	return strings.Replace(fmt.Sprintf("%+.0f%% %s", (1/r-1)*100, name), "-", "−", 1)
}

// MetricTitle is a metric's short column title with its unit.
func MetricTitle(m engine.Metric) string {
	switch m {
	case engine.Throughput:
		return "Thr/s"
	case engine.Latency:
		return "Lat ms"
	default:
		return "Mem MB"
	}
}

// MetricLabel is a metric's long name with its unit.
func MetricLabel(m engine.Metric) string {
	switch m {
	case engine.Throughput:
		return "throughput (items/s)"
	case engine.Latency:
		return "latency (ms)"
	default:
		return "memory (MB)"
	}
}

// ShortType abbreviates a model type for narrow columns.
func ShortType(t string) string {
	switch t {
	case "text_embedding":
		return "text-embed"
	case "text_generation":
		return "text-gen"
	}
	return t
}

// CmpF and CmpS order cells for sorting.
func CmpF(a, b float64) int { return cmp.Compare(a, b) }
func CmpS(a, b string) int  { return strings.Compare(a, b) }

// CmpB orders false before true.
func CmpB(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// BoolMark is ✓ or ✗.
func BoolMark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// OrDash is s, or – when empty.
func OrDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// Itoa is strconv.Itoa for cells.
func Itoa(i int) string { return fmt.Sprint(i) }

// Fit truncates or pads s to exactly w cells.
func Fit(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	pad := strings.Repeat(" ", w-ansi.StringWidth(s))
	if right {
		return pad + s
	}
	return s + pad
}

// PadLines makes s exactly n lines.
func PadLines(s string, n int) []string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return lines
}

// PadBlock is PadLines joined.
func PadBlock(s string, n int) string { return strings.Join(PadLines(s, n), "\n") }

// Wrap breaks text to width, keeping existing line breaks.
func Wrap(s string, width int) string { return ansi.Wordwrap(s, max(width, 10), "") }
