package tui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/formats"
	"perfpilot/runner"
	"perfpilot/store"
	"perfpilot/tui/common"
	"perfpilot/tui/dialog"
	"perfpilot/tui/overview"
	"perfpilot/tui/pareto"
)

// Background work: each starts a job (superseding the previous one of its
// kind) and returns the command that does it off the UI goroutine.

func (m *Model) begin(kind jobKind) (int, context.Context, tea.Cmd) {
	var tick tea.Cmd
	if !m.jobs.busy() {
		tick = m.spinTick()
	}
	id, ctx := m.jobs.begin(kind)
	return id, ctx, tick
}

// spinTick starts the spinner; it animates while work is pending.
func (m *Model) spinTick() tea.Cmd { return m.spinner.Tick }

// startRank ranks the candidates for the active metric and budget, first
// reloading results and refitting when asked to or when the data changed.
func (m *Model) startRank(reload bool) tea.Cmd {
	if reload {
		m.needReload = true
	}
	reload = m.needReload || m.pred == nil
	id, ctx, tick := m.begin(jobRank)
	st, cat, pred, ranker := m.opts.Store, m.opts.Catalog, m.pred, m.opts.Ranker
	params := engine.RankParams{Budget: m.budget, Metric: m.ctx.Metric, Seed: m.opts.Seed, PromptTokens: m.tokens[0], OutputTokens: m.tokens[1]}
	now := m.opts.Now()
	return tea.Batch(tick, func() tea.Msg {
		msg := rankedMsg{id: id, reloaded: reload}
		if reload {
			if st == nil {
				msg.err = errors.New("no database")
				return msg
			}
			// Excluded results are shown (Bench) but never learned from.
			if msg.results, msg.err = st.Results(ctx, store.ResultFilter{WithExcluded: true}); msg.err != nil {
				return msg
			}
			msg.measured = indexMeasured(cat, msg.results)
			rs := make([]engine.Result, 0, len(msg.results))
			for _, r := range msg.results {
				if !r.Excluded {
					rs = append(rs, r.Result)
				}
			}
			msg.report, msg.pred, msg.err = ranker.Plan(ctx, cat, rs, params, now)
			return msg
		}
		msg.report, msg.err = ranker.Rank(ctx, pred, params, now)
		return msg
	})
}

// startRanking ranks every hardware for one configuration, for the detail
// pane (jobDetail) or the hardware view (jobHardware). A cached ranking is
// applied at once.
func (m *Model) startRanking(kind jobKind, k rankKey) tea.Cmd {
	if hr, ok := m.rankCache[k]; ok {
		m.jobs.abandon(kind)
		m.setRanking(kind, k, hr, nil)
		return nil
	}
	if m.pred == nil {
		return nil
	}
	id, ctx, tick := m.begin(kind)
	pred := m.pred
	return tea.Batch(tick, func() tea.Msg {
		hr, err := pred.RecommendHardware(ctx, k.group, k.metric, nil, engine.Recommender{})
		return rankingMsg{id: id, kind: kind, key: k, ranking: hr, err: err}
	})
}

// startOverview ranks the hardware for every model at one batch and
// precision: the same call `perfpilot recommend-hardware` makes per model.
func (m *Model) startOverview() tea.Cmd {
	p, ok := m.overview.Pick()
	if !ok || m.pred == nil {
		return nil
	}
	id, ctx, tick := m.begin(jobOverview)
	pred, metric, models := m.pred, m.ctx.Metric, m.space.Models
	cache := map[rankKey]*engine.HardwareRanking{}
	key := func(model string) rankKey {
		return keyOf(engine.Config{Model: model, BatchSize: p.Batch, Precision: p.Precision}, metric)
	}
	for _, mod := range models {
		k := key(mod)
		if hr, ok := m.rankCache[k]; ok {
			cache[k] = hr
		}
	}
	return tea.Batch(tick, func() tea.Msg {
		msg := overviewMsg{id: id, metric: metric, cached: map[rankKey]*engine.HardwareRanking{}}
		for _, mod := range models {
			k := key(mod)
			hr, err := cache[k], error(nil)
			if hr == nil {
				hr, err = pred.RecommendHardware(ctx, k.group, metric, nil, engine.Recommender{})
				var none *engine.NoHardwareError
				if hr != nil && (err == nil || errors.As(err, &none)) {
					msg.cached[k] = hr
					err = nil
				}
			}
			if ctx.Err() != nil {
				return msg
			}
			msg.rows = append(msg.rows, overview.Row{Model: mod, Ranking: hr, Err: err})
		}
		return msg
	})
}

// startPareto predicts every hardware, batch and precision of the model
// under the cursor, or the selected rows when there are some.
func (m *Model) startPareto() tea.Cmd {
	if m.pred == nil {
		return nil
	}
	var cfgs []engine.Config
	title := ""
	if sel := m.recs.Selected(); len(sel) > 1 {
		title = fmt.Sprintf("%d selected rows", len(sel))
		for _, r := range sel {
			cfgs = append(cfgs, r.Config())
		}
	} else if r, ok := m.currentRec(); ok {
		title = r.ModelName
		s := m.space
		s.Models = []string{r.ModelName}
		cfgs = s.Configs(m.opts.Catalog)
	}
	id, ctx, tick := m.begin(jobPareto)
	pred := m.pred
	cat := m.opts.Catalog
	return tea.Batch(tick, func() tea.Msg {
		msg := paretoMsg{id: id, title: title}
		norm := make([]engine.Config, 0, len(cfgs))
		for _, c := range cfgs {
			if n, err := cat.Normalize(c); err == nil {
				norm = append(norm, n)
			}
		}
		batch, err := pred.PredictAll(ctx, norm)
		if err != nil {
			msg.err = err
			return msg
		}
		for _, p := range batch.Preds {
			if !p.Feasible {
				continue
			}
			c := p.Config
			iv := p.Intervals()
			msg.points = append(msg.points, pareto.Point{Config: c, X: iv.MemoryMB.Value, Y: iv.Throughput.Value,
				YLow: iv.Throughput.Low, YHigh: iv.Throughput.High, Measured: p.Measured(), Flags: p.Flags})
		}
		return msg
	})
}

