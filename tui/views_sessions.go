package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"perfpilot/store"
)

// sessionKey handles the Sessions view's keys.
func (m *Model) sessionKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	s, ok := m.sessions.Current()
	if !ok {
		return nil
	}
	switch {
	case key.Matches(msg, k.OpenSession):
		if n := len(m.sel); m.dirty && n > 0 && s.Name != m.sessionName {
			name := s.Name
			m.dialog = &confirmDialog{title: "Open session?",
				body:  fmt.Sprintf("%d selected row(s) are not saved. Open %q and drop them?", n, name),
				onYes: func() tea.Cmd { return m.openSession(name) }}
			return nil
		}
		return m.openSession(s.Name)
	case key.Matches(msg, k.RenameSession):
		from := s.Name
		m.dialog = newPrompt("Rename session "+from, "", from, func(to string) tea.Cmd {
			if to == from {
				m.setStatus("name unchanged")
				return nil
			}
			return m.renameSession(from, to)
		})
	case key.Matches(msg, k.DeleteSession):
		name := s.Name
		m.dialog = &confirmDialog{title: "Delete session?",
			body:  fmt.Sprintf("Delete session %q? Its history rows are kept.", name),
			onYes: func() tea.Cmd { return m.deleteSession(name) }}
	}
	return nil
}

type sessionInfo = store.SessionInfo

func sessionID(s sessionInfo) string     { return s.Name }
func sessionSearch(s sessionInfo) string { return s.Name + " " + string(s.Metric) }

// sessionColumns are the Sessions view's columns.
func sessionColumns() []Column[sessionInfo] {
	ts := func(s sessionInfo) string { return s.UpdatedAt.UTC().Format("2006-01-02 15:04") }
	return []Column[sessionInfo]{
		{Title: "Name", Width: 16, Flex: true, Cell: func(s sessionInfo) string { return s.Name }, Cmp: func(a, b sessionInfo) int { return cmpS(a.Name, b.Name) }},
		{Title: "Metric", Width: 10, Cell: func(s sessionInfo) string { return string(s.Metric) }, Cmp: func(a, b sessionInfo) int { return cmpS(string(a.Metric), string(b.Metric)) }},
		{Title: "Budget", Width: 6, Right: true, Cell: func(s sessionInfo) string { return itoa(s.Budget) }, Cmp: func(a, b sessionInfo) int { return a.Budget - b.Budget }},
		{Title: "Rows", Width: 5, Right: true, Cell: func(s sessionInfo) string { return itoa(s.Rows) }, Cmp: func(a, b sessionInfo) int { return a.Rows - b.Rows }},
		{Title: "Selected", Width: 8, Right: true, Cell: func(s sessionInfo) string { return itoa(s.Selected) }, Cmp: func(a, b sessionInfo) int { return a.Selected - b.Selected }},
		{Title: "Updated", Width: 16, Cell: ts, Cmp: func(a, b sessionInfo) int { return a.UpdatedAt.Compare(b.UpdatedAt) }},
		{Title: "Created", Width: 16, Secondary: true, Cell: func(s sessionInfo) string { return s.CreatedAt.UTC().Format("2006-01-02 15:04") },
			Cmp: func(a, b sessionInfo) int { return a.CreatedAt.Compare(b.CreatedAt) }},
	}
}

func (m *Model) sessionsBody() string {
	th := m.ctx.Theme
	n := m.sessions.Total()
	line := fmt.Sprintf(" %d saved session(s) · ", n) + th.Muted.Render("enter open · n rename · d delete · ctrl+s saves the current ranking")
	return line + "\n" + m.sessions.View("no saved sessions yet (ctrl+s saves the current ranking)")
}
