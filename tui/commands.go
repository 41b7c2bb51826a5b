package tui

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/formats"
	"perfpilot/store"
)

// begin registers a new request of kind, cancelling the one it supersedes,
// and returns its id and context. startTick says the spinner must start.
func (m *Model) begin(kind jobKind) (id int, ctx context.Context, startTick bool) {
	startTick = len(m.pending) == 0
	if cancel := m.cancels[kind]; cancel != nil {
		cancel()
	}
	m.seq++
	id = m.seq
	ctx, cancel := context.WithCancel(m.baseCtx)
	m.pending[kind] = id
	m.cancels[kind] = cancel
	return id, ctx, startTick
}

// finish retires request id of kind; false means it was superseded and its
// answer must be dropped.
func (m *Model) finish(kind jobKind, id int) bool {
	if cur, ok := m.pending[kind]; !ok || cur != id {
		return false
	}
	delete(m.pending, kind)
	if cancel := m.cancels[kind]; cancel != nil {
		cancel()
		delete(m.cancels, kind)
	}
	return true
}

// abandon drops the current request of kind.
func (m *Model) abandon(kind jobKind) {
	if cancel := m.cancels[kind]; cancel != nil {
		cancel()
	}
	delete(m.cancels, kind)
	delete(m.pending, kind)
}

func (m *Model) busy() bool { return len(m.pending) > 0 }

func (m *Model) withTick(cmd tea.Cmd, start bool) tea.Cmd {
	if start {
		return tea.Batch(cmd, m.spinner.Tick)
	}
	return cmd
}

// startRank ranks the candidates for the active metric and budget in the
// background, first reloading results and refitting the predictor when
// asked to or when the data changed.
func (m *Model) startRank(reload bool) tea.Cmd {
	if reload {
		m.needReload = true
	}
	reload = m.needReload || m.pred == nil
	id, ctx, tick := m.begin(jobRank)
	db, cat, pred := m.opts.DB, m.opts.Catalog, m.pred
	params := engine.RankParams{Budget: m.budget, Metric: m.ctx.Metric, Seed: m.opts.Seed}
	now := m.opts.Now()
	return m.withTick(func() tea.Msg {
		msg := rankedMsg{id: id, reloaded: reload}
		if reload {
			if db == nil {
				msg.err = errors.New("no database")
				return msg
			}
			msg.results, msg.err = db.Results(ctx, store.ResultFilter{})
			if msg.err != nil {
				return msg
			}
			rs := make([]engine.Result, len(msg.results))
			for i, r := range msg.results {
				rs[i] = r.Result
			}
			msg.report, msg.pred, msg.err = engine.Plan(ctx, cat, rs, params, now)
			return msg
		}
		msg.report, msg.err = engine.Rank(ctx, pred, params, now)
		return msg
	}, tick)
}

func rankKey(cfg engine.Config, metric engine.Metric) string {
	return cfg.Group().Key() + "|" + string(metric)
}

// startRanking ranks every hardware for one model, batch and precision, for
// the detail pane (jobDetail) or the hardware view (jobHardware). A cached
// ranking is applied at once.
func (m *Model) startRanking(kind jobKind, cfg engine.Config, metric engine.Metric) tea.Cmd {
	key := rankKey(cfg, metric)
	if hr, ok := m.rankCache[key]; ok {
		m.abandon(kind)
		m.setRanking(kind, rankingView{key: key, ranking: hr})
		return nil
	}
	if m.pred == nil {
		return nil
	}
	id, ctx, tick := m.begin(kind)
	pred := m.pred
	return m.withTick(func() tea.Msg {
		hr, err := pred.RecommendHardware(ctx, cfg, metric, nil, engine.Recommender{})
		return rankingMsg{id: id, kind: kind, key: key, ranking: hr, err: err}
	}, tick)
}

func (m *Model) setRanking(kind jobKind, rv rankingView) {
	if kind == jobDetail {
		m.detail = rv
		return
	}
	m.hwView = rv
	if rv.ranking != nil {
		m.hw.SetColumns(hwColumns(rv.ranking.Metric))
		m.hw.SetItems(hwRows(rv.ranking))
	} else {
		m.hw.SetItems(nil)
	}
}

// loadSessions refreshes the session list.
func (m *Model) loadSessions() tea.Cmd {
	db := m.opts.DB
	if db == nil {
		return nil
	}
	id, ctx, tick := m.begin(jobSessions)
	return m.withTick(func() tea.Msg {
		list, err := db.Sessions(ctx)
		return sessionsMsg{id: id, list: list, err: err}
	}, tick)
}

