// Package recs is the Recommendations view and its Mismatches variant: a
// table of ranked configurations, keyed by configuration, sharing one
// selection that survives re-ranks (rows that left the ranking stay
// selected and are shown with v).
package recs

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/tui/common"
	"perfpilot/tui/table"
)

// Selection is the shared set of selected configurations.
type Selection = table.Selection[engine.Config, rec]

// NewSelection makes an empty selection.
func NewSelection() *Selection { return table.NewSelection[engine.Config, rec]() }

// Model is the view.
type Model struct {
	ctx        *common.Context
	mismatches bool
	tbl        *table.Model[engine.Config, rec]
	sel        *Selection
	report     *engine.Report
	inReport   map[engine.Config]bool // the report's configurations
	marks      common.Marks
	showSel    bool // v: the table shows the selection instead of the ranking
	width      int
	height     int
}

// New makes the Recommendations view, or with mismatches set the
// Mismatches view. backend maps hardware to its backend for the filter.
func New(ctx *common.Context, sel *Selection, mismatches bool, backend func(string) string) *Model {
	m := &Model{ctx: ctx, mismatches: mismatches, sel: sel, marks: common.Marks{}}
	m.tbl = table.New(ctx, m.columns(ctx.Metric), Key, search)
	m.tbl.SetSelection(sel)
	m.tbl.SetMatcher(func(r rec, q string) bool { return Match(r, q, backend) })
	return m
}

func (m *Model) columns(metric engine.Metric) []column {
	if m.mismatches {
		return MismatchColumns(metric, m.marks)
	}
	return Columns(metric, m.marks)
}

// SetReport shows a ranking. The selection is kept whole: selected rows
// that left it stay selected.
func (m *Model) SetReport(rep *engine.Report) {
	m.report = rep
	m.inReport = make(map[engine.Config]bool, len(rep.Recommendations))
	for _, r := range rep.Recommendations {
		m.inReport[Key(r)] = true
	}
	m.tbl.SetColumns(m.columns(rep.OptimizationMetric))
	m.refreshRows()
}

// SetMarks sets what is known beyond the predictions (measurements since
// the ranking, run states).
func (m *Model) SetMarks(marks common.Marks) {
	m.marks = marks
	if m.report != nil {
		m.tbl.SetColumns(m.columns(m.report.OptimizationMetric))
	}
}

func (m *Model) refreshRows() {
	if m.report == nil {
		return
	}
	rows := m.report.Recommendations
	if m.mismatches {
		rows = Mismatches(rows)
	}
	if m.showSel {
		rows = m.selectionRows()
	}
	m.tbl.SetRows(rows)
}

// selectionRows are the selected rows: those in the ranking with their
// current values, then those that left it with their last values and no
// rank.
func (m *Model) selectionRows() []rec {
	in := map[engine.Config]bool{}
	var out []rec
	for _, r := range m.report.Recommendations {
		if m.sel.Has(Key(r)) {
			in[Key(r)] = true
			out = append(out, r)
		}
	}
	for _, r := range m.sel.Values() {
		if !in[Key(r)] {
			r.Rank = 0
			out = append(out, r)
		}
	}
	return out
}

// Mismatches are the rows not on their recommended hardware.
func Mismatches(rs []rec) []rec {
	var out []rec
	for _, r := range rs {
		if r.RecommendedHardware != "" && !r.HardwareMatch {
			out = append(out, r)
		}
	}
	return out
}

// OffRanking counts selected rows that are not in the ranking on screen.
func (m *Model) OffRanking() int {
	if m.report == nil {
		return 0
	}
	n := 0
	for _, k := range m.sel.Keys() {
		if !m.inReport[k] {
			n++
		}
	}
	return n
}

// Selected returns the selected rows, ranked ones first in rank order.
func (m *Model) Selected() []rec {
	if m.report == nil {
		return m.sel.Values()
	}
	saved := m.showSel
	m.showSel = true
	defer func() { m.showSel = saved }()
	return m.selectionRows()
}

// SessionRows are what a saved session keeps of the view: the ranking's
// rows, then the selected rows that are not in it (rank 0, with their last
// values), and the positions of the selected rows among them.
func (m *Model) SessionRows() (rows []rec, selected []int) {
	selected = []int{}
	if m.report == nil {
		return nil, selected
	}
	rows = slices.Clone(m.report.Recommendations)
	for i, r := range rows {
		if m.sel.Has(Key(r)) {
			selected = append(selected, i)
		}
	}
	for _, r := range m.sel.Values() {
		if !m.inReport[Key(r)] {
			r.Rank = 0
			selected = append(selected, len(rows))
			rows = append(rows, r)
		}
	}
	return rows, selected
}

