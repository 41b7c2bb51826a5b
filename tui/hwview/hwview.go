// Package hwview is the Hardware view: every hardware ranked for one
// model, batch and precision, with its score breakdown, as
// `perfpilot recommend-hardware` prints it.
package hwview

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"perfpilot/engine"
	"perfpilot/tui/common"
	"perfpilot/tui/table"
)

// Row is one hardware of a ranking with its place, and the predictor's
// doubts about its measurement if it was measured.
type Row struct {
	Rank int
	engine.HardwareScore
	Flags []engine.Flag
}

type column = table.Column[Row]

// Model is the view.
type Model struct {
	ctx     *common.Context
	tbl     *table.Model[string, Row]
	space   engine.Space
	pick    [3]int // model, batch, precision indexes into space
	picked  bool
	ranking *engine.HardwareRanking
	err     error
	width   int
	height  int
}

// New makes the view.
func New(ctx *common.Context) *Model {
	m := &Model{ctx: ctx}
	m.tbl = table.New(ctx, Columns(ctx.Metric), func(r Row) string { return r.Hardware }, func(r Row) string { return r.Hardware + " " + r.Reason })
	return m
}

// SetSpace sets the models, batches and precisions to pick from.
func (m *Model) SetSpace(s engine.Space) { m.space = s }

// Picked reports whether a pick was made (the view was opened).
func (m *Model) Picked() bool { return m.picked }

// PickFrom starts the view on a configuration (the row under the cursor).
func (m *Model) PickFrom(model string, batch int, prec engine.Precision) {
	if len(m.space.Models) == 0 {
		return
	}
	m.picked = true
	m.pick[0] = max(slices.Index(m.space.Models, model), 0)
	m.pick[1] = max(slices.Index(m.space.BatchSizes, batch), 0)
	m.pick[2] = max(slices.Index(m.space.Precisions, prec), 0)
}

// Pick is the chosen model, batch and precision.
func (m *Model) Pick() (common.RankHardwareMsg, bool) {
	s := m.space
	if len(s.Models) == 0 || len(s.BatchSizes) == 0 || len(s.Precisions) == 0 {
		return common.RankHardwareMsg{}, false
	}
	return common.RankHardwareMsg{Model: s.Models[m.pick[0]%len(s.Models)], Batch: s.BatchSizes[m.pick[1]%len(s.BatchSizes)],
		Precision: s.Precisions[m.pick[2]%len(s.Precisions)]}, true
}

// SetRanking shows a ranking (nil with err when it failed).
func (m *Model) SetRanking(hr *engine.HardwareRanking, err error) {
	m.ranking, m.err = hr, err
	if hr == nil {
		m.tbl.SetRows(nil)
		return
	}
	m.tbl.SetColumns(Columns(hr.Metric))
	rows := make([]Row, len(hr.Ranking))
	cfg := hr.Config()
	for i, s := range hr.Ranking {
		rows[i] = Row{Rank: i + 1, HardwareScore: s}
		if s.Feasible && s.Predicted.Get(hr.Metric).Measured {
			cfg.Hardware = s.Hardware
			rows[i].Flags = m.ctx.Anomalies.OnMetric(cfg, hr.Metric)
		}
	}
	m.tbl.SetRows(rows)
}

// Ranking is the ranking on screen.
func (m *Model) Ranking() *engine.HardwareRanking { return m.ranking }

// Table is the view's table, for the status line.
func (m *Model) Table() *table.Model[string, Row] { return m.tbl }

// SetSize sets the view's size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.tbl.SetSize(w, h-2)
}

// Update handles o/O, b/B, p/P and the table's keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if kp, ok := msg.(tea.KeyPressMsg); ok && m.picked {
		k := m.ctx.Keys
		s := m.space
		steps := []struct {
			b       key.Binding
			i, d, n int
		}{{k.NextModel, 0, 1, len(s.Models)}, {k.PrevModel, 0, -1, len(s.Models)}, {k.NextBatch, 1, 1, len(s.BatchSizes)},
			{k.PrevBatch, 1, -1, len(s.BatchSizes)}, {k.NextPrecision, 2, 1, len(s.Precisions)}, {k.PrevPrecision, 2, -1, len(s.Precisions)}}
		for _, st := range steps {
			if key.Matches(kp, st.b) && st.n > 0 {
				m.pick[st.i] = (m.pick[st.i] + st.d + st.n) % st.n
				p, _ := m.Pick()
				return common.Cmd(p)
			}
		}
	}
	m.tbl.Update(common.Relative(msg, 0, 2))
	return nil
}