// importFile parses a results file whole and stores it in one transaction.
func (m *Model) importFile(path string) tea.Cmd {
	id, ctx, tick := m.begin(jobImport)
	db, cat := m.opts.DB, m.opts.Catalog
	return m.withTick(func() tea.Msg {
		msg := importedMsg{id: id, path: path}
		f, err := os.Open(path)
		if err != nil {
			msg.err = err
			return msg
		}
		defer f.Close()
		msg.parsed, msg.err = formats.ParseResults(path, f, cat, formats.ParseOptions{})
		if msg.err != nil {
			return msg
		}
		msg.added, msg.dups, msg.err = db.InsertResults(ctx, msg.parsed.Results)
		return msg
	}, tick)
}

// exportFormat is one of the export file kinds.
type exportFormat int

const (
	exportJSON exportFormat = iota
	exportCSV
	exportScript
	numExportFormats
)

var exportNames = [numExportFormats]string{"JSON", "CSV", "shell script"}
var exportExts = [numExportFormats]string{"json", "csv", "sh"}

// exportRows writes rows in a format; without force an existing file is
// reported, not replaced.
func (m *Model) exportRows(rep *engine.Report, rows []rec, format exportFormat, path string, force bool) tea.Cmd {
	id, _, tick := m.begin(jobExport)
	return m.withTick(func() tea.Msg {
		msg := exportedMsg{id: id, path: path, format: format, rows: len(rows), report: rep, data: rows}
		switch format {
		case exportJSON:
			var data []byte
			if data, msg.err = formats.ExportJSON(rep, rows); msg.err == nil {
				msg.err = formats.WriteFileAtomic(path, data, force)
			}
		case exportCSV:
			var data []byte
			if data, msg.err = formats.ExportCSV(rows, rep.OptimizationMetric); msg.err == nil {
				msg.err = formats.WriteFileAtomic(path, data, force)
			}
		default:
			var script string
			if script, msg.err = formats.ExportScript(rows, "", ""); msg.err == nil {
				msg.err = formats.WriteScript(path, script, force)
			}
		}
		msg.exists = errors.Is(msg.err, fs.ErrExist)
		return msg
	}, tick)
}

// saveSession stores the report and selection under name.
func (m *Model) saveSession(name string, replace bool) tea.Cmd {
	id, ctx, tick := m.begin(jobSession)
	db := m.opts.DB
	s := store.Session{Name: strings.TrimSpace(name), Report: m.report,
		Params:   m.sessionParams(),
		Selected: m.selectedIndexes()}
	return m.withTick(func() tea.Msg {
		var err error
		if replace {
			err = db.ReplaceSession(ctx, s)
		} else {
			err = db.SaveSession(ctx, s)
		}
		return sessionSavedMsg{id: id, name: s.Name, report: s.Report, replace: replace, err: err, exists: errors.Is(err, store.ErrSessionExists)}
	}, tick)
}

// sessionParams are what a saved session records: the ranking's
// parameters and the template x runs.
func (m *Model) sessionParams() store.SessionParams {
	return store.SessionParams{RankParams: engine.RankParams{Metric: m.report.OptimizationMetric, Budget: m.budget, Seed: m.opts.Seed},
		Template: m.runTemplate}
}

// selectedIndexes are the selected rows as indexes into the report.
func (m *Model) selectedIndexes() []int {
	out := []int{}
	if m.report == nil {
		return out
	}
	for i, r := range m.report.Recommendations {
		if _, ok := m.sel[recID(r)]; ok {
			out = append(out, i)
		}
	}
	return out
}

func (m *Model) openSession(name string) tea.Cmd {
	id, ctx, tick := m.begin(jobSession)
	db := m.opts.DB
	return m.withTick(func() tea.Msg {
		s, err := db.Session(ctx, name)
		return sessionOpenedMsg{id: id, session: s, err: err}
	}, tick)
}

func (m *Model) renameSession(from, to string) tea.Cmd {
	id, ctx, tick := m.begin(jobSession)
	db := m.opts.DB
	to = strings.TrimSpace(to)
	return m.withTick(func() tea.Msg {
		return sessionChangedMsg{id: id, op: "renamed", from: from, to: to, err: db.RenameSession(ctx, from, to)}
	}, tick)
}

func (m *Model) deleteSession(name string) tea.Cmd {
	id, ctx, tick := m.begin(jobSession)
	db := m.opts.DB
	return m.withTick(func() tea.Msg {
		return sessionChangedMsg{id: id, op: "deleted", from: name, err: db.DeleteSession(ctx, name)}
	}, tick)
}
