package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
	"perfpilot/tui/common"
	"perfpilot/tui/dialog"
)

const (
	headerLines = 3
	footerLines = 2 // status line + help bar
)

// View renders the whole screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "perfpilot"
	if !m.opts.NoMouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

// Render is the screen as a string (what View shows).
func (m *Model) Render() string {
	c := m.ctx
	if c.TooSmall() {
		msg := fmt.Sprintf("terminal too small: %d×%d\nperfpilot needs at least %d×%d", c.Width, c.Height, common.MinWidth, common.MinHeight)
		return lipgloss.Place(max(c.Width, 1), max(c.Height, 1), lipgloss.Center, lipgloss.Center, c.Theme.Warn.Render(msg))
	}
	banners := m.banners()
	bodyH := m.bodyHeight()
	var body string
	switch {
	case m.dialog != nil:
		body = dialog.Render(c, m.dialog, c.Width, bodyH)
	case m.showHelp:
		body = fullHelp(c.Theme, m.fullHelp(), c.Width, bodyH)
	case m.showLog:
		body = m.log.View()
	default:
		body = m.body()
	}
	out := make([]string, 0, c.Height)
	out = append(out, m.header()...)
	out = append(out, banners...)
	out = append(out, common.PadLines(body, bodyH)...)
	out = append(out, m.statusLine(), m.help.ShortHelpView(m.shortHelp()))
	for i, l := range out {
		out[i] = ansi.Truncate(l, c.Width, "")
	}
	return strings.Join(out, "\n")
}

// banners are the lines under the header that must not be missed: a
// read-only database, a session shown as saved.
func (m *Model) banners() []string {
	th := m.ctx.Theme
	var out []string
	if m.opts.ReadOnly != "" {
		// Wrapped (two lines at most): the reason names a path.
		const badge = " READ-ONLY "
		text := common.Wrap(common.Safe(m.opts.ReadOnly)+" · browsing works; saving, importing and running are off", m.ctx.Width-len(badge)-2)
		for i, l := range strings.SplitN(text, "\n", 3)[:min(2, strings.Count(text, "\n")+1)] {
			lead := th.Badge.Render(badge)
			if i > 0 {
				lead = strings.Repeat(" ", len(badge))
			}
			out = append(out, lead+" "+th.Warn.Render(l))
		}
	}
	if s := m.snapshot; s != nil && m.report == m.sessionRep {
		out = append(out, th.Warn.Render(fmt.Sprintf(" snapshot from %s · %d row(s) measured since · r re-ranks",
			s.at.Local().Format("2006-01-02 15:04"), s.measuredSince)))
	}
	return out
}

func (m *Model) bodyHeight() int {
	return max(1, m.ctx.Height-headerLines-footerLines-len(m.banners()))
}

func (m *Model) body() string {
	if !m.view.isRecs() {
		return m.views[m.view].View()
	}
	if m.report == nil {
		return m.ctx.Theme.Muted.Render("  loading results and ranking candidates…")
	}
	v := m.recs
	if m.view == viewMismatches {
		v = m.mism
	}
	th, dh, rh := m.paneHeights()
	s := common.PadBlock(v.View(), th)
	if dh > 0 {
		s += "\n" + m.detail.View()
	}
	if rh > 0 {
		s += "\n" + m.runPanel.View()
	}
	return s
}

// paneHeights splits the body of a recommendation view between the table,
// the detail pane and the run panel.
func (m *Model) paneHeights() (table, det, run int) {
	body := m.bodyHeight()
	if m.run != nil || m.runDone {
		run = m.runPanel.WantHeight(body)
	}
	if m.detailOpen {
		n := len(m.space.Hardware)
		if n == 0 {
			n = len(engine.Backends)
		}
		det = max(min(m.detail.WantHeight(n), body-run-6), 3)
	}
	return max(body-det-run, 3), det, run
}

// layout sizes every component for the current screen.
func (m *Model) layout() {
	w, body := m.ctx.Width, m.bodyHeight()
	th, dh, rh := m.paneHeights()
	m.recs.SetSize(w, th)
	m.mism.SetSize(w, th)
	m.detail.SetSize(w, dh)
	m.runPanel.SetSize(w, rh)
	for _, v := range []viewID{viewOverview, viewHardware, viewPareto, viewBenchmarks, viewSessions} {
		m.views[v].SetSize(w, body)
	}
	m.log.SetSize(w, body)
	m.help.SetWidth(w)
	m.filter.SetWidth(max(w/2, 10))
}