// View renders the pick line, the recommendation and the table.
func (m *Model) View() string {
	th := m.ctx.Theme
	p, ok := m.Pick()
	if !ok || !m.picked {
		return th.Muted.Render("  waiting for data…")
	}
	pick := func(label, v, keys string) string {
		return th.Muted.Render(label+" ") + th.Bold.Render("‹"+common.Safe(v)+"›") + th.Muted.Render(" "+keys)
	}
	sel := " " + pick("model", p.Model, "o/O") + "  " + pick("batch", common.Itoa(p.Batch), "b/B") + "  " +
		pick("precision", string(p.Precision), "p/P") + "  " + th.Muted.Render("ranked by "+common.MetricLabel(m.ctx.Metric))
	line2 := " " + th.Muted.Render("ranking…")
	switch {
	case m.ranking != nil:
		line2 = " " + common.RecommendLine(th, m.ranking, m.err)
	case m.err != nil:
		line2 = " " + th.Error.Render(common.Safe(m.err.Error()))
	}
	return sel + "\n" + line2 + "\n" + m.tbl.View("no hardware ranked yet")
}

func (m *Model) ShortHelp() []key.Binding {
	k := m.ctx.Keys
	return []key.Binding{k.NextModel, k.NextBatch, k.NextPrecision}
}

func (m *Model) FullHelp() [][]key.Binding {
	k := m.ctx.Keys
	return [][]key.Binding{m.tbl.KeyBindings(), {k.NextModel, k.PrevModel, k.NextBatch, k.PrevBatch, k.NextPrecision, k.PrevPrecision}}
}

// measuredMark is m for a measured value, m⚠ when it is in doubt.
func measuredMark(r Row, m engine.Metric) string {
	switch {
	case !r.Predicted.Get(m).Measured:
		return ""
	case len(r.Flags) > 0:
		return "m" + common.AnomalyMark
	}
	return "m"
}

// Columns are the view's columns.
func Columns(m engine.Metric) []column {
	val := func(r Row) engine.Interval { return r.Predicted.Get(m) }
	statusStyle := func(r Row, th *common.Theme) lipgloss.Style {
		if r.Eligible {
			return th.Good
		}
		return th.Bad
	}
	muted := func(_ Row, th *common.Theme) lipgloss.Style { return th.Muted }
	cols := []column{
		{Title: "#", Width: 2, Right: true, Cell: func(r Row) string { return common.Itoa(r.Rank) }, Cmp: func(a, b Row) int { return a.Rank - b.Rank }},
		{Title: "Hardware", Width: 8, Cell: func(r Row) string { return r.Hardware }, Cmp: func(a, b Row) int { return common.CmpS(a.Hardware, b.Hardware) }},
		{Title: common.MetricTitle(m), Width: 7, Right: true, Cell: func(r Row) string {
			if !r.Feasible {
				return "–"
			}
			return common.FmtVal(val(r).Value) + measuredMark(r, m)
		}, Style: func(r Row, th *common.Theme) lipgloss.Style {
			if len(r.Flags) > 0 {
				return th.Warn
			}
			return th.Text
		}, Cmp: func(a, b Row) int { return common.CmpF(val(a).Value, val(b).Value) }},
		{Title: "80% interval", Width: 13, Cell: func(r Row) string {
			if !r.Feasible {
				return "–"
			}
			return common.FmtInterval(val(r).Low, val(r).High)
		}, Style: muted},
		{Title: "Score", Width: 5, Right: true, Cell: func(r Row) string {
			if !r.Eligible {
				return "–"
			}
			return common.FmtScore(r.Score)
		}, Cmp: func(a, b Row) int { return common.CmpF(a.Score, b.Score) }},
	}
	for _, sc := range common.ScoreComponents {
		name := sc.Name
		get := func(r Row) float64 { c, _ := common.ScorePart(r.HardwareScore, name); return c.Contribution }
		cols = append(cols, column{Title: sc.Title, Width: 6, Right: true, Secondary: name != "performance",
			Cell: func(r Row) string {
				if _, ok := common.ScorePart(r.HardwareScore, name); !ok {
					return "–"
				}
				return common.FmtScore(get(r))
			}, Cmp: func(a, b Row) int { return common.CmpF(get(a), get(b)) }})
	}
	return append(cols,
		column{Title: "Status", Width: 11, Cell: func(r Row) string { return common.HWStatus(r.HardwareScore) }, Style: statusStyle,
			Cmp: func(a, b Row) int {
				return common.CmpS(common.HWStatus(a.HardwareScore), common.HWStatus(b.HardwareScore))
			}},
		column{Title: "Reason", Width: 6, Flex: true, Secondary: true, Cell: func(r Row) string {
			if len(r.Flags) > 0 {
				return common.AnomalyMark + " " + common.AnomalyText(r.Flags, "")
			}
			return r.Reason
		}, Style: muted},
	)
}
