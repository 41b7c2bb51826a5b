package tui

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/lipgloss/v2"

	"perfpilot/store"
)

type result = store.StoredResult

func benchID(r result) string { return fmt.Sprint(r.ID) }
func benchSearch(r result) string {
	return r.Model + " " + r.Hardware + " " + r.ModelType + " " + r.Source + " " + string(r.Precision)
}

func metricCell(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmtVal(v)
}

// benchColumns are the Benchmarks view's columns.
func benchColumns() []Column[result] {
	sourceStyle := func(r result, th *Theme) lipgloss.Style {
		if r.Source == "simulated" {
			return th.Warn
		}
		return th.Text
	}
	return []Column[result]{
		{Title: "ID", Width: 4, Right: true, Cell: func(r result) string { return fmt.Sprint(r.ID) }, Cmp: func(a, b result) int { return int(a.ID - b.ID) }},
		{Title: "Model", Width: 16, Flex: true, Cell: func(r result) string { return r.Model }, Cmp: func(a, b result) int { return cmpS(a.Model, b.Model) }},
		{Title: "Type", Width: 10, Secondary: true, Cell: func(r result) string { return shortType(r.ModelType) }, Cmp: func(a, b result) int { return cmpS(a.ModelType, b.ModelType) }},
		{Title: "Hardware", Width: 8, Cell: func(r result) string { return r.Hardware }, Cmp: func(a, b result) int { return cmpS(a.Hardware, b.Hardware) }},
		{Title: "Batch", Width: 5, Right: true, Cell: func(r result) string { return itoa(r.BatchSize) }, Cmp: func(a, b result) int { return a.BatchSize - b.BatchSize }},
		{Title: "Prec", Width: 4, Cell: func(r result) string { return string(r.Precision) }, Cmp: func(a, b result) int { return cmpS(string(a.Precision), string(b.Precision)) }},
		{Title: "Seq", Width: 5, Right: true, Secondary: true, Cell: func(r result) string { return itoa(r.SequenceLength) }, Cmp: func(a, b result) int { return a.SequenceLength - b.SequenceLength }},
		{Title: "Thr/s", Width: 6, Right: true, Cell: func(r result) string { return metricCell(r.Throughput) }, Cmp: func(a, b result) int { return cmpF(a.Throughput, b.Throughput) }},
		{Title: "Lat ms", Width: 6, Right: true, Cell: func(r result) string { return metricCell(r.LatencyMS) }, Cmp: func(a, b result) int { return cmpF(a.LatencyMS, b.LatencyMS) }},
		{Title: "Mem MB", Width: 6, Right: true, Cell: func(r result) string { return metricCell(r.MemoryMB) }, Cmp: func(a, b result) int { return cmpF(a.MemoryMB, b.MemoryMB) }},
		{Title: "Source", Width: 10, Cell: func(r result) string { return r.Source }, Style: sourceStyle, Cmp: func(a, b result) int { return cmpS(a.Source, b.Source) }},
		{Title: "Measured at", Width: 16, Secondary: true, Cell: func(r result) string {
			if r.Timestamp.IsZero() {
				return "–"
			}
			return r.Timestamp.UTC().Format("2006-01-02 15:04")
		}, Cmp: func(a, b result) int { return a.Timestamp.Compare(b.Timestamp) }},
	}
}

// sourceSummary lists sources by count, most first.
func sourceSummary(rs []result) (string, bool) {
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
		parts[i] = fmt.Sprintf("%s %d", n, counts[n])
	}
	return strings.Join(parts, ", "), counts["simulated"] > 0
}

func (m *Model) benchmarksBody() string {
	th := m.ctx.Theme
	src, sim := sourceSummary(m.results)
	line := fmt.Sprintf(" %d measured results · sources: %s", len(m.results), src)
	if sim {
		line += " · " + th.Warn.Render("'simulated' rows are demo data, not real measurements")
	}
	return line + "\n" + m.bench.View("no results match")
}

func (m *Model) mismatchesBody() string {
	th := m.ctx.Theme
	total := 0
	if m.report != nil {
		total = len(m.report.Recommendations)
	}
	line := fmt.Sprintf(" %d of %d ranked configurations run on hardware that is not the recommended one", m.mism.Total(), total) +
		th.Muted.Render(" · Improve: predicted gain of the recommended hardware")
	return line + "\n" + m.mism.View("no mismatches: every ranked configuration is on its recommended hardware")
}
