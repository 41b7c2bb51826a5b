package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/store"
	"perfpilot/tui/common"
	"perfpilot/tui/detail"
	"perfpilot/tui/dialog"
)

// Handlers for the answers of background work.

type rec = engine.Recommendation

// onRanked applies a fresh ranking; stale ones are dropped.
func (m *Model) onRanked(msg rankedMsg) tea.Cmd {
	if !m.jobs.finish(jobRank, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.fail(msg.err)
		m.runNote = nil
		return nil
	}
	var cmds []tea.Cmd
	if msg.reloaded {
		m.results, m.pred, m.needReload = msg.results, msg.pred, false
		m.measured = msg.measured
		m.ctx.DataVersion++
		m.ctx.Anomalies = common.NewAnomalies(m.opts.Catalog, msg.pred.Flags())
		clear(m.rankCache)
		m.bench.SetResults(msg.results)
		m.space = engine.DefaultSpace(m.opts.Catalog).WithMeasured(msg.pred.Results())
		m.hw.SetSpace(m.space)
		m.overview.SetSpace(m.space)
		cmds = append(cmds, m.refreshView())
	}
	m.snapshot = nil
	m.setReport(msg.report)
	if m.sessionName != "" && m.sel.Len() > 0 {
		m.dirty = true
	}
	rep := msg.report
	st := fmt.Sprintf("ranked %d of %d candidates by %s", len(rep.Recommendations), rep.TotalCandidates, rep.OptimizationMetric)
	if n := m.recs.OffRanking(); n > 0 {
		st += fmt.Sprintf(" · %d selected not in the top %d — v shows them", n, len(rep.Recommendations))
	}
	if m.runNote != nil {
		// The ranking refreshed after a run: its summary stays in view.
		e := *m.runNote
		e.Text += " · ranking refreshed"
		m.setStatus(e)
		m.runNote = nil
	} else {
		m.say(st)
	}
	if m.detailOpen {
		cmds = append(cmds, m.requestDetail())
	}
	return tea.Batch(cmds...)
}

// setReport shows a report in both recommendation views, with what is
// measured of its rows marked.
func (m *Model) setReport(rep *engine.Report) {
	m.report = rep
	m.markMeasured()
	m.recs.SetReport(rep)
	m.mism.SetReport(rep)
	m.layout()
}

// measuredRow is a configuration's latest measurement.
type measuredRow struct {
	vals        common.Measured
	implausible string // engine.Result.Flag
	importedAt  time.Time
}

