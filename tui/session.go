package tui

import (
	"fmt"
	"slices"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/tui/common"
	"perfpilot/tui/dialog"
)

func (m *Model) onSessions(msg sessionsMsg) tea.Cmd {
	if m.jobs.finish(jobSessions, msg.id) {
		if msg.err != nil {
			m.fail(msg.err)
		} else {
			m.sessions.SetSessions(msg.list)
		}
	}
	return nil
}

func (m *Model) onSessionSaved(msg sessionSavedMsg) tea.Cmd {
	if !m.jobs.finish(jobSession, msg.id) {
		return nil
	}
	switch {
	case msg.exists:
		name := msg.name
		m.dialog = dialog.NewConfirm(m.ctx, "Replace session?", fmt.Sprintf("A session named %q exists. Replace it?", name),
			func() tea.Cmd { return m.saveSession(name, true) }, func() tea.Cmd { m.say("not saved"); return nil })
		return nil
	case msg.err != nil:
		m.fail(msg.err)
		return nil
	}
	m.sessionName, m.sessionRep, m.sessionOff, m.dirty = msg.name, msg.report, msg.off, false
	m.keepSessionSel()
	st := fmt.Sprintf("saved session %q (%d selected)", msg.name, msg.selected)
	if n := len(msg.off); n > 0 {
		st += fmt.Sprintf(" · %d of them not in this ranking, kept after it", n)
	}
	m.say(st)
	return m.loadSessions()
}

// onSessionOpened shows a saved ranking as it was saved; rows measured
// since are marked and counted for the snapshot banner.
func (m *Model) onSessionOpened(msg sessionOpenedMsg) tea.Cmd {
	if !m.jobs.finish(jobSession, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.fail(msg.err)
		return nil
	}
	s := msg.session
	m.jobs.abandon(jobRank) // a ranking in flight must not replace the session's
	rep, off := splitSession(s.Report)
	m.sel.Clear()
	for _, i := range s.Selected {
		if i >= 0 && i < len(s.Report.Recommendations) {
			r := s.Report.Recommendations[i]
			m.sel.Add(r.Config(), r)
		}
	}
	if s.Params.Metric != "" {
		m.ctx.Metric = s.Params.Metric
	}
	if s.Params.Budget > 0 {
		m.budget = s.Params.Budget
	}
	m.tokens = [2]int{s.Params.PromptTokens, s.Params.OutputTokens}
	if s.Params.Template != "" {
		m.runTemplate = s.Params.Template
	}
	m.runExecutor = s.Params.Executor
	if len(m.opts.Placement) == 0 { // --placement wins over the stored one
		m.runPlacement, m.runPlacementFile = s.Params.Placement, s.Params.PlacementFile
	}
	m.setReport(rep)
	since := 0
	for _, r := range s.Report.Recommendations {
		if got, ok := m.measured[normKey(m.opts.Catalog, r.Config())]; ok && got.importedAt.After(s.UpdatedAt) {
			since++
		}
	}
	m.snapshot = &snapshotInfo{at: s.UpdatedAt, measuredSince: since}
	m.sessionName, m.sessionRep, m.sessionOff, m.dirty = s.Name, rep, off, false
	m.keepSessionSel()
	st := fmt.Sprintf("opened session %q: %d rows, %d selected", s.Name, len(rep.Recommendations), m.sel.Len())
	if n := m.recs.OffRanking(); n > 0 {
		st += fmt.Sprintf(" · %d not in its ranking — v shows them", n)
	}
	m.say(st)
	return m.switchView(viewRecs)
}

func (m *Model) onSessionChanged(msg sessionChangedMsg) tea.Cmd {
	if !m.jobs.finish(jobSession, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.fail(msg.err)
		return m.loadSessions()
	}
	switch msg.op {
	case "renamed":
		if m.sessionName == msg.from {
			m.sessionName = msg.to
		}
		m.say(fmt.Sprintf("renamed session %q to %q", msg.from, msg.to))
	case "deleted":
		if m.sessionName == msg.from {
			m.sessionName, m.sessionRep, m.sessionOff, m.snapshot = "", nil, nil, nil
			m.dirty = m.sel.Len() > 0
		}
		m.say(fmt.Sprintf("deleted session %q", msg.from))
	}
	return m.loadSessions()
}

