// Package overview is the hardware overview: a models × hardware matrix of
// the metric's prediction at one batch size and precision, answering
// "which hardware for each model" at a glance. Each row is exactly what
// `perfpilot recommend-hardware --model M --json` computes.
package overview

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
	"perfpilot/tui/common"
)

// Row is one model's ranking.
type Row struct {
	Model   string
	Ranking *engine.HardwareRanking
	Err     error
}

const (
	cellW   = 9
	headH   = 2 // pick line and column titles
	footerH = 1
)

// Model is the view.
type Model struct {
	ctx      *common.Context
	space    engine.Space
	pick     [2]int // batch, precision
	rows     []Row
	version  int // the data version the rows were ranked on
	metric   engine.Metric
	cur, col int
	offset   int
	hwOffset int
	query    string
	width    int
	height   int
}

// New makes the view.
func New(ctx *common.Context) *Model { return &Model{ctx: ctx} }

// SetSpace sets the models, hardware, batches and precisions, starting on
// batch 1 and fp32 when they are there.
func (m *Model) SetSpace(s engine.Space) {
	first := len(m.space.Models) == 0
	m.space = s
	if first {
		m.pick[0] = max(slices.Index(s.BatchSizes, 1), 0)
		m.pick[1] = max(slices.Index(s.Precisions, engine.FP32), 0)
	}
}

// Pick is the batch and precision on screen.
func (m *Model) Pick() (common.OverviewMsg, bool) {
	s := m.space
	if len(s.BatchSizes) == 0 || len(s.Precisions) == 0 {
		return common.OverviewMsg{}, false
	}
	return common.OverviewMsg{Batch: s.BatchSizes[m.pick[0]%len(s.BatchSizes)], Precision: s.Precisions[m.pick[1]%len(s.Precisions)]}, true
}

// SetRows shows the rankings (one per model, in space order).
func (m *Model) SetRows(metric engine.Metric, rows []Row) {
	m.metric, m.rows, m.version = metric, rows, m.ctx.DataVersion
	m.cur = min(m.cur, max(len(rows)-1, 0))
	m.clamp()
}

// Rows are the rankings on screen.
func (m *Model) Rows() []Row { return m.rows }

// Hardware lists the matrix's columns.
func (m *Model) Hardware() []string { return m.space.Hardware }

// Cursor is the cursor cell (model row, hardware column).
func (m *Model) Cursor() (row, col int) { return m.cur, m.col }

// SetFilter jumps to the first model whose name holds s (/ in this view
// jumps rather than hides rows, so the matrix keeps its shape).
func (m *Model) SetFilter(s string) {
	m.query = s
	q := strings.ToLower(strings.TrimSpace(s))
	if q == "" {
		return
	}
	for i, r := range m.rows {
		if strings.Contains(strings.ToLower(r.Model), q) {
			m.cur = i
			m.clamp()
			return
		}
	}
}

// Filter is the last jump text.
func (m *Model) Filter() string { return m.query }

func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.clamp()
}

func (m *Model) page() int { return max(m.height-headH-footerH, 1) }

// visibleHW is how many hardware columns fit beside the model column.
func (m *Model) visibleHW() int { return max((m.width-m.modelW()-2)/(cellW+1), 1) }

func (m *Model) modelW() int { return min(max(m.width/4, 14), 28) }

func (m *Model) clamp() {
	n := len(m.rows)
	m.cur = max(0, min(m.cur, n-1))
	if m.cur < m.offset {
		m.offset = m.cur
	}
	if m.cur >= m.offset+m.page() {
		m.offset = m.cur - m.page() + 1
	}
	m.offset = max(0, min(m.offset, n-m.page()))
	nh := len(m.space.Hardware)
	m.col = max(0, min(m.col, nh-1))
	if m.col < m.hwOffset {
		m.hwOffset = m.col
	}
	if m.col >= m.hwOffset+m.visibleHW() {
		m.hwOffset = m.col - m.visibleHW() + 1
	}
	m.hwOffset = max(0, min(m.hwOffset, nh-m.visibleHW()))
}

