package recs

import (
	"charm.land/lipgloss/v2"

	"perfpilot/engine"
	"perfpilot/tui/common"
	"perfpilot/tui/table"
)

type rec = engine.Recommendation
type column = table.Column[rec]

// Key is a row's key: its configuration.
func Key(r rec) engine.Config { return r.Config() }

// valueCell is the value column: the prediction, or for a configuration
// measured since the ranking ✓ and the measurement (✓m when another metric
// was measured; ⚠ instead of ✓ when the measurement is in doubt), or for a
// failed run ✗ and its exit code.
func valueCell(r rec, m engine.Metric, marks common.Marks) string {
	mk, ok := marks[Key(r)]
	switch {
	case ok && mk.Anomalous(m) && mk.Measured.Get(m) > 0:
		return common.AnomalyMark + common.FmtVal(mk.Measured.Get(m))
	case ok && mk.Measured != nil && mk.Measured.Get(m) > 0:
		return "✓" + common.FmtVal(mk.Measured.Get(m))
	case ok && mk.Measured != nil:
		return "✓m"
	case ok && mk.Failed():
		return "✗exit " + common.Itoa(mk.ExitCode)
	case ok && mk.State == "running":
		return "▶" + common.FmtVal(r.Predicted.Get(m).Value)
	case ok && mk.JobID != "" && mk.State != "interrupted":
		return "◌" + common.FmtVal(r.Predicted.Get(m).Value) // queued with a scheduler
	}
	return common.FmtVal(r.Predicted.Get(m).Value)
}

func valueStyle(m engine.Metric, marks common.Marks) func(rec, *common.Theme) lipgloss.Style {
	return func(r rec, th *common.Theme) lipgloss.Style {
		mk, ok := marks[Key(r)]
		switch {
		case ok && mk.Anomalous(m):
			return th.Warn
		case ok && mk.Measured != nil:
			return th.Good
		case ok && mk.Failed():
			return th.Bad
		}
		return th.Text
	}
}

// metricColumn shows a metric's predicted value (wide terminals show the
// two metrics the ranking is not by as extra columns).
func metricColumn(m engine.Metric, marks common.Marks, wide bool) column {
	return column{Title: common.MetricTitle(m), Width: 7, Right: true, Wide: wide,
		Cell: func(r rec) string { return valueCell(r, m, marks) }, Style: valueStyle(m, marks),
		Cmp: func(a, b rec) int { return common.CmpF(a.Predicted.Get(m).Value, b.Predicted.Get(m).Value) }}
}

// Columns are the Recommendations view's columns for a metric. They are
// data: a new column is one more element here.
func Columns(m engine.Metric, marks common.Marks) []column {
	val := func(r rec) engine.Interval { return r.Predicted.Get(m) }
	cols := []column{
		{Title: "#", Width: 3, Right: true, Cell: rankCell, Cmp: func(a, b rec) int { return a.Rank - b.Rank }},
		{Title: "Model", Width: 16, Flex: true, Cell: func(r rec) string { return r.ModelName }, Cmp: func(a, b rec) int { return common.CmpS(a.ModelName, b.ModelName) }},
		{Title: "Type", Width: 10, Secondary: true, Cell: func(r rec) string { return common.ShortType(r.ModelType) }, Cmp: func(a, b rec) int { return common.CmpS(a.ModelType, b.ModelType) }},
		{Title: "Hardware", Width: 8, Cell: func(r rec) string { return r.Hardware }, Cmp: func(a, b rec) int { return common.CmpS(a.Hardware, b.Hardware) }},
		{Title: "Batch", Width: 5, Right: true, Cell: func(r rec) string { return common.Itoa(r.BatchSize) }, Cmp: func(a, b rec) int { return a.BatchSize - b.BatchSize }},
		{Title: "Prec", Width: 4, Cell: func(r rec) string { return string(r.Precision) }, Cmp: func(a, b rec) int { return common.CmpS(string(a.Precision), string(b.Precision)) }},
		metricColumn(m, marks, false),
		{Title: "80% interval", Width: 13, Secondary: true, Cell: func(r rec) string { v := val(r); return common.FmtInterval(v.Low, v.High) },
			Style: func(_ rec, th *common.Theme) lipgloss.Style { return th.Muted }},
	}
	cols = append(cols, generationColumns()...)
	for _, other := range engine.Metrics {
		if other != m {
			cols = append(cols, metricColumn(other, nil, true))
		}
	}
	return append(cols,
		column{Title: "Gain", Width: 5, Right: true, Cell: func(r rec) string { return common.FmtScore(r.ExpectedInformationGain) }, Cmp: func(a, b rec) int { return common.CmpF(a.ExpectedInformationGain, b.ExpectedInformationGain) }},
		column{Title: "Decis", Width: 5, Right: true, Secondary: true, Cell: func(r rec) string { return common.FmtScore(r.DecisionValue) }, Cmp: func(a, b rec) int { return common.CmpF(a.DecisionValue, b.DecisionValue) }},
		column{Title: "Rec HW", Width: 8, Cell: func(r rec) string { return common.OrDash(r.RecommendedHardware) }, Cmp: func(a, b rec) int { return common.CmpS(a.RecommendedHardware, b.RecommendedHardware) }},
		column{Title: "Match", Width: 5, Cell: func(r rec) string { return "  " + common.BoolMark(r.HardwareMatch) }, Style: matchStyle,
			Cmp: func(a, b rec) int { return common.CmpB(a.HardwareMatch, b.HardwareMatch) }},
		column{Title: "HWsc", Width: 5, Right: true, Secondary: true, Cell: func(r rec) string { return common.FmtScore(r.HardwareScore) }, Cmp: func(a, b rec) int { return common.CmpF(a.HardwareScore, b.HardwareScore) }},
		column{Title: "Score", Width: 5, Right: true, Cell: func(r rec) string { return common.FmtScore(r.CombinedScore) }, Cmp: func(a, b rec) int { return common.CmpF(a.CombinedScore, b.CombinedScore) }},
	)
}

