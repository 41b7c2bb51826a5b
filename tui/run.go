package tui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/runner/cluster"
	"perfpilot/runner/placement"
	"perfpilot/store"
	"perfpilot/tui/common"
	"perfpilot/tui/dialog"
	"perfpilot/tui/runpanel"
)

// Running the selected rows (x): a y/N dialog, then the runner in a
// command. Its progress callback is called from worker goroutines, so every
// event goes through a channel that a listening command turns into
// messages, one at a time and in order; a tick refreshes the log tail.

const (
	runTickEvery = 500 * time.Millisecond
	runDirName   = "perfpilot-runs"
)

// runSessionMode is what a run does to the session before running it.
type runSessionMode int

const (
	runSaveNew       runSessionMode = iota // unsaved ranking: save as run-<timestamp>
	runUpdateSel                           // the open session: update its selection
	runReplaceReport                       // the open session was re-ranked: replace it with the ranking on screen
)

// runState is the run in progress.
type runState struct {
	id        int
	ch        <-chan tea.Msg
	cancel    context.CancelFunc
	info      runpanel.Info
	logPath   string // the log of the job started last (tailed)
	quitAfter bool   // quit when the run has stopped
	stopAsk   dialog.Dialog
	// scheduler: a scheduler holds the jobs, so stopping asks whether to
	// cancel them (cancelJobs, read by the runner's goroutine) or leave
	// them running for a later run to collect.
	scheduler  bool
	cancelJobs atomic.Bool
	rows       map[engine.Config]int // index into info.Rows
}

// runRowsNow are the rows x runs: the selection, else the cursor row.
func (m *Model) runRowsNow() (rows []rec, cursor bool) {
	if rows := m.recs.Selected(); len(rows) > 0 {
		return rows, false
	}
	if r, ok := m.currentRec(); ok {
		return []rec{r}, true
	}
	return nil, false
}

// openRun asks before running the selected rows.
func (m *Model) openRun() tea.Cmd {
	switch {
	case m.run != nil:
		m.say("a run is in progress (esc stops it)")
		return nil
	case !m.view.isRecs():
		m.say("run works on recommendations (views 1 and 2)")
		return nil
	case m.refuseReadOnly("run benchmarks"):
		return nil
	case m.opts.Runner == nil:
		m.fail(errors.New("run: no database to run against"))
		return nil
	}
	rows, cursor := m.runRowsNow()
	if m.report == nil || len(rows) == 0 {
		m.say("nothing to run yet")
		return nil
	}
	session, mode := "run-"+m.opts.Now().Format("20060102-150405"), runSaveNew
	note := fmt.Sprintf("The ranking is not saved: it is saved first as session %q.", session)
	switch {
	case m.sessionName == "":
	case m.sessionHolds(m.sessionRows()):
		session, mode = m.sessionName, runUpdateSel
		note = fmt.Sprintf("Session %q gets this selection.", session)
	case m.report != m.sessionRep:
		session, mode = m.sessionName, runReplaceReport
		note = fmt.Sprintf("Session %q was re-ranked: it is replaced with the ranking on screen.", session)
	default:
		session, mode = m.sessionName, runReplaceReport
		note = fmt.Sprintf("Session %q is saved again with the rows selected outside its ranking.", session)
	}
	dir := filepath.Join(m.opts.ExportDir, runDirName, m.opts.Now().Format("20060102-150405"))
	rep := m.report
	pl, err := m.placement()
	if err != nil {
		m.fail(err)
		return nil
	}
	m.dialog = dialog.NewRun(m.ctx, len(rows), cursor, note, dir, m.runTemplate, cluster.Available(pl), m.runExecutor,
		func(tmpl, executor string) tea.Cmd {
			return m.startRun(rep, rows, cursor, session, mode, dir, tmpl, executor, pl)
		},
		func() tea.Cmd { m.say("run cancelled"); return nil })
	return nil
}

// startRun saves the session as the dialog said and runs it in the
// background.
func (m *Model) startRun(rep *engine.Report, rows []rec, cursor bool, session string, mode runSessionMode, dir, tmpl, executor string, pl *placement.File) tea.Cmd {
	if m.report != rep {
		m.say("the ranking changed while the dialog was open: press x again")
		return nil
	}
	if cursor {
		// The session must name the row: a session without a selection
		// runs every row.
		m.sel.Add(rows[0].Config(), rows[0])
		m.dirty = true
	}
	snap := m.sessionRows()
	if mode == runUpdateSel && !m.sessionHolds(snap) {
		mode = runReplaceReport // the session lacks a row the run needs
	}
	selected := snap.selected
	m.jobs.seq++ // an id only: a run is never superseded
	id := m.jobs.seq
	ctx, cancel := context.WithCancel(m.baseCtx)
	// Room for every message the run sends (prepared, a start and a finish
	// per configuration, finished), so the runner never waits for the UI.
	ch := make(chan tea.Msg, 4*len(selected)+4)
	rs := &runState{id: id, ch: ch, cancel: cancel, rows: map[engine.Config]int{}, scheduler: executor != "" && executor != cluster.Local,
		info: runpanel.Info{Session: session, Started: m.opts.Now(), Progress: runner.Progress{Total: len(selected), Remaining: len(selected)}}}
	m.run = rs
	m.runTemplate, m.runExecutor = tmpl, executor
	m.runDone = false
	m.layout()
	job := runJob{
		runner: m.opts.Runner, st: m.opts.Store, mode: mode, session: session, report: rep, rows: snap,
		params: m.sessionParams(), executor: executor, placement: pl,
		opts: runner.Options{Template: tmpl, OutputDir: dir, LogDir: dir, RetryFailed: true, Now: m.opts.Now,
			// Stopping asks (askStopRun): cancel the scheduler's jobs, or
			// leave them for x again or `perfpilot run --resume` to collect.
			OnInterrupt: rs.cancelJobs.Load},
	}
	if mode == runSaveNew {
		m.say(fmt.Sprintf("saving the ranking as session %q, then running %d configuration(s)…", session, len(selected)))
	} else {
		m.say(fmt.Sprintf("updating session %q, then running %d configuration(s)…", session, len(selected)))
	}
	base := m.baseCtx
	return tea.Batch(func() tea.Msg { job.do(ctx, base, id, ch); return nil }, listenRun(ch), m.runTickCmd(id, ""))
}