// Current is the row under the cursor.
func (m *Model) Current() (rec, bool) { return m.tbl.Current() }

// Table gives the root the table's filter, counts and sort for the status
// line.
func (m *Model) Table() Table { return m.tbl }

// Table is what the root reads of a view's table.
type Table interface {
	Filter() string
	SetFilter(string)
	Len() int
	Total() int
	Cursor() int
	SortState() (string, bool)
}

// SetSize sets the view's size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.tbl.SetSize(w, h-m.headLines())
}

func (m *Model) headLines() int {
	if m.mismatches {
		return 1 + len(m.improveLegend())
	}
	if m.OffRanking() > 0 || m.showSel {
		return 1
	}
	return 0
}

// Update handles the view's keys and mouse messages.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k := m.ctx.Keys
	if kp, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(kp, k.Detail):
			if r, ok := m.Current(); ok {
				if mk := m.marks[Key(r)]; mk.Failed() && mk.LogPath != "" {
					return common.Cmd(common.OpenLogMsg{Title: "log of " + r.Config().String(), Path: mk.LogPath})
				}
			}
			return common.Cmd(common.ToggleDetailMsg{})
		case key.Matches(kp, k.ShowSelection):
			m.ShowSelection(!m.showSel)
			return nil
		}
	}
	ev := m.tbl.Update(common.Relative(msg, 0, m.headLines()))
	if ev&table.SelectionChanged != 0 {
		if m.showSel {
			m.refreshRows()
		}
		m.SetSize(m.width, m.height)
	}
	return nil
}

// improveLegend explains the Improve column in one line, or two when the
// view is narrow.
func (m *Model) improveLegend() []string {
	const legend = "Improve: what moving to it would do · *slower there, yet it scores higher on power, headroom, availability or deployment (enter: why)"
	lines := strings.Split(common.Wrap(legend, max(m.width-2, 10)), "\n")
	for i := range lines {
		lines[i] = " " + lines[i]
	}
	return lines[:min(len(lines), 2)]
}

// ShowSelection switches between the ranking and the selection.
func (m *Model) ShowSelection(on bool) {
	m.showSel = on
	m.refreshRows()
	m.SetSize(m.width, m.height)
}

// ClearSelection empties the selection.
func (m *Model) ClearSelection() {
	m.sel.Clear()
	if m.showSel {
		m.ShowSelection(false)
	}
	m.SetSize(m.width, m.height)
}

// ShowingSelection reports whether v is on.
func (m *Model) ShowingSelection() bool { return m.showSel }

// View renders the view.
func (m *Model) View() string {
	th := m.ctx.Theme
	var head string
	switch {
	case m.showSel:
		head = th.Accent.Render(fmt.Sprintf(" showing the %d selected row(s) · v shows the ranking", m.sel.Len()))
	case m.mismatches:
		total := 0
		if m.report != nil {
			total = len(m.report.Recommendations)
		}
		head = fmt.Sprintf(" %d of %d ranked configurations are not on their recommended hardware", m.tbl.Total(), total)
		for _, l := range m.improveLegend() {
			head += "\n" + th.Muted.Render(l)
		}
	case m.OffRanking() > 0:
		n := m.OffRanking()
		head = th.Warn.Render(fmt.Sprintf(" %d selected not in the top %d", n, len(m.report.Recommendations))) + th.Muted.Render(" — v shows them")
	}
	empty := "no rows match the filter"
	switch {
	case m.report == nil:
		empty = "ranking…"
	case m.tbl.Total() == 0 && m.mismatches:
		empty = "no mismatches: every ranked configuration is on its recommended hardware"
	case m.tbl.Total() == 0:
		empty = "nothing to rank — press i to import results, or + to raise the budget"
	}
	body := m.tbl.View(empty)
	if head == "" {
		return body
	}
	return head + "\n" + body
}

// ShortHelp and FullHelp are the view's keys.
func (m *Model) ShortHelp() []key.Binding {
	k := m.ctx.Keys
	return []key.Binding{k.Detail, k.Table.Select, k.ShowSelection, k.Export, k.Run}
}

func (m *Model) FullHelp() [][]key.Binding {
	k := m.ctx.Keys
	return [][]key.Binding{slices.Concat(m.tbl.KeyBindings(), []key.Binding{k.Detail, k.ShowSelection})}
}