func (m *Model) loadSessions() tea.Cmd {
	st := m.opts.Store
	if st == nil {
		return nil
	}
	id, ctx, tick := m.begin(jobSessions)
	return tea.Batch(tick, func() tea.Msg {
		list, err := st.Sessions(ctx)
		return sessionsMsg{id: id, list: list, err: err}
	})
}

// importFile parses a results file whole and stores it in one transaction.
func (m *Model) importFile(path string) tea.Cmd {
	id, ctx, tick := m.begin(jobImport)
	st, cat := m.opts.Store, m.opts.Catalog
	return tea.Batch(tick, func() tea.Msg {
		msg := importedMsg{id: id, path: path}
		f, err := formats.OpenInput(ctx, path) // a device is refused, a FIFO's wait ends with the job
		if err != nil {
			msg.err = err
			return msg
		}
		defer f.Close()
		if msg.parsed, msg.err = formats.ParseResults(path, f, cat, formats.ParseOptions{}); msg.err != nil {
			return msg
		}
		msg.added, msg.dups, msg.err = st.InsertResults(ctx, msg.parsed.Results)
		return msg
	})
}

// exportRows writes rows in a format; without force an existing file is
// reported, not replaced.
func (m *Model) exportRows(rep *engine.Report, rows []rec, format dialog.Format, path string, force bool) tea.Cmd {
	id, _, tick := m.begin(jobExport)
	return tea.Batch(tick, func() tea.Msg {
		msg := exportedMsg{id: id, path: path, format: format, rows: len(rows)}
		var data []byte
		switch format {
		case dialog.JSON:
			if data, msg.err = formats.ExportJSON(rep, rows); msg.err == nil {
				msg.err = formats.WriteFileAtomic(path, data, force)
			}
		case dialog.CSV:
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
	})
}

// saveSession stores the ranking and the whole selection under name.
func (m *Model) saveSession(name string, replace bool) tea.Cmd {
	id, ctx, tick := m.begin(jobSession)
	st := m.opts.Store
	snap := m.sessionRows()
	s := store.Session{Name: strings.TrimSpace(name), Report: snap.report, Params: m.sessionParams(), Selected: snap.selected}
	shown := m.report
	return tea.Batch(tick, func() tea.Msg {
		var err error
		if replace {
			err = st.ReplaceSession(ctx, s)
		} else {
			err = st.SaveSession(ctx, s)
		}
		return sessionSavedMsg{id: id, name: s.Name, report: shown, off: snap.off, selected: len(snap.selected),
			replace: replace, err: err, exists: errors.Is(err, store.ErrSessionExists)}
	})
}

func (m *Model) openSession(name string) tea.Cmd {
	id, ctx, tick := m.begin(jobSession)
	st := m.opts.Store
	return tea.Batch(tick, func() tea.Msg {
		s, err := st.Session(ctx, name)
		return sessionOpenedMsg{id: id, session: s, err: err}
	})
}

func (m *Model) changeSession(op, from, to string) tea.Cmd {
	id, ctx, tick := m.begin(jobSession)
	st := m.opts.Store
	return tea.Batch(tick, func() tea.Msg {
		var err error
		if op == "renamed" {
			err = st.RenameSession(ctx, from, to)
		} else {
			err = st.DeleteSession(ctx, from)
		}
		return sessionChangedMsg{id: id, op: op, from: from, to: to, err: err}
	})
}

// setExcluded excludes a result from learning, or includes it again; the
// answer reloads and refits.
func (m *Model) setExcluded(a common.ExcludeMsg) tea.Cmd {
	if m.refuseReadOnly("exclude results") {
		return nil
	}
	id, ctx, tick := m.begin(jobExclude)
	st := m.opts.Store
	return tea.Batch(tick, func() tea.Msg {
		_, err := st.SetExcluded(ctx, []int64{a.ID}, a.Exclude)
		return excludedMsg{id: id, req: a, err: err}
	})
}

// readLog reads the end of a run's log for the log dialog.
func (m *Model) readLog(title, path string) tea.Cmd {
	id, _, tick := m.begin(jobLog)
	return tea.Batch(tick, func() tea.Msg {
		lines, err := runner.TailLog(path, 200)
		return logReadMsg{id: id, title: title + " · " + path, body: strings.Join(lines, "\n"), err: err}
	})
}

// sessionParams are what a saved session records: the ranking's
// parameters and the template x runs.
func (m *Model) sessionParams() store.SessionParams {
	return store.SessionParams{RankParams: engine.RankParams{Metric: m.report.OptimizationMetric, Budget: m.budget, Seed: m.opts.Seed,
		PromptTokens: m.tokens[0], OutputTokens: m.tokens[1]},
		Template: m.runTemplate, Executor: m.runExecutor, Placement: m.runPlacement, PlacementFile: m.runPlacementFile}
}