// runJob is what the background command needs; it never touches the model.
type runJob struct {
	runner  Runner
	st      Store
	mode    runSessionMode
	session string
	report  *engine.Report // the ranking on screen
	rows    sessionRows    // what the session stores
	params  store.SessionParams
	opts    runner.Options
	// executor names where the rows run; placement serves a scheduler.
	executor  string
	placement *placement.File
}

// do saves the session, runs it and sends every message to ch, the last
// being runFinishedMsg. base bounds the sends: once the program is gone
// nobody listens.
func (j runJob) do(ctx, base context.Context, id int, ch chan<- tea.Msg) {
	send := func(msg tea.Msg) {
		select {
		case ch <- msg:
		case <-base.Done():
		}
	}
	name, err := j.saveSession(ctx)
	if err != nil {
		send(runFinishedMsg{id: id, session: name, err: err})
		return
	}
	o := j.opts
	o.Session = name
	if j.executor != "" && j.executor != cluster.Local {
		// A scheduler's jobs outlive the run: one log directory per session
		// keeps their ids, so running the session again follows them.
		o.LogDir = filepath.Join(filepath.Dir(o.OutputDir), "session-"+safeName(name), "logs")
		x, err := cluster.New(j.executor, cluster.Options{Placement: j.placement, Session: name, LogDir: o.LogDir, Grace: o.Grace})
		if err != nil {
			send(runFinishedMsg{id: id, session: name, err: err})
			return
		}
		o.Executor = x
	}
	plan, err := j.runner.Plan(ctx, o)
	if err != nil {
		send(runFinishedMsg{id: id, session: name, err: err})
		return
	}
	if o.Executor != nil {
		// Every configuration needs a placement before anything is submitted.
		if _, err := o.Executor.Plan(plan.Tasks()); err != nil {
			send(runFinishedMsg{id: id, session: name, err: err})
			return
		}
	}
	prep := runPreparedMsg{id: id, session: name, how: j.mode, report: j.report, off: j.rows.off, toRun: plan.ToRun(), logDir: plan.LogDir}
	for _, job := range plan.Jobs {
		if job.Status == runner.StatusSkipped {
			prep.skipped = append(prep.skipped, job)
		}
	}
	send(prep)
	sum, err := j.runner.Execute(ctx, o, plan, func(ev runner.Event) { send(runEventMsg{id: id, ev: ev}) })
	send(runFinishedMsg{id: id, session: name, sum: sum, err: err})
}

// saveSession stores the selection with the store calls ctrl+s uses and
// returns the session's name. A new run-<timestamp> name that is taken
// gets a suffix.
func (j runJob) saveSession(ctx context.Context) (string, error) {
	s := store.Session{Name: j.session, Report: j.rows.report, Params: j.params, Selected: j.rows.selected}
	switch j.mode {
	case runUpdateSel:
		return s.Name, j.st.UpdateSelection(ctx, s.Name, s.Selected)
	case runReplaceReport:
		return s.Name, j.st.ReplaceSession(ctx, s)
	}
	for i := 2; ; i++ {
		err := j.st.SaveSession(ctx, s)
		if !errors.Is(err, store.ErrSessionExists) || i > 100 {
			return s.Name, err
		}
		s.Name = fmt.Sprintf("%s-%d", j.session, i)
	}
}

// placement is the open session's placement (nil when it has none).
func (m *Model) placement() (*placement.File, error) {
	if len(m.runPlacement) == 0 {
		return nil, nil
	}
	return placement.Parse(m.runPlacement, "the placement stored with the session.json")
}

// safeName keeps a session name's letters, digits, '.', '-' and '_' for a
// directory name; a hash keeps different names apart.
func safeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < 0x80 && (c == '-' || c == '_' || c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') && b.Len() < 40 {
			b.WriteRune(c)
		}
	}
	h := sha256.Sum256([]byte(s))
	return b.String() + "-" + hex.EncodeToString(h[:4])
}

// listenRun waits for the run's next message.
func listenRun(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

// runTickCmd reads the tail of the log at path after a pause.
func (m *Model) runTickCmd(id int, path string) tea.Cmd {
	return tea.Tick(m.runTick, func(time.Time) tea.Msg {
		msg := runTickMsg{id: id, path: path}
		if path != "" {
			msg.lines, _ = runner.TailLog(path, runpanel.TailLines)
		}
		return msg
	})
}

// lastErrLine is the last line a failed command wrote (its log ends with
// perfpilot's own "=== …" trailer, which is skipped).
func lastErrLine(path string) string {
	lines, _ := runner.TailLog(path, 20)
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "===") {
			return common.SafeLine(l)
		}
	}
	return ""
}
