// Package bench is the Benchmarks view: every measured result with its
// source, ⚠ on those in doubt (the predictor's flags, or kept by import
// despite failing its plausibility checks) and ⊘ on those excluded from
// learning (X toggles it), with the reason under the table for the row
// under the cursor.
package bench

import (
	"cmp"
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"perfpilot/store"
	"perfpilot/tui/common"
	"perfpilot/tui/table"
)

type result = store.StoredResult
type column = table.Column[result]

// ExcludedMark is drawn beside a result excluded from learning.
const ExcludedMark = "⊘"

// Model is the view.
type Model struct {
	ctx      *common.Context
	tbl      *table.Model[int64, result]
	results  []result
	doubted  int // results in doubt
	excluded int // results excluded from learning
	// sources and simulated summarise the results (SourceSummary), once
	// per data change rather than per frame.
	sources   string
	simulated bool
	width     int
	height    int
}

// New makes the view.
func New(ctx *common.Context) *Model {
	m := &Model{ctx: ctx}
	m.tbl = table.New(ctx, Columns(m.note), func(r result) int64 { return r.ID }, func(r result) string {
		return r.Model + " " + r.Hardware + " " + r.ModelType + " " + r.Source + " " + string(r.Precision)
	})
	return m
}

// SetResults shows the results, marked with the shared context's
// anomalies (set them first).
func (m *Model) SetResults(rs []result) {
	m.results = rs
	m.sources, m.simulated = SourceSummary(rs)
	m.doubted, m.excluded = 0, 0
	for _, r := range rs {
		switch mark, _ := m.note(r); mark {
		case ExcludedMark:
			m.excluded++
		case common.AnomalyMark:
			m.doubted++
		}
	}
	m.tbl.SetRows(rs)
	m.SetSize(m.width, m.height)
}

// note is a result's mark and what it means: ⊘ excluded from learning, ⚠
// in doubt, or nothing.
func (m *Model) note(r result) (mark, text string) {
	doubt := common.AnomalyText(m.ctx.Anomalies.Of(r.Config), r.Flag)
	switch {
	case r.Excluded && doubt != "":
		return ExcludedMark, "excluded from learning (X includes it again); " + doubt
	case r.Excluded:
		return ExcludedMark, "excluded from learning (X includes it again)"
	case doubt != "":
		return common.AnomalyMark, doubt + " (X excludes it from learning)"
	}
	return "", ""
}

// Table is the view's table, for the status line.
func (m *Model) Table() *table.Model[int64, result] { return m.tbl }

// SetSize sets the view's size: a summary line, the table and, when some
// results are in doubt or excluded, the cursor row's reason.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.tbl.SetSize(w, h-1-m.footLines())
}

func (m *Model) footLines() int {
	if m.doubted+m.excluded > 0 {
		return 1
	}
	return 0
}

// Update handles X (exclude or include the cursor row) and the table's
// keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if kp, ok := msg.(tea.KeyPressMsg); ok && key.Matches(kp, m.ctx.Keys.Exclude) {
		if r, ok := m.tbl.Current(); ok {
			return common.Cmd(common.ExcludeMsg{ID: r.ID, Exclude: !r.Excluded})
		}
		return nil
	}
	m.tbl.Update(common.Relative(msg, 0, 1))
	return nil
}

func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.ctx.Keys.Exclude} }
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{append(m.tbl.KeyBindings(), m.ctx.Keys.Exclude)}
}

// View renders a summary line, the table and the cursor row's note.
func (m *Model) View() string {
	th := m.ctx.Theme
	if len(m.results) == 0 {
		return th.Muted.Render(common.Wrap(" No results yet — press i to import a CSV or JSON file, or x on a recommendation to run it.", m.width))
	}
	line := fmt.Sprintf(" %d measured results · sources: %s", len(m.results), m.sources)
	if m.doubted > 0 {
		line += " · " + th.Warn.Render(fmt.Sprintf("%s %d in doubt", common.AnomalyMark, m.doubted))
	}
	if m.excluded > 0 {
		line += " · " + th.Muted.Render(fmt.Sprintf("%s %d excluded from learning", ExcludedMark, m.excluded))
	}
	if m.simulated {
		line += " · " + th.Warn.Render("'simulated' rows are demo data, not real measurements")
	}
	out := line + "\n" + m.tbl.View("no results match the filter")
	if m.footLines() == 0 {
		return out
	}
	foot := ""
	if r, ok := m.tbl.Current(); ok {
		if mark, text := m.note(r); mark != "" {
			foot = th.Warn.Render(fmt.Sprintf(" %s result %d: %s", mark, r.ID, text))
		}
	}
	return common.PadBlock(out, max(m.height-1, 1)) + "\n" + foot
}

