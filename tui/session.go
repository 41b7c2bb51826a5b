package tui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

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
	m.sessionName, m.sessionRep, m.dirty = msg.name, msg.report, false
	st := fmt.Sprintf("saved session %q (%d selected)", msg.name, len(m.recs.SelectedIndexes()))
	if n := m.recs.OffRanking(); n > 0 {
		st += fmt.Sprintf(" · %d selected row(s) not in this ranking are not in the session", n)
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
	m.runExecutor, m.runPlacement, m.runPlacementFile = s.Params.Executor, s.Params.Placement, s.Params.PlacementFile
	m.setReport(s.Report)
	since := 0
	for _, r := range s.Report.Recommendations {
		if got, ok := m.measured[normKey(m.opts.Catalog, r.Config())]; ok && got.importedAt.After(s.UpdatedAt) {
			since++
		}
	}
	m.snapshot = &snapshotInfo{at: s.UpdatedAt, measuredSince: since}
	m.sessionName, m.sessionRep, m.dirty = s.Name, s.Report, false
	m.say(fmt.Sprintf("opened session %q: %d rows, %d selected", s.Name, len(s.Report.Recommendations), m.sel.Len()))
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
			m.sessionName, m.sessionRep, m.snapshot = "", nil, nil
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
		if n := m.sel.Len(); m.dirty && n > 0 && name != m.sessionName {
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
