package tui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
)

// Actions started by keys: switching views and metrics, the budget, and
// opening the quit, export and save dialogs.

func (m *Model) currentRec() (rec, bool) {
	if m.ctx.View == viewMismatches {
		return m.mism.Current()
	}
	return m.recs.Current()
}

func (m *Model) reportMetric() engine.Metric {
	if m.report != nil && m.report.OptimizationMetric != "" {
		return m.report.OptimizationMetric
	}
	return m.ctx.Metric
}

// requestDetail ranks hardware for the row under the cursor.
func (m *Model) requestDetail() tea.Cmd {
	r, ok := m.currentRec()
	if !ok {
		m.detail = rankingView{}
		return nil
	}
	return m.startRanking(jobDetail, r.Config(), m.reportMetric())
}

func (m *Model) switchView(v viewID) tea.Cmd {
	if m.filtering {
		m.filtering = false
		m.filter.Blur()
	}
	m.ctx.View = v
	m.filter.SetValue(m.activeTable().Filter())
	m.layout()
	switch v {
	case viewHardware:
		if !m.hwInit {
			m.initHardwarePick()
		}
		return m.requestHardware()
	case viewRecs, viewMismatches:
		return m.followCursor()
	}
	return nil
}

func (m *Model) setMetric(metric engine.Metric) tea.Cmd {
	if metric == m.ctx.Metric && m.report != nil && m.report.OptimizationMetric == metric && !m.isPending(jobRank) {
		m.setStatus("already ranked by " + string(metric))
		return nil
	}
	m.ctx.Metric = metric
	m.setStatus("re-ranking by " + string(metric) + "…")
	cmds := []tea.Cmd{m.startRank(false)}
	if m.hwInit {
		cmds = append(cmds, m.requestHardware())
	}
	return tea.Batch(cmds...)
}

func (m *Model) isPending(kind jobKind) bool { _, ok := m.pending[kind]; return ok }

func (m *Model) setBudget(b int) tea.Cmd {
	if b < 1 {
		m.setStatus("the budget cannot go below 1")
		return nil
	}
	m.budget = b
	m.setStatus(fmt.Sprintf("budget %d: re-ranking…", b))
	return m.startRank(false)
}

// quit leaves at once, or asks first when a selection is unsaved.
func (m *Model) quit() tea.Cmd {
	if n := len(m.sel); m.dirty && n > 0 {
		m.dialog = &confirmDialog{title: "Quit?",
			body:  fmt.Sprintf("%d selected row(s) are not saved in a session (ctrl+s saves). Quit anyway?", n),
			onYes: func() tea.Cmd { return tea.Quit }}
		return nil
	}
	return tea.Quit
}

// exportRowsNow are the rows e exports: the selection, else the cursor row.
func (m *Model) exportRowsNow() []rec {
	if rows := m.recs.Selected(); len(rows) > 0 {
		return rows
	}
	if r, ok := m.currentRec(); ok {
		return []rec{r}
	}
	return nil
}

func (m *Model) openExport() tea.Cmd {
	if m.ctx.View != viewRecs && m.ctx.View != viewMismatches {
		m.setStatus("export works on recommendations (views 1 and 2)")
		return nil
	}
	rows := m.exportRowsNow()
	if m.report == nil || len(rows) == 0 {
		m.setStatus("nothing to export yet")
		return nil
	}
	m.dialog = newExportDialog(rows, len(m.recs.Selected()) == 0, m.exportFileName(exportJSON))
	return nil
}

func (m *Model) openSave() tea.Cmd {
	if m.report == nil {
		m.setStatus("nothing to save yet")
		return nil
	}
	current := m.sessionName
	m.dialog = newPrompt("Save session as", "Saves the ranking, its parameters and the selected rows.", current,
		func(name string) tea.Cmd { return m.saveSession(name, name == current) })
	return nil
}