// indexMeasured keys the latest measurement of each configuration by its
// normalized key (what the predictor and the ranking use). It runs with
// the reload, off the UI goroutine.
func indexMeasured(cat *engine.Catalog, results []store.StoredResult) map[string]measuredRow {
	out := make(map[string]measuredRow, len(results))
	for _, r := range results {
		if r.Excluded {
			continue // not learned from: not a measurement the ranking knows
		}
		k := normKey(cat, r.Config)
		prev := out[k]
		out[k] = measuredRow{vals: common.Measured{Throughput: r.Throughput, LatencyMS: r.LatencyMS, MemoryMB: r.MemoryMB},
			implausible: r.Flag, importedAt: later(prev.importedAt, r.ImportedAt)}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// normKey is a configuration's key once the catalog has filled its
// defaults (a stored result may leave them out).
func normKey(cat *engine.Catalog, c engine.Config) string {
	if cat != nil {
		if n, err := cat.Normalize(c); err == nil {
			return n.Key()
		}
	}
	return c.Key()
}

// markMeasured marks the rows on screen and the selected ones that have a
// measurement (made after the ranking: a fresh ranking never proposes
// measured rows), with the predictor's doubts about it, keeping run states
// of rows not measured.
func (m *Model) markMeasured() {
	if m.report == nil {
		return
	}
	mark := func(r rec) {
		cfg := r.Config()
		got, ok := m.measured[normKey(m.opts.Catalog, cfg)]
		if !ok {
			return
		}
		mk := m.marks[cfg]
		mk.Measured, mk.State = &got.vals, "measured"
		mk.Flags, mk.Implausible = m.ctx.Anomalies.Of(cfg), got.implausible
		m.marks[cfg] = mk
	}
	for _, r := range m.report.Recommendations {
		mark(r)
	}
	for _, r := range m.sel.Values() {
		mark(r)
	}
	m.recs.SetMarks(m.marks)
	m.mism.SetMarks(m.marks)
}

func (m *Model) onRanking(msg rankingMsg) tea.Cmd {
	if !m.jobs.finish(msg.kind, msg.id) {
		return nil
	}
	var none *engine.NoHardwareError
	if msg.ranking != nil && (msg.err == nil || errors.As(msg.err, &none)) {
		m.rankCache[msg.key] = msg.ranking
	}
	m.setRanking(msg.kind, msg.key, msg.ranking, msg.err)
	return nil
}

func (m *Model) setRanking(kind jobKind, k rankKey, hr *engine.HardwareRanking, err error) {
	if kind == jobHardware {
		m.hw.SetRanking(hr, err)
		return
	}
	if r, ok := m.currentRec(); ok && m.detailKey(r) == k {
		m.detail.SetData(detail.Data{Row: r, Metric: k.metric, Ranking: hr, Err: err, Mark: m.marks[r.Config()]})
		m.layout() // the pane may need more lines
	}
}

func (m *Model) onOverview(msg overviewMsg) tea.Cmd {
	if !m.jobs.finish(jobOverview, msg.id) {
		return nil
	}
	for k, hr := range msg.cached {
		m.rankCache[k] = hr
	}
	m.overview.SetRows(msg.metric, msg.rows)
	return nil
}

func (m *Model) onPareto(msg paretoMsg) tea.Cmd {
	if !m.jobs.finish(jobPareto, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.fail(msg.err)
	}
	m.pareto.SetPoints(msg.title, msg.points)
	return nil
}

func (m *Model) onImported(msg importedMsg) tea.Cmd {
	if !m.jobs.finish(jobImport, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.dialog = dialog.NewMessage(m.ctx, "Import failed: nothing was imported", msg.err.Error(), true, false)
		m.log.Add("import failed: "+msg.err.Error(), true)
		m.setStatus(m.log.Add("import failed: nothing was imported", true))
		return nil
	}
	st := fmt.Sprintf("imported %d result(s) from %s", msg.added, msg.path)
	if msg.dups > 0 {
		st += fmt.Sprintf(", %d duplicate(s) skipped", msg.dups)
	}
	if msg.parsed != nil && len(msg.parsed.UnknownColumns) > 0 {
		st += "; ignored columns: " + strings.Join(msg.parsed.UnknownColumns, ", ")
	}
	m.say(st)
	return m.startRank(true)
}

// onExported closes the export dialog on success; an error or an existing
// file is shown in the dialog, which stays open.
func (m *Model) onExported(msg exportedMsg) tea.Cmd {
	if !m.jobs.finish(jobExport, msg.id) {
		return nil
	}
	d, open := m.dialog.(*dialog.Export)
	switch {
	case msg.exists || msg.err != nil:
		if msg.err != nil && !msg.exists {
			m.log.Add("export failed: "+msg.err.Error(), true)
		}
		if open {
			d.Failed(msg.err, msg.exists)
		} else if msg.err != nil {
			m.fail(msg.err)
		}
	default:
		if open {
			m.dialog = nil
		}
		m.say(fmt.Sprintf("exported %d row(s) as %s to %s", msg.rows, dialog.FormatNames[msg.format], msg.path))
	}
	return nil
}

func (m *Model) onExcluded(msg excludedMsg) tea.Cmd {
	if !m.jobs.finish(jobExclude, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.fail(msg.err)
		return nil
	}
	if msg.req.Exclude {
		m.say(fmt.Sprintf("result %d is excluded from learning (X includes it again) · refitting…", msg.req.ID))
	} else {
		m.say(fmt.Sprintf("result %d is learned from again · refitting…", msg.req.ID))
	}
	return m.startRank(true)
}

func (m *Model) onLogRead(msg logReadMsg) tea.Cmd {
	if !m.jobs.finish(jobLog, msg.id) {
		return nil
	}
	if msg.err != nil {
		m.fail(msg.err)
		return nil
	}
	m.dialog = dialog.NewMessage(m.ctx, msg.title, msg.body, false, true)
	return nil
}