// header is the product, session and data line; metric tabs and budget;
// view tabs.
func (m *Model) header() []string {
	c := m.ctx
	th := c.Theme
	session := "unsaved"
	if m.sessionName != "" {
		session = common.Safe(m.sessionName)
		if m.dirty {
			session += " (modified)"
		}
	}
	data, sim := "loading data…", false
	if m.pred != nil || m.results != nil {
		var src string
		src, sim = m.bench.Sources()
		data = fmt.Sprintf("%d measured results (%s)", len(m.results), src)
		if len(m.results) == 0 {
			data = "no measured results yet: predictions are the roofline prior (i imports)"
		}
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
		th.Muted.Render("   budget ") + th.Bold.Render(common.Itoa(m.budget)) + th.Muted.Render(" (+/-)") +
		th.Muted.Render("   tokens ") + th.Bold.Render(tokensText(m.tokens)) + th.Muted.Render(" (T)")
	return []string{l1, l2, m.tabs()}
}

// tabs is the view tab line; tabX gives each tab's cells for clicks.
func (m *Model) tabs() string {
	th := m.ctx.Theme
	var b strings.Builder
	for v := range numViews {
		label := m.tabLabel(v)
		if v == m.view {
			b.WriteString(th.TabActive.Render("[" + label + "]"))
		} else {
			b.WriteString(th.Tab.Render(" " + label + " "))
		}
	}
	return b.String()
}

func (m *Model) tabLabel(v viewID) string {
	name := viewNames[v]
	if m.ctx.Width < 140 {
		name = shortViewNames[v]
	}
	return common.Itoa(int(v)+1) + " " + name
}

// tabAt is the view whose tab covers column x.
func (m *Model) tabAt(x int) (viewID, bool) {
	pos := 0
	for v := range numViews {
		w := lipgloss.Width(m.tabLabel(v)) + 2
		if x >= pos && x < pos+w {
			return v, true
		}
		pos += w
	}
	return 0, false
}

// statusLine shows the filter input, work in progress or the latest
// message on the left, and the view's position, selection, filter and sort
// on the right.
func (m *Model) statusLine() string {
	c := m.ctx
	th := c.Theme
	var left string
	switch {
	case m.filtering:
		left = m.filter.View()
	case m.jobs.busy():
		left = m.spinner.View() + " " + m.jobs.label() + "…"
		if m.jobs.isPending(jobRank) {
			left += th.Muted.Render(" (by " + string(c.Metric) + ")")
		}
		if m.status.Text != "" {
			// The latest message stays readable while work goes on.
			st := th.Muted
			if m.status.Err {
				st = th.Error
			}
			left += th.Muted.Render(" · ") + st.Render(m.status.Text)
		}
	case m.status.Err:
		left = th.Error.Render(m.status.Text)
	default:
		left = th.Muted.Render(m.status.Text)
	}
	right := strings.Join(m.position(), " · ")
	gap := c.Width - lipgloss.Width(left) - lipgloss.Width(right) - 1
	if gap < 1 {
		left = ansi.Truncate(left, max(c.Width-lipgloss.Width(right)-2, 0), "…")
		gap = max(c.Width-lipgloss.Width(left)-lipgloss.Width(right)-1, 1)
	}
	return left + strings.Repeat(" ", gap) + right
}

// counted is a view's table as the status line reads it.
type counted interface {
	filterable
	Len() int
	Total() int
	Cursor() int
	SortState() (string, bool)
}

// position is the cursor among the rows that pass the filter ("3/7 of
// 20"), the selection, filter and sort.
func (m *Model) position() []string {
	th := m.ctx.Theme
	var parts []string
	if r := m.run; r != nil {
		p := r.info.Progress
		parts = append(parts, th.Accent.Render(fmt.Sprintf("run %d/%d", p.Done+p.Failed, p.Total)))
	}
	t, ok := m.activeTable().(counted)
	if !ok {
		return parts
	}
	pos := fmt.Sprintf("%d/%d", min(t.Cursor()+1, t.Len()), t.Len())
	if t.Len() != t.Total() {
		pos += fmt.Sprintf(" of %d", t.Total())
	}
	parts = append(parts, pos)
	if n := m.sel.Len(); n > 0 && m.view.isRecs() {
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
	return parts
}

// handleMouse routes a mouse message: a click on a tab switches view;
// others go to the active view with body-relative coordinates.
func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	if m.dialog != nil || m.showHelp || m.ctx.TooSmall() {
		return nil
	}
	mouse := msg.Mouse()
	if click, ok := msg.(tea.MouseClickMsg); ok && mouse.Y == headerLines-1 && click.Button == tea.MouseLeft {
		if v, ok := m.tabAt(mouse.X); ok {
			return m.switchView(v)
		}
		return nil
	}
	top := headerLines + len(m.banners())
	if mouse.Y < top {
		return nil
	}
	rel := common.Relative(msg, 0, top)
	if m.showLog {
		return m.log.Update(rel)
	}
	return m.viewKey(rel)
}
