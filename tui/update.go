package tui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/tui/common"
)

// Update routes messages: sizes and theme, input, then answers from
// background work and requests from components.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, tea.Batch(cmd, m.expireStatus())
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.ctx.Width, m.ctx.Height = msg.Width, msg.Height
		m.layout()
	case tea.BackgroundColorMsg:
		m.ctx.Theme = common.NewTheme(msg.IsDark(), m.opts.NoColor)
		m.help.Styles = m.ctx.Theme.Help
	case spinner.TickMsg:
		if m.jobs.busy() {
			var cmd tea.Cmd
			m.spinner, cmd = m.spinner.Update(msg)
			return cmd
		}
	case statusExpiredMsg:
		if msg.seq == m.statusSeq {
			m.status.Text = ""
		}
	case tea.KeyPressMsg:
		cmd := m.handleKey(msg)
		m.layout()
		return cmd
	case tea.PasteMsg:
		if in := m.focusedInput(); in != nil {
			var cmd tea.Cmd
			*in, cmd = in.Update(msg)
			m.afterFilterEdit()
			return cmd
		}
	case tea.MouseMsg:
		return m.handleMouse(msg)
	default:
		return m.onResult(msg)
	}
	return nil
}

// onResult handles answers from background work and components' requests.
func (m *Model) onResult(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case rankedMsg:
		return m.onRanked(msg)
	case rankingMsg:
		return m.onRanking(msg)
	case overviewMsg:
		return m.onOverview(msg)
	case paretoMsg:
		return m.onPareto(msg)
	case importedMsg:
		return m.onImported(msg)
	case exportedMsg:
		return m.onExported(msg)
	case sessionsMsg:
		return m.onSessions(msg)
	case sessionSavedMsg:
		return m.onSessionSaved(msg)
	case sessionOpenedMsg:
		return m.onSessionOpened(msg)
	case sessionChangedMsg:
		return m.onSessionChanged(msg)
	case logReadMsg:
		return m.onLogRead(msg)
	case runPreparedMsg, runEventMsg, runTickMsg, runFinishedMsg:
		return m.onRunMsg(msg)
	case common.ToggleDetailMsg:
		m.detailOpen = !m.detailOpen
		m.layout()
		if m.detailOpen {
			return m.requestDetail()
		}
	case common.OpenLogMsg:
		return m.readLog(msg.Title, msg.Path)
	case common.RankHardwareMsg:
		return m.startRanking(jobHardware, keyOf(engine.Config{Model: msg.Model, BatchSize: msg.Batch, Precision: msg.Precision}, m.ctx.Metric))
	case common.OverviewMsg:
		return m.startOverview()
	case common.SessionActionMsg:
		return m.sessionAction(msg)
	case common.ExcludeMsg:
		return m.setExcluded(msg)
	case excludedMsg:
		return m.onExcluded(msg)
	}
	return nil
}

// handleKey gives a key to the innermost thing open first: a dialog, the
// help screen, the log panel, the filter input; then global keys; then esc
// closes the detail pane, clears the filter, then the selection; else the
// active view gets the key. Quitting never happens from an overlay.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	switch {
	case m.dialog != nil:
		cmd, done := m.dialog.Update(msg)
		if done {
			m.dialog = nil
		}
		return cmd
	case m.showHelp:
		if key.Matches(msg, k.Help, k.Back, k.Quit) {
			m.showHelp = false
		}
		return nil
	case m.filtering:
		return m.filterKey(msg)
	case m.showLog:
		if key.Matches(msg, k.Log, k.Back, k.Quit) {
			m.showLog = false
			return nil
		}
		return m.log.Update(msg)
	}
	if m.run != nil && key.Matches(msg, k.Quit) {
		// ctrl+c stops the run; q stops it and quits.
		return m.askStopRun(!key.Matches(msg, k.Interrupt))
	}
	if cmd, ok := m.globalKey(msg); ok {
		return cmd
	}
	if key.Matches(msg, k.Back) {
		return m.back()
	}
	return m.viewKey(msg)
}

// back is esc outside overlays: detail pane, filter, selection, then (in
// a run) the question to stop it.
func (m *Model) back() tea.Cmd {
	t := m.activeTable()
	switch {
	case m.detailOpen && m.view.isRecs():
		m.detailOpen = false
	case m.runDone:
		m.runDone = false
	case t != nil && t.Filter() != "":
		t.SetFilter("")
		m.filter.SetValue("")
		return m.followCursor()
	case m.view.isRecs() && m.recs.ShowingSelection():
		m.recs.ShowSelection(false)
	case m.view.isRecs() && m.sel.Len() > 0:
		m.recs.ClearSelection()
		m.dirty = true
		m.say("selection cleared")
	case m.run != nil:
		return m.askStopRun(false)
	}
	return nil
}

func (m *Model) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Back):
		m.filtering = false
		m.filter.Blur()
		m.filter.SetValue("")
		if t := m.activeTable(); t != nil {
			t.SetFilter("")
		}
		return m.followCursor()
	case key.Matches(msg, k.Accept):
		m.filtering = false
		m.filter.Blur()
		return nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.afterFilterEdit()
	return tea.Batch(cmd, m.followCursor())
}

// globalKey handles the keys that work in every view.
func (m *Model) globalKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.ctx.Keys
	for i, b := range k.Views {
		if key.Matches(msg, b) {
			return m.switchView(viewID(i)), true
		}
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit(), true
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Log):
		m.showLog = true
	case key.Matches(msg, k.NextView):
		return m.switchView((m.view + 1) % numViews), true
	case key.Matches(msg, k.PrevView):
		return m.switchView((m.view + numViews - 1) % numViews), true
	case key.Matches(msg, k.Throughput):
		return m.setMetric(engine.Throughput), true
	case key.Matches(msg, k.Latency):
		return m.setMetric(engine.Latency), true
	case key.Matches(msg, k.Memory):
		return m.setMetric(engine.Memory), true
	case key.Matches(msg, k.BudgetUp):
		return m.setBudget(m.budget + 1), true
	case key.Matches(msg, k.BudgetDown):
		return m.setBudget(m.budget - 1), true
	case key.Matches(msg, k.Tokens):
		return m.openTokens(), true
	case key.Matches(msg, k.Filter):
		return m.startFilter(), true
	case key.Matches(msg, k.Export):
		return m.openExport(), true
	case key.Matches(msg, k.Run):
		return m.openRun(), true
	case key.Matches(msg, k.Save):
		return m.openSave(), true
	case key.Matches(msg, k.Recompute):
		m.say("recomputing from the database…")
		return tea.Batch(m.startRank(true), m.loadSessions()), true
	case key.Matches(msg, k.Import):
		return m.openImport(), true
	default:
		return nil, false
	}
	return nil, true
}

// viewKey gives a key to the active view and follows its cursor.
func (m *Model) viewKey(msg tea.Msg) tea.Cmd {
	before, _ := m.currentRec()
	n := m.sel.Len()
	cmd := m.views[m.view].Update(msg)
	if m.view.isRecs() {
		m.dirty = m.dirty || m.sel.Len() != n
		if after, ok := m.currentRec(); ok && after.Config() != before.Config() {
			return tea.Batch(cmd, m.followCursor())
		}
	}
	return cmd
}
