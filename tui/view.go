package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
)

// View renders the whole screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "perfpilot"
	return v
}

// Render is the screen as a string (what View shows).
func (m *Model) Render() string {
	c := &m.ctx
	if c.TooSmall() {
		msg := fmt.Sprintf("terminal too small: %d×%d\nperfpilot needs at least %d×%d", c.Width, c.Height, minWidth, minHeight)
		return lipgloss.Place(max(c.Width, 1), max(c.Height, 1), lipgloss.Center, lipgloss.Center, c.Theme.Warn.Render(msg))
	}
	var body string
	switch {
	case m.dialog != nil:
		body = m.renderDialog()
	case m.showHelp:
		body = fullHelp(c.Theme, m.keys.FullHelp(c.View), c.Width)
	default:
		body = m.body()
	}
	out := make([]string, 0, c.Height)
	out = append(out, m.header()...)
	out = append(out, padLines(body, c.BodyHeight(), c.Width)...)
	out = append(out, m.statusLine(), m.help.ShortHelpView(m.keys.ShortHelp(c.View)))
	for i, l := range out {
		out[i] = ansi.Truncate(l, c.Width, "")
	}
	return strings.Join(out, "\n")
}

// padLines makes s exactly n lines.
func padLines(s string, n, width int) []string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return lines
}

func (m *Model) body() string {
	switch m.ctx.View {
	case viewRecs:
		if m.report == nil {
			return m.ctx.Theme.Muted.Render("  loading results and ranking candidates…")
		}
		s := m.recs.View("no rows match the filter")
		if m.detailOpen {
			if r, ok := m.recs.Current(); ok {
				s = padBlock(s, m.recsTableHeight()) + "\n" + m.detailView(r)
			}
		}
		return m.withRunPanel(s)
	case viewMismatches:
		s := m.mismatchesBody()
		if m.detailOpen {
			if r, ok := m.mism.Current(); ok {
				s = padBlock(s, m.recsTableHeight()) + "\n" + m.detailView(r)
			}
		}
		return m.withRunPanel(s)
	case viewHardware:
		return m.hardwareBody(m.ctx.BodyHeight())
	case viewBenchmarks:
		return m.benchmarksBody()
	default:
		return m.sessionsBody()
	}
}

// withRunPanel puts the run panel, while a run is in progress, at the
// bottom of a recommendations body.
func (m *Model) withRunPanel(s string) string {
	if m.run == nil {
		return s
	}
	return padBlock(s, m.ctx.BodyHeight()-m.runPanelHeight()) + "\n" + m.runPanel()
}

func padBlock(s string, n int) string { return strings.Join(padLines(s, n, 0), "\n") }

func (m *Model) detailView(r rec) string {
	rv := m.detail
	if rv.key != rankKey(r.Config(), m.reportMetric()) {
		rv = rankingView{} // still ranking this row
	}
	return detailPane{th: m.ctx.Theme, row: r, rv: rv, metric: m.reportMetric(), width: m.ctx.Width, height: m.detailPaneHeight()}.View()
}

func (m *Model) nHardware() int {
	if n := len(m.hwSpace.Hardware); n > 0 {
		return n
	}
	return len(engine.Backends)
}

func (m *Model) detailPaneHeight() int {
	body := m.ctx.BodyHeight()
	return max(min(detailHeight(m.ctx.Width, m.nHardware()), body-6), 3)
}

// recsTableHeight is the height of the recommendations (or mismatches)
// block above the detail pane and the run panel.
func (m *Model) recsTableHeight() int {
	h := m.ctx.BodyHeight() - m.runPanelHeight()
	if m.detailOpen {
		h -= m.detailPaneHeight() + 0
	}
	return max(h, 3)
}

// layout resizes every component to the current context.
func (m *Model) layout() {
	c := &m.ctx
	w, body, compact, th := c.Width, c.BodyHeight(), c.Compact(), c.Theme
	recH := body
	if m.detailOpen || m.run != nil {
		recH = m.recsTableHeight()
	}
	m.recs.SetSize(w, recH, compact, th)
	m.mism.SetSize(w, recH-1, compact, th)
	m.hw.SetSize(w, body-2, compact, th)
	m.bench.SetSize(w, body-1, compact, th)
	m.sessions.SetSize(w, body-1, compact, th)
	m.help.SetWidth(w)
	m.filter.SetWidth(max(w/2, 10))
}