// generationColumns say what a text-generation row adds: time to first
// token, time per output token (ms) and how many sequences fit beside the
// weights; "–" for other rows.
func generationColumns() []column {
	iv := func(get func(engine.PredictedMetrics) *engine.Interval) (func(rec) string, func(a, b rec) int) {
		v := func(r rec) float64 {
			if p := get(r.Predicted); p != nil {
				return p.Value
			}
			return -1
		}
		cell := func(r rec) string {
			if x := v(r); x >= 0 {
				return common.FmtVal(x)
			}
			return "–"
		}
		return cell, func(a, b rec) int { return common.CmpF(v(a), v(b)) }
	}
	ttft, ttftCmp := iv(func(p engine.PredictedMetrics) *engine.Interval { return p.TTFTMS })
	tpot, tpotCmp := iv(func(p engine.PredictedMetrics) *engine.Interval { return p.TPOTMS })
	conc, concCmp := iv(func(p engine.PredictedMetrics) *engine.Interval { return p.MaxConcurrency })
	return []column{
		{Title: "TTFT", Width: 5, Right: true, Secondary: true, Cell: ttft, Cmp: ttftCmp},
		{Title: "TPOT", Width: 5, Right: true, Secondary: true, Cell: tpot, Cmp: tpotCmp},
		{Title: "MaxC", Width: 4, Right: true, Wide: true, Cell: conc, Cmp: concCmp},
	}
}

// rankCell is the rank, or – for a selected row that is not in the
// ranking on screen.
func rankCell(r rec) string {
	if r.Rank <= 0 {
		return "–"
	}
	return common.Itoa(r.Rank)
}

func matchStyle(r rec, th *common.Theme) lipgloss.Style {
	if r.HardwareMatch {
		return th.Good
	}
	return th.Bad
}

// MismatchColumns are the Mismatches view's columns: "Improve" says in
// plain words what the recommended hardware would do to the metric.
func MismatchColumns(m engine.Metric, marks common.Marks) []column {
	all := Columns(m, marks)
	pick := func(title string) column {
		for _, c := range all {
			if c.Title == title {
				return c
			}
		}
		panic("recs: no column " + title)
	}
	improve := column{Title: "Improve", Width: 14, Right: true,
		Cell: func(r rec) string { return common.Improvement(r.ExpectedImprovementPct, m) },
		Style: func(r rec, th *common.Theme) lipgloss.Style {
			if r.ExpectedImprovementPct > 0 {
				return th.Warn
			}
			return th.Muted
		},
		Cmp: func(a, b rec) int { return common.CmpF(a.ExpectedImprovementPct, b.ExpectedImprovementPct) }}
	why := column{Title: "Why flagged", Width: 12, Secondary: true, Cell: func(r rec) string {
		if r.ExpectedImprovementPct < 0 {
			return "power/cost*"
		}
		return "speed"
	}, Style: func(_ rec, th *common.Theme) lipgloss.Style { return th.Muted }}
	return []column{pick("#"), pick("Model"), pick("Type"), pick("Hardware"), pick("Batch"), pick("Prec"),
		pick(common.MetricTitle(m)), pick("Rec HW"), improve, why, pick("Decis"), pick("Score")}
}
