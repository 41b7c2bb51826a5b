package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"perfpilot/engine"
)

// hwRow is one hardware of a ranking with its place.
type hwRow struct {
	rank int
	engine.HardwareScore
}

func hwRows(hr *engine.HardwareRanking) []hwRow {
	out := make([]hwRow, len(hr.Ranking))
	for i, s := range hr.Ranking {
		out[i] = hwRow{rank: i + 1, HardwareScore: s}
	}
	return out
}

func hwID(r hwRow) string     { return r.Hardware }
func hwSearch(r hwRow) string { return r.Hardware + " " + r.Reason }

// hwStatus is a short feasibility mark: OOM, unsupported, or a constraint.
func hwStatus(s engine.HardwareScore) string {
	switch {
	case s.Eligible:
		return "ok"
	case !s.Feasible && strings.HasPrefix(s.Reason, "out of memory"):
		return "OOM"
	case !s.Feasible:
		return "unsupported"
	}
	return "excluded"
}

func component(s engine.HardwareScore, name string) (engine.ScoreComponent, bool) {
	for _, c := range s.Breakdown {
		if c.Name == name {
			return c, true
		}
	}
	return engine.ScoreComponent{}, false
}

// scoreComponents are the breakdown parts in display order.
var scoreComponents = []struct{ name, title string }{
	{"performance", "Perf"}, {"power", "Power"}, {"memory_headroom", "Headrm"}, {"availability", "Avail"}, {"deployment", "Deploy"},
}

// hwColumns are the Hardware view's columns.
func hwColumns(m engine.Metric) []Column[hwRow] {
	val := func(r hwRow) engine.Interval { return r.Predicted.Get(m) }
	statusStyle := func(r hwRow, th *Theme) lipgloss.Style {
		if r.Eligible {
			return th.Good
		}
		return th.Bad
	}
	cols := []Column[hwRow]{
		{Title: "#", Width: 2, Right: true, Cell: func(r hwRow) string { return itoa(r.rank) }, Cmp: func(a, b hwRow) int { return a.rank - b.rank }},
		{Title: "Hardware", Width: 8, Cell: func(r hwRow) string { return r.Hardware }, Cmp: func(a, b hwRow) int { return cmpS(a.Hardware, b.Hardware) }},
		{Title: metricTitle(m), Width: 6, Right: true, Cell: func(r hwRow) string {
			if !r.Feasible {
				return "–"
			}
			return fmtVal(val(r).Value)
		}, Cmp: func(a, b hwRow) int { return cmpF(val(a).Value, val(b).Value) }},
		{Title: "80% interval", Width: 13, Cell: func(r hwRow) string {
			if !r.Feasible {
				return "–"
			}
			v := val(r)
			return fmtInterval(v.Low, v.High)
		},
			Style: func(_ hwRow, th *Theme) lipgloss.Style { return th.Muted }},
		{Title: "Score", Width: 5, Right: true, Cell: func(r hwRow) string {
			if !r.Eligible {
				return "–"
			}
			return fmtScore(r.Score)
		}, Cmp: func(a, b hwRow) int { return cmpF(a.Score, b.Score) }},
	}
	for _, sc := range scoreComponents {
		name := sc.name
		get := func(r hwRow) float64 { c, _ := component(r.HardwareScore, name); return c.Contribution }
		cols = append(cols, Column[hwRow]{Title: sc.title, Width: 6, Right: true, Secondary: name != "performance",
			Cell: func(r hwRow) string {
				if _, ok := component(r.HardwareScore, name); !ok {
					return "–"
				}
				return fmtScore(get(r))
			}, Cmp: func(a, b hwRow) int { return cmpF(get(a), get(b)) }})
	}
	return append(cols,
		Column[hwRow]{Title: "Status", Width: 11, Cell: func(r hwRow) string { return hwStatus(r.HardwareScore) }, Style: statusStyle,
			Cmp: func(a, b hwRow) int { return cmpS(hwStatus(a.HardwareScore), hwStatus(b.HardwareScore)) }},
		Column[hwRow]{Title: "Reason", Width: 6, Flex: true, Secondary: true, Cell: func(r hwRow) string { return r.Reason },
			Style: func(_ hwRow, th *Theme) lipgloss.Style { return th.Muted }},
	)
}

