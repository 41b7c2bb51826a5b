// Package sessions is the Sessions view: saved rankings to open, rename or
// delete.
package sessions

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"perfpilot/store"
	"perfpilot/tui/common"
	"perfpilot/tui/table"
)

type info = store.SessionInfo
type column = table.Column[info]

// Model is the view.
type Model struct {
	ctx *common.Context
	tbl *table.Model[string, info]
}

// New makes the view.
func New(ctx *common.Context) *Model {
	return &Model{ctx: ctx, tbl: table.New(ctx, Columns(), func(s info) string { return s.Name },
		func(s info) string { return s.Name + " " + string(s.Metric) })}
}

// SetSessions shows the list.
func (m *Model) SetSessions(list []info) { m.tbl.SetRows(list) }

// Names lists the sessions in natural order.
func (m *Model) Names() []string {
	var out []string
	for _, s := range m.tbl.Rows() {
		out = append(out, s.Name)
	}
	return out
}

// Table is the view's table, for the status line.
func (m *Model) Table() *table.Model[string, info] { return m.tbl }

func (m *Model) SetSize(w, h int) { m.tbl.SetSize(w, h-1) }

// Update asks the root to open, rename or delete the session under the
// cursor; other keys move in the table.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k := m.ctx.Keys
	if kp, ok := msg.(tea.KeyPressMsg); ok {
		s, have := m.tbl.Current()
		for _, a := range []struct {
			b    key.Binding
			name string
		}{{k.OpenSession, "open"}, {k.RenameSession, "rename"}, {k.DeleteSession, "delete"}} {
			if key.Matches(kp, a.b) {
				if !have {
					return nil
				}
				return common.Cmd(common.SessionActionMsg{Action: a.name, Name: s.Name})
			}
		}
	}
	m.tbl.Update(common.Relative(msg, 0, 1))
	return nil
}

// View renders a summary line and the table.
func (m *Model) View() string {
	th := m.ctx.Theme
	line := fmt.Sprintf(" %d saved session(s) · ", m.tbl.Total()) + th.Muted.Render("enter open · n rename · d delete · ctrl+s saves the current ranking")
	return line + "\n" + m.tbl.View("No saved sessions yet — ctrl+s saves the ranking on screen with its selection.")
}

func (m *Model) ShortHelp() []key.Binding {
	k := m.ctx.Keys
	return []key.Binding{k.OpenSession, k.RenameSession, k.DeleteSession}
}

func (m *Model) FullHelp() [][]key.Binding {
	k := m.ctx.Keys
	return [][]key.Binding{m.tbl.KeyBindings(), {k.OpenSession, k.RenameSession, k.DeleteSession}}
}

// Columns are the view's columns.
func Columns() []column {
	return []column{
		{Title: "Name", Width: 16, Flex: true, Cell: func(s info) string { return s.Name }, Cmp: func(a, b info) int { return common.CmpS(a.Name, b.Name) }},
		{Title: "Metric", Width: 10, Cell: func(s info) string { return string(s.Metric) }, Cmp: func(a, b info) int { return common.CmpS(string(a.Metric), string(b.Metric)) }},
		{Title: "Budget", Width: 6, Right: true, Cell: func(s info) string { return common.Itoa(s.Budget) }, Cmp: func(a, b info) int { return a.Budget - b.Budget }},
		{Title: "Rows", Width: 5, Right: true, Cell: func(s info) string { return common.Itoa(s.Rows) }, Cmp: func(a, b info) int { return a.Rows - b.Rows }},
		{Title: "Selected", Width: 8, Right: true, Cell: func(s info) string { return common.Itoa(s.Selected) }, Cmp: func(a, b info) int { return a.Selected - b.Selected }},
		{Title: "Updated", Width: 16, Cell: func(s info) string { return s.UpdatedAt.UTC().Format("2006-01-02 15:04") }, Cmp: func(a, b info) int { return a.UpdatedAt.Compare(b.UpdatedAt) }},
		{Title: "Created", Width: 16, Secondary: true, Cell: func(s info) string { return s.CreatedAt.UTC().Format("2006-01-02 15:04") },
			Cmp: func(a, b info) int { return a.CreatedAt.Compare(b.CreatedAt) }},
	}
}
