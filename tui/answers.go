package tui

import (
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
)

// Handlers for the answers of background work.

// onRanked applies a fresh ranking; stale ones are dropped.
func (m *Model) onRanked(msg rankedMsg) tea.Cmd {
	if !m.finish(jobRank, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.setError(msg.err)
		m.runNote, m.runNoteErr = "", false
		return nil
	}
	var cmds []tea.Cmd
	if msg.reloaded {
		m.results, m.pred, m.needReload = msg.results, msg.pred, false
		clear(m.rankCache)
		m.bench.SetItems(msg.results)
		m.hwSpace = engine.DefaultSpace(m.opts.Catalog).WithMeasured(msg.pred.Results())
		if m.hwInit {
			cmds = append(cmds, m.requestHardware())
		}
	}
	dropped := m.setReport(msg.report)
	if m.sessionName != "" && len(m.sel) > 0 {
		m.dirty = true
	}
	st := fmt.Sprintf("ranked %d of %d candidates by %s", len(msg.report.Recommendations), msg.report.TotalCandidates, msg.report.OptimizationMetric)
	if m.runNote != "" {
		// The ranking refreshed after a run: its summary stays in view.
		st = m.runNote + " · ranking refreshed"
	}
	if dropped > 0 {
		st += fmt.Sprintf(" · %d selected row(s) left the ranking", dropped)
	}
	m.setStatus(st)
	if m.runNote != "" {
		m.statusErr = m.runNoteErr
		m.runNote, m.runNoteErr = "", false
	}
	if m.detailOpen {
		cmds = append(cmds, m.requestDetail())
	}
	return tea.Batch(cmds...)
}

// setReport shows a report and prunes the selection to its rows; it returns
// how many selected rows were dropped.
func (m *Model) setReport(rep *engine.Report) int {
	m.report = rep
	metric := rep.OptimizationMetric
	m.recs.SetColumns(recColumns(metric, m.measured))
	m.recs.SetItems(rep.Recommendations)
	m.mism.SetColumns(mismatchColumns(metric, m.measured))
	m.mism.SetItems(mismatches(rep.Recommendations))
	keep := map[string]bool{}
	for _, r := range rep.Recommendations {
		keep[recID(r)] = true
	}
	dropped := 0
	for id := range m.sel {
		if !keep[id] {
			delete(m.sel, id)
			dropped++
		}
	}
	m.layout()
	return dropped
}

func (m *Model) onRanking(msg rankingMsg) tea.Cmd {
	if !m.finish(msg.kind, msg.id) {
		return nil
	}
	var nh *engine.NoHardwareError
	if msg.ranking != nil && (msg.err == nil || errors.As(msg.err, &nh)) {
		m.rankCache[msg.key] = msg.ranking
	}
	m.setRanking(msg.kind, rankingView{key: msg.key, ranking: msg.ranking, err: msg.err})
	return nil
}

func (m *Model) onImported(msg importedMsg) tea.Cmd {
	if !m.finish(jobImport, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.dialog = &messageDialog{title: "Import failed: nothing was imported", body: msg.err.Error(), isErr: true}
		m.setStatus("import failed: nothing was imported")
		return nil
	}
	st := fmt.Sprintf("imported %d result(s) from %s", msg.added, msg.path)
	if msg.dups > 0 {
		st += fmt.Sprintf(", %d duplicate(s) skipped", msg.dups)
	}
	if msg.parsed != nil && len(msg.parsed.UnknownColumns) > 0 {
		st += "; ignored columns: " + strings.Join(msg.parsed.UnknownColumns, ", ")
	}
	m.setStatus(st)
	return m.startRank(true)
}

func (m *Model) onExported(msg exportedMsg) tea.Cmd {
	if !m.finish(jobExport, msg.id) {
		return nil
	}
	switch {
	case msg.exists:
		rep, rows, format, path := msg.report, msg.data, msg.format, msg.path
		m.dialog = &confirmDialog{title: "Overwrite?", body: path + " already exists. Replace it?",
			onYes: func() tea.Cmd { return m.exportRows(rep, rows, format, path, true) },
			onNo:  func() tea.Cmd { m.setStatus("export cancelled: " + path + " left as it was"); return nil }}
	case msg.err != nil:
		m.setError(msg.err)
	default:
		m.setStatus(fmt.Sprintf("exported %d row(s) as %s to %s", msg.rows, exportNames[msg.format], msg.path))
	}
	return nil
}

func (m *Model) onSessionSaved(msg sessionSavedMsg) tea.Cmd {
	if !m.finish(jobSession, msg.id) {
		return nil
	}
	switch {
	case msg.exists:
		name := msg.name
		m.dialog = &confirmDialog{title: "Replace session?", body: fmt.Sprintf("A session named %q exists. Replace it?", name),
			onYes: func() tea.Cmd { return m.saveSession(name, true) }}
		return nil
	case msg.err != nil:
		m.setError(msg.err)
		return nil
	}
	m.sessionName, m.sessionReport, m.dirty = msg.name, msg.report, false
	m.setStatus(fmt.Sprintf("saved session %q (%d selected)", msg.name, len(m.sel)))
	return m.loadSessions()
}

func (m *Model) onSessionOpened(msg sessionOpenedMsg) tea.Cmd {
	if !m.finish(jobSession, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.setError(msg.err)
		return nil
	}
	s := msg.session
	m.abandon(jobRank) // a ranking in flight must not replace the session's
	clear(m.sel)
	for _, i := range s.Selected {
		if i >= 0 && i < len(s.Report.Recommendations) {
			m.sel[recID(s.Report.Recommendations[i])] = struct{}{}
		}
	}
	if s.Report.Recommendations == nil {
		s.Report.Recommendations = []rec{}
	}
	m.setReport(s.Report)
	if s.Params.Metric != "" {
		m.ctx.Metric = s.Params.Metric
	}
	if s.Params.Budget > 0 {
		m.budget = s.Params.Budget
	}
	m.sessionName, m.sessionReport, m.dirty = s.Name, s.Report, false
	m.setStatus(fmt.Sprintf("opened session %q: %d rows, %d selected", s.Name, len(s.Report.Recommendations), len(m.sel)))
	return m.switchView(viewRecs)
}

func (m *Model) onSessionChanged(msg sessionChangedMsg) tea.Cmd {
	if !m.finish(jobSession, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.setError(msg.err)
		return m.loadSessions()
	}
	switch msg.op {
	case "renamed":
		if m.sessionName == msg.from {
			m.sessionName = msg.to
		}
		m.setStatus(fmt.Sprintf("renamed session %q to %q", msg.from, msg.to))
	case "deleted":
		if m.sessionName == msg.from {
			m.sessionName, m.sessionReport = "", nil
			m.dirty = len(m.sel) > 0
		}
		m.setStatus(fmt.Sprintf("deleted session %q", msg.from))
	}
	return m.loadSessions()
}
