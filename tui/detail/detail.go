// Package detail is the detail pane under the recommendation tables: for
// the row under the cursor, the hardware it is compared with, the score
// breakdown, the metric on every hardware as bars with intervals, why a
// mismatch is flagged, and its last run. The pane is a list of sections;
// adding to it is adding a Section.
package detail

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
	"perfpilot/tui/common"
)

// Data is everything the pane shows about one row.
type Data struct {
	Row     engine.Recommendation
	Metric  engine.Metric
	Ranking *engine.HardwareRanking // nil while it is being computed
	Err     error
	Mark    common.Mark
	// Anomalies are the predictor's flags (the pane fills it from the
	// shared context).
	Anomalies *common.Anomalies
}

// Section renders part of the pane at a width; no lines means the section
// has nothing to say for this row.
type Section func(th *common.Theme, d Data, width int) []string

// Sections are the pane's sections in order.
var Sections = []Section{titleSection, worthSection, generationSection, rankingSection, whySection, anomalySection, runSection}

// Model is the pane.
type Model struct {
	ctx    *common.Context
	data   Data
	set    bool
	width  int
	height int
}

// New makes an empty pane.
func New(ctx *common.Context) *Model { return &Model{ctx: ctx} }

// SetData shows a row.
func (m *Model) SetData(d Data) { m.data, m.set = d, true }

// SetSize sets the pane's size.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// Update does nothing: the pane follows the table's cursor.
func (m *Model) Update(tea.Msg) tea.Cmd { return nil }

// WantHeight is how many lines the pane would like: every section of the
// row on screen, and at least what a row ranked on n hardware takes (so
// the pane keeps its size while the ranking is computed).
func (m *Model) WantHeight(n int) int {
	want := 5 + 2 + n + 1
	if m.ctx.Width >= common.CompactWidth {
		want = 5 + max(len(common.ScoreComponents)+2, n+1)
	}
	if m.set {
		want = max(want, len(m.lines()))
	}
	return want
}

// lines are the pane's lines, unclipped.
func (m *Model) lines() []string {
	th := m.ctx.Theme
	lines := []string{th.Accent.Render(strings.Repeat("─", m.ctx.Width))}
	if m.set {
		d := m.data
		d.Anomalies = m.ctx.Anomalies
		for _, s := range Sections {
			lines = append(lines, s(th, d, m.ctx.Width)...)
		}
	}
	return lines
}

// View renders the sections, clipped to the pane.
func (m *Model) View() string {
	lines := m.lines()
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.width, "…")
	}
	return strings.Join(lines, "\n")
}

func (m *Model) ShortHelp() []key.Binding  { return nil }
func (m *Model) FullHelp() [][]key.Binding { return nil }