// header is the three header lines: product, session and data; metric tabs
// and budget; view tabs.
func (m *Model) header() []string {
	c := &m.ctx
	th := c.Theme
	session := "unsaved"
	if m.sessionName != "" {
		session = m.sessionName
		if m.dirty {
			session += " (modified)"
		}
	}
	data := "loading data…"
	sim := false
	if m.pred != nil || m.results != nil {
		var src string
		src, sim = sourceSummary(m.results)
		data = fmt.Sprintf("%d measured results (%s)", len(m.results), src)
	}
	l1 := th.Title.Render("perfpilot") + th.Muted.Render(" · session: ") + th.Bold.Render(session) + th.Muted.Render(" · ") + data
	if sim {
		// The badge must stay visible: the text before it gives way.
		badge := th.Badge.Render(" SIMULATED DEMO DATA ")
		l1 = ansi.Truncate(l1, c.Width-lipgloss.Width(badge)-1, "…") + " " + badge
	}
	var tabs []string
	for _, mt := range engine.Metrics {
		name := strings.ToUpper(string(mt[:1])) + string(mt[1:])
		if mt == c.Metric {
			tabs = append(tabs, th.TabActive.Render("["+name+"]"))
		} else {
			tabs = append(tabs, th.Tab.Render(" "+name+" "))
		}
	}
	l2 := th.Muted.Render("metric ") + strings.Join(tabs, th.Muted.Render("|")) +
		th.Muted.Render("   budget ") + th.Bold.Render(itoa(m.budget)) + th.Muted.Render(" (+/-)")
	var views []string
	for v := range numViews {
		name := v.String()
		if c.Compact() {
			name = shortViewNames[v]
		}
		label := itoa(int(v)+1) + " " + name
		if v == c.View {
			views = append(views, th.TabActive.Render("["+label+"]"))
		} else {
			views = append(views, th.Tab.Render(" "+label+" "))
		}
	}
	return []string{l1, l2, strings.Join(views, "")}
}

var shortViewNames = [numViews]string{"Recs", "Mismatch", "Hardware", "Bench", "Sessions"}

// statusLine shows the filter input, work in progress or the last message
// on the left, and the table's position, selection, filter and sort on the
// right.
func (m *Model) statusLine() string {
	c := &m.ctx
	th := c.Theme
	var left string
	switch {
	case m.filtering:
		left = m.filter.View()
	case m.busy():
		seen := map[string]bool{}
		var labels []string
		for k := range numJobKinds {
			if _, ok := m.pending[k]; ok && !seen[jobLabels[k]] {
				seen[jobLabels[k]] = true
				labels = append(labels, jobLabels[k])
			}
		}
		left = m.spinner.View() + " " + strings.Join(labels, ", ") + "…"
		if k := jobRank; m.isPending(k) {
			left += th.Muted.Render(" (by " + string(c.Metric) + ")")
		}
	case m.statusErr:
		left = th.Error.Render(m.status)
	default:
		left = th.Muted.Render(m.status)
	}
	t := m.activeTable()
	var parts []string
	if r := m.run; r != nil {
		parts = append(parts, th.Accent.Render(fmt.Sprintf("run %d/%d", r.progress.Done+r.progress.Failed, r.progress.Total)))
	}
	if t.Len() > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d", t.Cursor()+1, t.Len()))
	} else {
		parts = append(parts, fmt.Sprintf("0/%d", t.Total()))
	}
	if n := t.SelectionLen(); n > 0 && (c.View == viewRecs || c.View == viewMismatches) {
		parts = append(parts, th.Selected.Render(fmt.Sprintf("%d selected", n)))
	}
	if f := t.Filter(); f != "" && !m.filtering {
		parts = append(parts, "filter "+fmt.Sprintf("%q", f))
	}
	if col, desc := t.SortState(); col != "" {
		dir := "▲"
		if desc {
			dir = "▼"
		}
		parts = append(parts, "sort "+col+dir)
	}
	right := strings.Join(parts, " · ")
	gap := c.Width - lipgloss.Width(left) - lipgloss.Width(right) - 1
	if gap < 1 {
		left = ansi.Truncate(left, max(c.Width-lipgloss.Width(right)-2, 0), "…")
		gap = max(c.Width-lipgloss.Width(left)-lipgloss.Width(right)-1, 1)
	}
	return left + strings.Repeat(" ", gap) + right
}
