package tui

import (
	"cmp"
	"fmt"
	"math"
	"strings"

	"perfpilot/engine"
)

// fmtVal prints a metric value compactly (at most 6 cells).
func fmtVal(v float64) string {
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

func fmtInterval(lo, hi float64) string { return fmtVal(lo) + "–" + fmtVal(hi) }

func fmtScore(v float64) string { return fmt.Sprintf("%.3f", v) }

func fmtPct(v float64) string { return fmt.Sprintf("%+.1f%%", v) }

// metricTitle is a metric's short column title with its unit.
func metricTitle(m engine.Metric) string {
	switch m {
	case engine.Throughput:
		return "Thr/s"
	case engine.Latency:
		return "Lat ms"
	default:
		return "Mem MB"
	}
}

// metricLabel is a metric's long name with its unit.
func metricLabel(m engine.Metric) string {
	switch m {
	case engine.Throughput:
		return "throughput (items/s)"
	case engine.Latency:
		return "latency (ms)"
	default:
		return "memory (MB)"
	}
}

// shortType abbreviates a model type for narrow columns.
func shortType(t string) string {
	switch t {
	case "text_embedding":
		return "text-embed"
	case "text_generation":
		return "text-gen"
	}
	return t
}

func cmpF(a, b float64) int { return cmp.Compare(a, b) }

func cmpS(a, b string) int { return strings.Compare(a, b) }

func boolMark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func itoa(i int) string { return fmt.Sprint(i) }
