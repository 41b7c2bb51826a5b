package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
)

// Update routes messages: sizes and theme first, then keys (focused input,
// open dialog, global keys, active view), then answers from background work.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.ctx.Width, m.ctx.Height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		m.setTheme(NewTheme(msg.IsDark(), m.opts.NoColor))
		return m, nil
	case spinner.TickMsg:
		if !m.busy() {
			return m, nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		if in := m.focusedInput(); in != nil {
			var cmd tea.Cmd
			*in, cmd = in.Update(msg)
			m.afterFilterEdit()
			return m, cmd
		}
		return m, nil
	case rankedMsg:
		return m, m.onRanked(msg)
	case rankingMsg:
		return m, m.onRanking(msg)
	case importedMsg:
		return m, m.onImported(msg)
	case exportedMsg:
		return m, m.onExported(msg)
	case sessionsMsg:
		if m.finish(jobSessions, msg.id) {
			if msg.err != nil {
				m.setError(msg.err)
			} else {
				m.sessions.SetItems(msg.list)
			}
		}
		return m, nil
	case sessionSavedMsg:
		return m, m.onSessionSaved(msg)
	case sessionOpenedMsg:
		return m, m.onSessionOpened(msg)
	case sessionChangedMsg:
		return m, m.onSessionChanged(msg)
	case runPreparedMsg, runEventMsg, runTickMsg, runFinishedMsg:
		return m, m.onRunMsg(msg)
	}
	return m, nil
}

func (m *Model) setTheme(th *Theme) {
	m.ctx.Theme = th
	m.help.Styles = th.Help
	m.layout()
}

func (m *Model) setStatus(s string) { m.status, m.statusErr = s, false }

func (m *Model) setError(err error) {
	m.status, m.statusErr = "error: "+strings.ReplaceAll(err.Error(), "\n", " · "), true
}

// focusedInput is the text input that gets keys first, if any.
func (m *Model) focusedInput() *textinput.Model {
	if m.filtering {
		return &m.filter
	}
	if m.dialog != nil {
		return m.dialog.input()
	}
	return nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	// 1. A focused text input: the filter line.
	if m.filtering {
		switch {
		case msg.String() == "esc":
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.activeTable().SetFilter("")
			return m.followCursor()
		case msg.String() == "enter":
			m.filtering = false
			m.filter.Blur()
			return nil
		}
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.afterFilterEdit()
		return cmd
	}
	// 2. An open dialog (which routes to its own input).
	if m.dialog != nil {
		return m.updateDialog(msg)
	}
	if m.showHelp {
		switch {
		case key.Matches(msg, k.Help, k.Clear):
			m.showHelp = false
			return nil
		case key.Matches(msg, k.Quit):
			m.showHelp = false
		default:
			return nil
		}
	}
	// 3. A run in progress: esc and ctrl+c ask to stop it, q to stop it
	// and quit.
	if m.run != nil {
		switch {
		case msg.String() == "esc" || msg.String() == "ctrl+c":
			return m.askStopRun(false)
		case key.Matches(msg, k.Quit):
			return m.askStopRun(true)
		}
	}
	// 4. Global keys.
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, k.View1):
		return m.switchView(viewRecs)
	case key.Matches(msg, k.View2):
		return m.switchView(viewMismatches)
	case key.Matches(msg, k.View3):
		return m.switchView(viewHardware)
	case key.Matches(msg, k.View4):
		return m.switchView(viewBenchmarks)
	case key.Matches(msg, k.View5):
		return m.switchView(viewSessions)
	case key.Matches(msg, k.NextView):
		return m.switchView((m.ctx.View + 1) % numViews)
	case key.Matches(msg, k.PrevView):
		return m.switchView((m.ctx.View + numViews - 1) % numViews)
	case key.Matches(msg, k.Throughput):
		return m.setMetric(engine.Throughput)
	case key.Matches(msg, k.Latency):
		return m.setMetric(engine.Latency)
	case key.Matches(msg, k.Memory):
		return m.setMetric(engine.Memory)
	case key.Matches(msg, k.BudgetUp):
		return m.setBudget(m.budget + 1)
	case key.Matches(msg, k.BudgetDown):
		return m.setBudget(m.budget - 1)
	case key.Matches(msg, k.Filter):
		m.filtering = true
		m.filter.SetValue(m.activeTable().Filter())
		m.filter.CursorEnd()
		return m.filter.Focus()
	case key.Matches(msg, k.Sort):
		m.activeTable().CycleSort()
		return m.followCursor()
	case key.Matches(msg, k.SortReverse):
		m.activeTable().ReverseSort()
		return m.followCursor()
	case key.Matches(msg, k.Select):
		t := m.activeTable()
		if t.Len() > 0 {
			t.ToggleSelect()
			m.selectionChanged()
		}
		return m.followCursor()
	case key.Matches(msg, k.SelectAll):
		m.activeTable().SelectAll()
		m.selectionChanged()
		return nil
	case key.Matches(msg, k.Clear):
		t := m.activeTable()
		switch {
		case t.Filter() != "":
			t.SetFilter("")
			m.filter.SetValue("")
			return m.followCursor()
		case t.SelectionLen() > 0:
			t.ClearSelection()
			m.selectionChanged()
			m.setStatus("selection cleared")
		case m.detailOpen:
			m.detailOpen = false
			m.layout()
		}
		return nil
	case key.Matches(msg, k.Export):
		return m.openExport()
	case key.Matches(msg, k.Run):
		return m.openRun()
	case key.Matches(msg, k.Save):
		return m.openSave()
	case key.Matches(msg, k.Recompute):
		m.setStatus("recomputing from the database…")
		return tea.Batch(m.startRank(true), m.loadSessions())
	case key.Matches(msg, k.Import):
		m.dialog = newPrompt("Import results", "CSV or JSON file; a file with any bad row is rejected whole.", "",
			func(path string) tea.Cmd { return m.importFile(path) })
		return nil
	}
	// 5. The active view.
	return m.viewKey(msg)
}

func (m *Model) afterFilterEdit() {
	if m.filtering {
		m.activeTable().SetFilter(m.filter.Value())
	}
}

func (m *Model) selectionChanged() {
	if m.activeTable() == tableOps(m.recs) || m.activeTable() == tableOps(m.mism) {
		m.dirty = true
	}
}

// viewKey handles movement and the active view's own keys.
func (m *Model) viewKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	t := m.activeTable()
	switch {
	case key.Matches(msg, k.Up):
		t.Move(-1)
	case key.Matches(msg, k.Down):
		t.Move(1)
	case key.Matches(msg, k.Top):
		t.Top()
	case key.Matches(msg, k.Bottom):
		t.Bottom()
	case key.Matches(msg, k.PageUp):
		t.Move(-t.PageSize())
	case key.Matches(msg, k.PageDown):
		t.Move(t.PageSize())
	default:
		switch m.ctx.View {
		case viewRecs, viewMismatches:
			if key.Matches(msg, k.Detail) {
				m.detailOpen = !m.detailOpen
				m.layout()
				if m.detailOpen {
					return m.requestDetail()
				}
			}
		case viewHardware:
			return m.hardwareKey(msg)
		case viewSessions:
			return m.sessionKey(msg)
		}
		return nil
	}
	return m.followCursor()
}

// followCursor refreshes what depends on the row under the cursor.
func (m *Model) followCursor() tea.Cmd {
	if m.detailOpen && (m.ctx.View == viewRecs || m.ctx.View == viewMismatches) {
		return m.requestDetail()
	}
	return nil
}