// Update moves the cursor cell and changes batch (b/B) and precision
// (p/P); a click puts the cursor on the cell clicked.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k := m.ctx.Keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		s := m.space
		steps := []struct {
			b       key.Binding
			i, d, n int
		}{{k.NextBatch, 0, 1, len(s.BatchSizes)}, {k.PrevBatch, 0, -1, len(s.BatchSizes)},
			{k.NextPrecision, 1, 1, len(s.Precisions)}, {k.PrevPrecision, 1, -1, len(s.Precisions)}}
		for _, st := range steps {
			if key.Matches(msg, st.b) && st.n > 0 {
				m.pick[st.i] = (m.pick[st.i] + st.d + st.n) % st.n
				p, _ := m.Pick()
				return common.Cmd(p)
			}
		}
		m.move(msg)
	case tea.MouseWheelMsg:
		if msg.Button == tea.MouseWheelUp {
			m.cur -= 3
		} else if msg.Button == tea.MouseWheelDown {
			m.cur += 3
		}
	case tea.MouseClickMsg:
		if msg.Y >= headH && msg.Y-headH < m.page() {
			m.cur = m.offset + msg.Y - headH
		}
		if x := msg.X - m.modelW() - 2; x >= 0 {
			m.col = m.hwOffset + x/(cellW+1)
		}
	}
	m.clamp()
	return nil
}

func (m *Model) move(msg tea.KeyPressMsg) {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Table.Up):
		m.cur--
	case key.Matches(msg, k.Table.Down):
		m.cur++
	case key.Matches(msg, k.Table.Top):
		m.cur = 0
	case key.Matches(msg, k.Table.Bottom):
		m.cur = len(m.rows)
	case key.Matches(msg, k.Table.PageUp):
		m.cur -= m.page()
	case key.Matches(msg, k.Table.PageDown):
		m.cur += m.page()
	case key.Matches(msg, k.Left):
		m.col--
	case key.Matches(msg, k.Right):
		m.col++
	}
}

// Cell is what a matrix cell says: the value, OOM or unsupported, and
// whether it was measured.
func Cell(hr *engine.HardwareRanking, hw string, metric engine.Metric) (text string, value float64, ok bool) {
	s := hr.Score(hw)
	switch {
	case s == nil:
		return "–", 0, false
	case !s.Feasible:
		if common.HWStatus(*s) == "OOM" {
			return "OOM", 0, false
		}
		return "unsup", 0, false
	}
	iv := s.Predicted.Get(metric)
	text = common.FmtVal(iv.Value)
	if iv.Measured {
		text += "m"
	}
	return text, iv.Value, true
}

// best is the hardware with the best value in a row.
func best(hr *engine.HardwareRanking, hws []string, metric engine.Metric) string {
	out, bv := "", 0.0
	for _, hw := range hws {
		if _, v, ok := Cell(hr, hw, metric); ok && (out == "" || (metric.HigherIsBetter() && v > bv) || (!metric.HigherIsBetter() && v < bv)) {
			out, bv = hw, v
		}
	}
	return out
}

// View renders the pick line, the matrix and the cursor cell's detail.
func (m *Model) View() string {
	th := m.ctx.Theme
	p, ok := m.Pick()
	if !ok {
		return th.Muted.Render("  waiting for data…")
	}
	const stale = " · new data: re-ranking…"
	room := m.width - ansi.StringWidth(head0(p, m.metric))
	if m.version != m.ctx.DataVersion {
		room -= ansi.StringWidth(stale)
	}
	head := " " + th.Muted.Render("batch ") + th.Bold.Render(fmt.Sprintf("‹%d›", p.Batch)) + th.Muted.Render(" b/B  precision ") +
		th.Bold.Render("‹"+string(p.Precision)+"›") + th.Muted.Render(" p/P  ·  "+common.MetricLabel(m.metric)+m.legend(room))
	if len(m.rows) == 0 {
		return head + "\n" + th.Muted.Render("  ranking every model on every hardware…")
	}
	if m.version != m.ctx.DataVersion {
		head += th.Warn.Render(stale)
	}
	lines := []string{head, m.titles()}
	end := min(len(m.rows), m.offset+m.page())
	for i := m.offset; i < end; i++ {
		lines = append(lines, m.row(i))
	}
	lines = common.PadLines(strings.Join(lines, "\n"), m.height-footerH)
	return strings.Join(append(lines, m.footer()), "\n")
}

func (m *Model) hwWindow() []string {
	hws := m.space.Hardware
	return hws[m.hwOffset:min(len(hws), m.hwOffset+m.visibleHW())]
}

// titles names the hardware columns in view and says how many more
// there are on either side (← → scroll).
func (m *Model) titles() string {
	th := m.ctx.Theme
	s := "  " + common.Fit("Model", m.modelW(), false)
	for _, hw := range m.hwWindow() {
		s += " " + common.Fit(common.Safe(hw), cellW, true)
	}
	if n := len(m.space.Hardware) - m.hwOffset - len(m.hwWindow()); n > 0 || m.hwOffset > 0 {
		s += th.Muted.Render(fmt.Sprintf("  ←%d %d→", m.hwOffset, n))
	}
	return th.ColHeader.Render(ansi.Truncate(s, m.width, ""))
}