// Sources is SourceSummary of the results shown.
func (m *Model) Sources() (string, bool) { return m.sources, m.simulated }

// SourceSummary lists sources by count, most first, and says whether
// simulated demo data is among them.
func SourceSummary(rs []result) (string, bool) {
	counts := map[string]int{}
	for _, r := range rs {
		counts[r.Source]++
	}
	names := make([]string, 0, len(counts))
	for s := range counts {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool {
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", common.Safe(n), counts[n])
	}
	return strings.Join(parts, ", "), counts["simulated"] > 0
}

func metricCell(v float64) string {
	if v == 0 {
		return "–"
	}
	return common.FmtVal(v)
}

// Columns are the view's columns; note is a result's mark (ExcludedMark,
// common.AnomalyMark or none) and its meaning.
func Columns(note func(result) (string, string)) []column {
	mark := func(r result) string { m, _ := note(r); return m }
	sourceStyle := func(r result, th *common.Theme) lipgloss.Style {
		if r.Source == "simulated" {
			return th.Warn
		}
		return th.Text
	}
	return []column{
		{Title: "ID", Width: 4, Right: true, Cell: func(r result) string { return fmt.Sprint(r.ID) }, Cmp: func(a, b result) int { return cmp.Compare(a.ID, b.ID) }},
		{Title: common.AnomalyMark, Width: 1, Cell: mark, Style: func(_ result, th *common.Theme) lipgloss.Style { return th.Warn },
			Cmp: func(a, b result) int { return common.CmpS(mark(a), mark(b)) }},
		{Title: "Model", Width: 16, Flex: true, Cell: func(r result) string { return r.Model }, Cmp: func(a, b result) int { return common.CmpS(a.Model, b.Model) }},
		{Title: "Type", Width: 10, Secondary: true, Cell: func(r result) string { return common.ShortType(r.ModelType) }, Cmp: func(a, b result) int { return common.CmpS(a.ModelType, b.ModelType) }},
		{Title: "Hardware", Width: 8, Cell: func(r result) string { return r.Hardware }, Cmp: func(a, b result) int { return common.CmpS(a.Hardware, b.Hardware) }},
		{Title: "Batch", Width: 5, Right: true, Cell: func(r result) string { return common.Itoa(r.BatchSize) }, Cmp: func(a, b result) int { return a.BatchSize - b.BatchSize }},
		{Title: "Prec", Width: 4, Cell: func(r result) string { return string(r.Precision) }, Cmp: func(a, b result) int { return common.CmpS(string(a.Precision), string(b.Precision)) }},
		{Title: "Seq", Width: 5, Right: true, Secondary: true, Cell: func(r result) string { return common.Itoa(r.SequenceLength) }, Cmp: func(a, b result) int { return a.SequenceLength - b.SequenceLength }},
		{Title: "Thr/s", Width: 6, Right: true, Cell: func(r result) string { return metricCell(r.Throughput) }, Cmp: func(a, b result) int { return common.CmpF(a.Throughput, b.Throughput) }},
		{Title: "Lat ms", Width: 6, Right: true, Cell: func(r result) string { return metricCell(r.LatencyMS) }, Cmp: func(a, b result) int { return common.CmpF(a.LatencyMS, b.LatencyMS) }},
		{Title: "Mem MB", Width: 6, Right: true, Cell: func(r result) string { return metricCell(r.MemoryMB) }, Cmp: func(a, b result) int { return common.CmpF(a.MemoryMB, b.MemoryMB) }},
		{Title: "Source", Width: 10, Cell: func(r result) string { return r.Source }, Style: sourceStyle, Cmp: func(a, b result) int { return common.CmpS(a.Source, b.Source) }},
		{Title: "Measured at", Width: 16, Secondary: true, Cell: func(r result) string {
			if r.Timestamp.IsZero() {
				return "–"
			}
			return r.Timestamp.UTC().Format("2006-01-02 15:04")
		}, Cmp: func(a, b result) int { return a.Timestamp.Compare(b.Timestamp) }},
	}
}
