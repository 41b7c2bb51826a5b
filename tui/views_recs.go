package tui

import (
	"charm.land/lipgloss/v2"

	"perfpilot/engine"
	"perfpilot/runner"
)

type rec = engine.Recommendation

func recID(r rec) string     { return r.Config().Key() }
func recSearch(r rec) string { return r.ModelName + " " + r.Hardware + " " + r.ModelType }

func matchStyle(r rec, th *Theme) lipgloss.Style {
	if r.HardwareMatch {
		return th.Good
	}
	return th.Bad
}

// measuredSet holds what runs measured, by configuration key. The model
// owns it; the value columns read it (a nil set marks nothing).
type measuredSet map[string]runner.Metrics

// valueCell is the value column: the prediction, or for a configuration a
// run measured, ✓ and the measurement (✓m when the run did not measure
// this metric).
func (ms measuredSet) valueCell(r rec, m engine.Metric) string {
	got, ok := ms[recID(r)]
	if !ok {
		return fmtVal(r.Predicted.Get(m).Value)
	}
	if v := metricOf(got, m); v > 0 {
		return "✓" + fmtVal(v)
	}
	return "✓m"
}

func (ms measuredSet) valueStyle(r rec, th *Theme) lipgloss.Style {
	if _, ok := ms[recID(r)]; ok {
		return th.Good
	}
	return lipgloss.NewStyle()
}

// metricOf is one metric of a measurement (0: not measured).
func metricOf(got runner.Metrics, m engine.Metric) float64 {
	switch m {
	case engine.Throughput:
		return got.Throughput
	case engine.Latency:
		return got.LatencyMS
	default:
		return got.MemoryMB
	}
}

// recColumns are the Recommendations view's columns for the report's
// metric; rows in ms show their measurement in the value column.
func recColumns(m engine.Metric, ms measuredSet) []Column[rec] {
	val := func(r rec) engine.Interval { return r.Predicted.Get(m) }
	return []Column[rec]{
		{Title: "#", Width: 3, Right: true, Cell: func(r rec) string { return itoa(r.Rank) }, Cmp: func(a, b rec) int { return a.Rank - b.Rank }},
		{Title: "Model", Width: 16, Flex: true, Cell: func(r rec) string { return r.ModelName }, Cmp: func(a, b rec) int { return cmpS(a.ModelName, b.ModelName) }},
		{Title: "Type", Width: 10, Secondary: true, Cell: func(r rec) string { return shortType(r.ModelType) }, Cmp: func(a, b rec) int { return cmpS(a.ModelType, b.ModelType) }},
		{Title: "Hardware", Width: 8, Cell: func(r rec) string { return r.Hardware }, Cmp: func(a, b rec) int { return cmpS(a.Hardware, b.Hardware) }},
		{Title: "Batch", Width: 5, Right: true, Cell: func(r rec) string { return itoa(r.BatchSize) }, Cmp: func(a, b rec) int { return a.BatchSize - b.BatchSize }},
		{Title: "Prec", Width: 4, Cell: func(r rec) string { return string(r.Precision) }, Cmp: func(a, b rec) int { return cmpS(string(a.Precision), string(b.Precision)) }},
		{Title: metricTitle(m), Width: 6, Right: true, Cell: func(r rec) string { return ms.valueCell(r, m) }, Style: ms.valueStyle,
			Cmp: func(a, b rec) int { return cmpF(val(a).Value, val(b).Value) }},
		{Title: "80% interval", Width: 13, Secondary: true, Cell: func(r rec) string { v := val(r); return fmtInterval(v.Low, v.High) },
			Style: func(_ rec, th *Theme) lipgloss.Style { return th.Muted }},
		{Title: "Gain", Width: 5, Right: true, Cell: func(r rec) string { return fmtScore(r.ExpectedInformationGain) }, Cmp: func(a, b rec) int { return cmpF(a.ExpectedInformationGain, b.ExpectedInformationGain) }},
		{Title: "Decis", Width: 5, Right: true, Secondary: true, Cell: func(r rec) string { return fmtScore(r.DecisionValue) }, Cmp: func(a, b rec) int { return cmpF(a.DecisionValue, b.DecisionValue) }},
		{Title: "Rec HW", Width: 8, Cell: func(r rec) string { return orDash(r.RecommendedHardware) }, Cmp: func(a, b rec) int { return cmpS(a.RecommendedHardware, b.RecommendedHardware) }},
		{Title: "Match", Width: 5, Cell: func(r rec) string { return "  " + boolMark(r.HardwareMatch) }, Style: matchStyle,
			Cmp: func(a, b rec) int { return cmpB(a.HardwareMatch, b.HardwareMatch) }},
		{Title: "HWsc", Width: 5, Right: true, Secondary: true, Cell: func(r rec) string { return fmtScore(r.HardwareScore) }, Cmp: func(a, b rec) int { return cmpF(a.HardwareScore, b.HardwareScore) }},
		{Title: "Score", Width: 5, Right: true, Cell: func(r rec) string { return fmtScore(r.CombinedScore) }, Cmp: func(a, b rec) int { return cmpF(a.CombinedScore, b.CombinedScore) }},
	}
}

// mismatchColumns are the Mismatches view's columns.
func mismatchColumns(m engine.Metric, ms measuredSet) []Column[rec] {
	all := recColumns(m, ms)
	pick := func(title string) Column[rec] {
		for _, c := range all {
			if c.Title == title {
				return c
			}
		}
		panic("no column " + title)
	}
	improve := Column[rec]{Title: "Improve", Width: 9, Right: true, Cell: func(r rec) string { return fmtPct(r.ExpectedImprovementPct) },
		Style: func(r rec, th *Theme) lipgloss.Style {
			if r.ExpectedImprovementPct > 0 {
				return th.Warn
			}
			return th.Muted
		},
		Cmp: func(a, b rec) int { return cmpF(a.ExpectedImprovementPct, b.ExpectedImprovementPct) }}
	return []Column[rec]{pick("#"), pick("Model"), pick("Type"), pick("Hardware"), pick("Batch"), pick("Prec"),
		pick(metricTitle(m)), pick("80% interval"), pick("Rec HW"), improve, pick("Decis"), pick("Score")}
}

func mismatches(rs []rec) []rec {
	var out []rec
	for _, r := range rs {
		if r.RecommendedHardware != "" && !r.HardwareMatch {
			out = append(out, r)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func cmpB(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