func (m *Model) row(i int) string {
	th := m.ctx.Theme
	r := m.rows[i]
	mark := " "
	if i == m.cur {
		mark = "›"
	}
	s := mark + " " + common.Fit(common.Safe(r.Model), m.modelW(), false)
	if r.Ranking == nil {
		msg := "ranking…"
		if r.Err != nil {
			msg = common.Safe(r.Err.Error())
		}
		return s + " " + th.Error.Render(msg)
	}
	hws := m.hwWindow()
	top := best(r.Ranking, m.space.Hardware, m.metric)
	for j, hw := range hws {
		text, _, ok := Cell(r.Ranking, hw, m.metric)
		if len(m.flags(r.Ranking, hw)) > 0 {
			text += common.AnomalyMark
		}
		if hw == r.Ranking.RecommendedHardware {
			text = "★" + text
		}
		cell := common.Fit(text, cellW, true)
		switch {
		case i == m.cur && j+m.hwOffset == m.col:
			cell = th.CursorRow.Render(cell)
		case hw == top:
			cell = th.Good.Bold(true).Render(cell)
		case !ok:
			cell = th.Muted.Render(cell)
		}
		s += " " + cell
	}
	return ansi.Truncate(s, m.width, "")
}

// footer describes the cursor cell: value, interval, score, why.
func (m *Model) footer() string {
	th := m.ctx.Theme
	if m.cur >= len(m.rows) || m.rows[m.cur].Ranking == nil || len(m.space.Hardware) == 0 {
		return ""
	}
	r := m.rows[m.cur]
	hw := m.space.Hardware[m.col]
	s := r.Ranking.Score(hw)
	line := " " + th.Bold.Render(common.Safe(r.Model+" on "+hw)) + " "
	switch {
	case s == nil:
		line += th.Muted.Render("not ranked")
	case !s.Feasible || !s.Eligible:
		line += th.Bad.Render(common.HWStatus(*s)) + " " + th.Muted.Render(common.Safe(s.Reason))
	default:
		iv := s.Predicted.Get(m.metric)
		line += common.FmtVal(iv.Value) + th.Muted.Render(" (80%: "+common.FmtInterval(iv.Low, iv.High)+")") +
			th.Muted.Render(" · score ") + common.FmtScore(s.Score)
		if iv.Measured {
			line += th.Good.Render(" · measured")
		}
		if fs := m.flags(r.Ranking, hw); len(fs) > 0 {
			line += th.Warn.Render(" · " + common.AnomalyMark + " " + common.AnomalyText(fs, ""))
		}
	}
	line += th.Muted.Render(" · recommended " + common.Safe(common.OrDash(r.Ranking.RecommendedHardware)))
	return ansi.Truncate(line, m.width, "…")
}

// head0 is the pick line without its legend, unstyled (for its width).
func head0(p common.OverviewMsg, metric engine.Metric) string {
	return fmt.Sprintf(" batch ‹%d› b/B  precision ‹%s› p/P  ·  %s", p.Batch, p.Precision, common.MetricLabel(metric))
}

// legend says what the marks mean, as much of it as fits in room cells.
func (m *Model) legend(room int) string {
	parts := []string{"★ recommended", "bold best", "m measured"}
	if m.ctx.Anomalies.Len() > 0 {
		parts = append(parts, common.AnomalyMark+" in doubt")
	}
	parts = append(parts, "/ jump")
	out := ""
	for _, p := range parts {
		if ansi.StringWidth(out+" · "+p) > room {
			break
		}
		out += " · " + p
	}
	return out
}

// flags are the predictor's doubts about a measured cell.
func (m *Model) flags(hr *engine.HardwareRanking, hw string) []engine.Flag {
	s := hr.Score(hw)
	if s == nil || !s.Feasible || !s.Predicted.Get(m.metric).Measured {
		return nil
	}
	cfg := hr.Config()
	cfg.Hardware = hw
	return m.ctx.Anomalies.OnMetric(cfg, m.metric)
}

func (m *Model) ShortHelp() []key.Binding {
	k := m.ctx.Keys
	return []key.Binding{k.NextBatch, k.NextPrecision, k.Left, k.Right}
}

func (m *Model) FullHelp() [][]key.Binding {
	k := m.ctx.Keys
	return [][]key.Binding{{k.Table.Up, k.Table.Down, k.Left, k.Right, k.NextBatch, k.PrevBatch, k.NextPrecision, k.PrevPrecision}}
}