// hardwareBody renders the Hardware view.
func (m *Model) hardwareBody(height int) string {
	th := m.ctx.Theme
	model, batch, prec, ok := m.hardwarePick()
	if !ok {
		return th.Muted.Render("  waiting for data…")
	}
	pick := func(label, v, keys string) string {
		return th.Muted.Render(label+" ") + th.Bold.Render("‹"+v+"›") + th.Muted.Render(" "+keys)
	}
	sel := " " + pick("model", model, "o/O") + "  " + pick("batch", itoa(batch), "b/B") + "  " +
		pick("precision", string(prec), "p/P") + "  " + th.Muted.Render("ranked by "+metricLabel(m.ctx.Metric))
	line2 := " " + th.Muted.Render("ranking…")
	if hr := m.hwView.ranking; hr != nil {
		line2 = " " + recommendLine(th, hr, m.hwView.err)
	} else if m.hwView.err != nil {
		line2 = " " + th.Error.Render(m.hwView.err.Error())
	}
	return sel + "\n" + line2 + "\n" + m.hw.View("no hardware ranked yet")
}

// recommendLine says which hardware wins and its alternatives.
func recommendLine(th *Theme, hr *engine.HardwareRanking, err error) string {
	if hr.RecommendedHardware == "" {
		msg := "no hardware qualifies"
		if err != nil {
			msg = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		return th.Error.Render(msg)
	}
	s := th.Muted.Render("recommended ") + th.Good.Render(hr.RecommendedHardware)
	if top := hr.Score(hr.RecommendedHardware); top != nil {
		s += th.Muted.Render(" (" + fmtScore(top.Score) + ")")
	}
	if len(hr.Alternatives) == 0 {
		return s + th.Muted.Render(" · no alternative within 80% of its score")
	}
	var alts []string
	for _, a := range hr.Alternatives {
		alts = append(alts, fmt.Sprintf("%s %.3f", a.Hardware, a.Score))
	}
	return s + th.Muted.Render(" · alternatives: ") + strings.Join(alts, ", ")
}

// hardwareChoices are the values the hardware view cycles through.
func (m *Model) hardwareChoices() (models []string, batches []int, precs []engine.Precision) {
	return m.hwSpace.Models, m.hwSpace.BatchSizes, m.hwSpace.Precisions
}

// initHardwarePick starts the hardware view on the row under the cursor.
func (m *Model) initHardwarePick() {
	models, batches, precs := m.hardwareChoices()
	if len(models) == 0 {
		return
	}
	m.hwInit = true
	r, ok := m.recs.Current()
	if !ok {
		return
	}
	for i, v := range models {
		if v == r.ModelName {
			m.hwPick[0] = i
		}
	}
	for i, v := range batches {
		if v == r.BatchSize {
			m.hwPick[1] = i
		}
	}
	for i, v := range precs {
		if v == r.Precision {
			m.hwPick[2] = i
		}
	}
}

func (m *Model) hardwareKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	models, batches, precs := m.hardwareChoices()
	if len(models) == 0 || len(batches) == 0 || len(precs) == 0 {
		return nil
	}
	step := func(i, d, n int) int { return (i + d + n) % n }
	switch {
	case key.Matches(msg, k.NextModel):
		m.hwPick[0] = step(m.hwPick[0], 1, len(models))
	case key.Matches(msg, k.PrevModel):
		m.hwPick[0] = step(m.hwPick[0], -1, len(models))
	case key.Matches(msg, k.NextBatch):
		m.hwPick[1] = step(m.hwPick[1], 1, len(batches))
	case key.Matches(msg, k.PrevBatch):
		m.hwPick[1] = step(m.hwPick[1], -1, len(batches))
	case key.Matches(msg, k.NextPrecision):
		m.hwPick[2] = step(m.hwPick[2], 1, len(precs))
	case key.Matches(msg, k.PrevPrecision):
		m.hwPick[2] = step(m.hwPick[2], -1, len(precs))
	default:
		return nil
	}
	return m.requestHardware()
}

// hardwarePick returns the chosen model, batch and precision.
func (m *Model) hardwarePick() (string, int, engine.Precision, bool) {
	models, batches, precs := m.hardwareChoices()
	if len(models) == 0 || len(batches) == 0 || len(precs) == 0 {
		return "", 0, "", false
	}
	return models[m.hwPick[0]%len(models)], batches[m.hwPick[1]%len(batches)], precs[m.hwPick[2]%len(precs)], true
}

func (m *Model) requestHardware() tea.Cmd {
	if !m.hwInit {
		if len(m.hwSpace.Models) == 0 {
			return nil
		}
		m.initHardwarePick()
	}
	model, batch, prec, ok := m.hardwarePick()
	if !ok {
		return nil
	}
	return m.startRanking(jobHardware, engine.Config{Model: model, BatchSize: batch, Precision: prec}, m.ctx.Metric)
}