// sessionAction opens, renames or deletes a session (asked by the Sessions
// view).
func (m *Model) sessionAction(a common.SessionActionMsg) tea.Cmd {
	name := a.Name
	switch a.Action {
	case "open":
		if n := m.sel.Len(); m.selectionUnsaved() && name != m.sessionName {
			m.dialog = dialog.NewConfirm(m.ctx, "Open session?", fmt.Sprintf("%d selected row(s) are not saved. Open %q and drop them?", n, name),
				func() tea.Cmd { return m.openSession(name) }, func() tea.Cmd { m.say("cancelled"); return nil })
			return nil
		}
		return m.openSession(name)
	case "rename":
		if m.refuseReadOnly("rename sessions") {
			return nil
		}
		m.dialog = dialog.NewPrompt(m.ctx, "Rename session "+name, "", name, func(to string) tea.Cmd {
			if to == name {
				m.say("name unchanged")
				return nil
			}
			return m.changeSession("renamed", name, to)
		}, func() tea.Cmd { m.say("cancelled"); return nil })
	case "delete":
		if m.refuseReadOnly("delete sessions") {
			return nil
		}
		m.dialog = dialog.NewConfirm(m.ctx, "Delete session?", fmt.Sprintf("Delete session %q? Its history rows are kept.", name),
			func() tea.Cmd { return m.changeSession("deleted", name, "") }, func() tea.Cmd { m.say("cancelled"); return nil })
	}
	return nil
}

// sessionRows is what saving the screen as a session stores: the ranking
// on screen followed by the selected rows not in it (rank 0), and the
// selected positions (recs.SessionRows). Rows that left the ranking stay
// selected in the session, so reopening it, x and export act on exactly
// the selection.
type sessionRows struct {
	report   *engine.Report
	selected []int
	off      []engine.Config // the rows after the ranking
}

func (m *Model) sessionRows() sessionRows {
	rows, sel := m.recs.SessionRows()
	rep := *m.report
	rep.Recommendations = rows
	var off []engine.Config
	for _, r := range rows[len(m.report.Recommendations):] {
		off = append(off, r.Config())
	}
	return sessionRows{report: &rep, selected: sel, off: off}
}

// keepSessionSel records the selection as the open session's.
func (m *Model) keepSessionSel() {
	m.sessionSel = map[engine.Config]bool{}
	for _, k := range m.sel.Keys() {
		m.sessionSel[k] = true
	}
}

// selectionUnsaved: rows are selected and no session stores that selection.
func (m *Model) selectionUnsaved() bool {
	if m.sel.Len() == 0 {
		return false
	}
	if m.sessionName == "" || len(m.sessionSel) != m.sel.Len() {
		return true
	}
	for _, k := range m.sel.Keys() {
		if !m.sessionSel[k] {
			return true
		}
	}
	return false
}

// sessionHolds reports whether the open session stores exactly the rows
// sessionRows would save (only its selection may differ).
func (m *Model) sessionHolds(snap sessionRows) bool {
	return m.sessionName != "" && m.report == m.sessionRep && slices.Equal(snap.off, m.sessionOff)
}

// splitSession separates a saved report's ranking from the rows saved
// after it (rank 0: selected rows that were not in the ranking).
func splitSession(saved *engine.Report) (*engine.Report, []engine.Config) {
	if !slices.ContainsFunc(saved.Recommendations, func(r engine.Recommendation) bool { return r.Rank <= 0 }) {
		return saved, nil
	}
	rep := *saved
	rep.Recommendations = nil
	var off []engine.Config
	for _, r := range saved.Recommendations {
		if r.Rank > 0 {
			rep.Recommendations = append(rep.Recommendations, r)
		} else {
			off = append(off, r.Config())
		}
	}
	return &rep, off
}
