package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/store"
)

// Running the selected rows (x): a y/N dialog, then the runner in a
// command. Its progress callback is called from worker goroutines, so every
// event goes through a channel that a listening command turns into
// messages, one at a time and in order; a tick refreshes the log tail.

const (
	runTickEvery = 500 * time.Millisecond
	runTailLines = 6
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
	session   string // known once the session is saved
	ch        <-chan tea.Msg
	cancel    context.CancelFunc
	started   time.Time
	logDir    string
	progress  runner.Progress
	current   runner.Job // the job started last (its log is tailed)
	running   bool       // current is running
	tail      []string
	failures  []runner.Job
	stopping  bool
	quitAfter bool   // quit when the run has stopped
	stopAsk   dialog // the open "stop?" dialog, closed when the run ends
}

// runDialog confirms a run. The default is No: only y runs; n, esc and
// enter decline. tab edits the command template.
type runDialog struct {
	rows    []rec
	report  *engine.Report
	cursor  bool // the row under the cursor (nothing selected)
	session string
	mode    runSessionMode
	dir     string
	ti      textinput.Model
	editing bool
	before  string // the template before editing (esc restores it)
	err     string // why the template is refused
}

func newRunDialog(rows []rec, rep *engine.Report, cursor bool, session string, mode runSessionMode, dir, tmpl string) *runDialog {
	ti := newInput("> ", cmdtmpl.Default)
	ti.SetValue(tmpl)
	d := &runDialog{rows: rows, report: rep, cursor: cursor, session: session, mode: mode, dir: dir, ti: ti}
	d.validate()
	return d
}

// input is the template input while it is being edited: only then do keys
// and pastes go to it.
func (d *runDialog) input() *textinput.Model {
	if d.editing {
		return &d.ti
	}
	return nil
}

func (d *runDialog) template() string { return strings.TrimSpace(d.ti.Value()) }

func (d *runDialog) validate() {
	d.err = ""
	if _, err := cmdtmpl.Parse(d.template()); err != nil {
		d.err = err.Error()
	}
}

func (d *runDialog) view(th *Theme, width, height int) string {
	n := len(d.rows)
	title := fmt.Sprintf("Run %d configurations?", n)
	what := fmt.Sprintf("the %d selected rows", n)
	switch {
	case d.cursor:
		title, what = "Run 1 configuration?", "the row under the cursor"
	case n == 1:
		title, what = "Run 1 configuration?", "the selected row"
	}
	var sess string
	switch d.mode {
	case runSaveNew:
		sess = fmt.Sprintf("The ranking is not saved: it is saved first as session %q.", d.session)
	case runUpdateSel:
		sess = fmt.Sprintf("Session %q gets this selection.", d.session)
	default:
		sess = fmt.Sprintf("Session %q was re-ranked: it is replaced with the ranking on screen.", d.session)
	}
	body := fmt.Sprintf("Runs %s one at a time and imports what each command prints as run:<session>. %s Output and logs: %s",
		what, sess, d.dir)
	var cmd string
	if d.editing {
		d.ti.SetWidth(max(width-4, 10))
		d.ti.SetCursor(d.ti.Position()) // re-scroll for the new width
		cmd = d.ti.View()
	} else {
		cmd = th.Bold.Render(wrap(d.template(), width))
	}
	s := th.DialogTitle.Render(title) + "\n" + wrap(body, width) + "\n\n" + th.Muted.Render("command:") + "\n" + cmd
	if d.err != "" {
		s += "\n" + th.Error.Render(wrap("invalid template: "+d.err, width))
	}
	if d.editing {
		s += "\n" + th.Muted.Render(wrap("placeholders: {model} {hardware} {batch_size} {precision} {sequence_length} {output_dir}", width))
		return s + "\n\n" + th.Bold.Render("enter") + " done   " + th.Bold.Render("esc") + " undo edit"
	}
	return s + "\n\n" + th.Bold.Render("y") + " run   " + th.Bold.Render("n/enter/esc") + " no (default)   " +
		th.Bold.Render("tab") + " edit command"
}

// updateRunDialog routes a key to the run dialog.
func (m *Model) updateRunDialog(d *runDialog, msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if d.editing {
		switch {
		case key.Matches(msg, k.Accept):
			d.editing = false
			d.ti.Blur()
			d.validate()
			return nil
		case key.Matches(msg, k.Cancel):
			d.editing = false
			d.ti.Blur()
			d.ti.SetValue(d.before)
			d.validate()
			return nil
		}
		var cmd tea.Cmd
		d.ti, cmd = d.ti.Update(msg)
		return cmd
	}
	switch {
	case key.Matches(msg, k.Yes):
		if d.err != "" {
			return nil // the dialog says why
		}
		m.dialog = nil
		return m.startRun(d)
	case key.Matches(msg, k.No):
		m.dialog = nil
		m.setStatus("run cancelled")
		return nil
	case msg.String() == "tab":
		d.editing = true
		d.before = d.ti.Value()
		d.ti.CursorEnd()
		return d.ti.Focus()
	}
	return nil
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

// runDir is perfpilot-runs/<timestamp> in the export directory.
func (m *Model) runDir() string {
	return filepath.Join(m.opts.ExportDir, runDirName, m.opts.Now().Format("20060102-150405"))
}

// openRun asks before running the selected rows.
func (m *Model) openRun() tea.Cmd {
	switch {
	case m.run != nil:
		m.setStatus("a run is in progress (esc stops it)")
		return nil
	case m.ctx.View != viewRecs && m.ctx.View != viewMismatches:
		m.setStatus("run works on recommendations (views 1 and 2)")
		return nil
	case m.opts.DB == nil:
		m.setError(errors.New("run: no database"))
		return nil
	}
	rows, cursor := m.runRowsNow()
	if m.report == nil || len(rows) == 0 {
		m.setStatus("nothing to run yet")
		return nil
	}
	session, mode := "run-"+m.opts.Now().Format("20060102-150405"), runSaveNew
	if m.sessionName != "" {
		session, mode = m.sessionName, runUpdateSel
		if m.report != m.sessionReport {
			mode = runReplaceReport
		}
	}
	m.dialog = newRunDialog(rows, m.report, cursor, session, mode, m.runDir(), m.runTemplate)
	return nil
}

// startRun saves the session as the dialog said and runs it in the
// background.
func (m *Model) startRun(d *runDialog) tea.Cmd {
	if m.run != nil {
		m.setStatus("a run is in progress (esc stops it)")
		return nil
	}
	if m.report != d.report {
		m.setStatus("the ranking changed while the dialog was open: press x again")
		return nil
	}
	if d.cursor {
		// The session must name the row: a session without a selection
		// runs every row.
		m.sel[recID(d.rows[0])] = struct{}{}
		m.dirty = true
	}
	selected := m.selectedIndexes()
	if len(selected) == 0 {
		m.setStatus("nothing to run: the rows left the ranking")
		return nil
	}
	m.seq++
	id := m.seq
	ctx, cancel := context.WithCancel(m.baseCtx)
	// Room for every message the run sends (prepared, a start and a finish
	// per configuration, finished), so the runner never waits for the UI.
	ch := make(chan tea.Msg, 2*len(selected)+4)
	m.run = &runState{id: id, session: d.session, ch: ch, cancel: cancel, started: time.Now(), logDir: d.dir,
		progress: runner.Progress{Total: len(selected), Remaining: len(selected)}}
	m.runTemplate = d.template()
	m.layout()

	job := runJob{
		db: m.opts.DB, mode: d.mode, session: d.session, report: m.report, selected: selected,
		params: m.sessionParams(),
		opts: runner.Options{DB: m.opts.DB, Template: d.template(), OutputDir: d.dir, LogDir: d.dir,
			RetryFailed: true, Now: m.opts.Now},
	}
	switch d.mode {
	case runSaveNew:
		m.setStatus(fmt.Sprintf("saving the ranking as session %q, then running %d configuration(s)…", d.session, len(selected)))
	default:
		m.setStatus(fmt.Sprintf("updating session %q, then running %d configuration(s)…", d.session, len(selected)))
	}
	base := m.baseCtx
	run := func() tea.Msg {
		job.do(ctx, base, id, ch)
		return nil
	}
	return tea.Batch(run, listenRun(ch), m.runTick(id, ""))
}

// runJob is what the background command needs; it never touches the model.
type runJob struct {
	db       *store.DB
	mode     runSessionMode
	session  string
	report   *engine.Report
	selected []int
	params   store.SessionParams
	opts     runner.Options
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
	plan, err := runner.NewPlan(ctx, o)
	if err != nil {
		send(runFinishedMsg{id: id, session: name, err: err})
		return
	}
	prep := runPreparedMsg{id: id, session: name, how: j.mode, report: j.report, toRun: plan.ToRun(), logDir: plan.LogDir}
	for _, job := range plan.Jobs {
		if job.Status == runner.StatusSkipped {
			prep.skipped = append(prep.skipped, job)
		}
	}
	send(prep)
	sum, err := runner.Execute(ctx, o, plan, func(ev runner.Event) { send(runEventMsg{id: id, ev: ev}) })
	send(runFinishedMsg{id: id, session: name, sum: sum, err: err})
}

// saveSession stores the selection with the store calls ctrl+s uses and
// returns the session's name. A new run-<timestamp> name that is taken
// gets a suffix.
func (j runJob) saveSession(ctx context.Context) (string, error) {
	s := store.Session{Name: j.session, Report: j.report, Params: j.params, Selected: j.selected}
	switch j.mode {
	case runUpdateSel:
		return s.Name, j.db.UpdateSelection(ctx, s.Name, j.selected)
	case runReplaceReport:
		return s.Name, j.db.ReplaceSession(ctx, s)
	}
	for i := 2; ; i++ {
		err := j.db.SaveSession(ctx, s)
		if !errors.Is(err, store.ErrSessionExists) || i > 100 {
			return s.Name, err
		}
		s.Name = fmt.Sprintf("%s-%d", j.session, i)
	}
}

// listenRun waits for the run's next message.
func listenRun(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

// runTick reads the tail of the log at path after a pause.
func (m *Model) runTick(id int, path string) tea.Cmd {
	return tea.Tick(m.runTickEvery, func(time.Time) tea.Msg {
		msg := runTickMsg{id: id, path: path}
		if path != "" {
			msg.lines, _ = runner.TailLog(path, runTailLines)
		}
		return msg
	})
}

// onRunMsg handles the messages of the current run.
func (m *Model) onRunMsg(msg tea.Msg) tea.Cmd {
	r := m.run
	switch msg := msg.(type) {
	case runPreparedMsg:
		if r == nil || r.id != msg.id {
			return nil
		}
		r.session, r.logDir = msg.session, msg.logDir
		r.progress = runner.Progress{Total: msg.toRun, Remaining: msg.toRun, Skipped: len(msg.skipped)}
		for _, j := range msg.skipped {
			m.markMeasured(j.Config, j.Metrics)
		}
		var st string
		if msg.how == runSaveNew {
			st = fmt.Sprintf("saved the ranking as session %q", msg.session)
		} else {
			st = fmt.Sprintf("updated session %q", msg.session)
		}
		if m.report == msg.report && (msg.how != runUpdateSel || m.sessionName == msg.session) {
			m.sessionName, m.sessionReport, m.dirty = msg.session, msg.report, false
		}
		st += fmt.Sprintf(" · running %d configuration(s)", msg.toRun)
		if n := len(msg.skipped); n > 0 {
			st += fmt.Sprintf(", %d already measured", n)
		}
		m.setStatus(st)
		return tea.Batch(listenRun(r.ch), m.loadSessions())
	case runEventMsg:
		if r == nil || r.id != msg.id {
			return nil
		}
		ev := msg.ev
		r.progress = ev.Progress
		switch ev.Kind {
		case runner.EventStarted:
			r.current, r.running, r.tail = ev.Job, true, nil
		case runner.EventMeasured:
			m.markMeasured(ev.Job.Config, ev.Job.Metrics)
		case runner.EventFailed:
			r.failures = append(r.failures, ev.Job)
		}
		if ev.Kind != runner.EventStarted && ev.Job.LogPath == r.current.LogPath {
			r.running = false
		}
		return listenRun(r.ch)
	case runTickMsg:
		if r == nil || r.id != msg.id {
			return nil
		}
		if msg.path != "" && msg.path == r.current.LogPath {
			r.tail = msg.lines
		}
		return m.runTick(r.id, r.current.LogPath)
	case runFinishedMsg:
		if r == nil || r.id != msg.id {
			return nil
		}
		return m.onRunFinished(r, msg)
	}
	return nil
}

// markMeasured shows a configuration as measured in the tables.
func (m *Model) markMeasured(cfg engine.Config, got runner.Metrics) {
	m.measured[cfg.Key()] = got
	m.recs.invalidate()
	m.mism.invalidate()
}

// onRunFinished reports the run and refreshes the ranking with its
// results, as r does.
func (m *Model) onRunFinished(r *runState, msg runFinishedMsg) tea.Cmd {
	m.run = nil
	r.cancel()
	if r.stopAsk != nil && m.dialog == r.stopAsk {
		m.dialog = nil
	}
	m.layout()
	sum := msg.sum
	if sum == nil {
		m.setError(fmt.Errorf("run: %w", msg.err))
		if r.quitAfter {
			return tea.Quit
		}
		return m.loadSessions()
	}
	measured, failed := sum.Count(runner.StatusMeasured), sum.Count(runner.StatusFailed)
	logs := " · logs in " + sum.LogDir
	var st string
	switch {
	case errors.Is(msg.err, runner.ErrInterrupted):
		st = fmt.Sprintf("run stopped: %d measured and kept, %d failed, %d not finished",
			measured, failed, sum.Count(runner.StatusPending)+sum.Count(runner.StatusInterrupted)) + logs
	case msg.err != nil:
		st = fmt.Sprintf("run error: %s · %d measured, %d failed", strings.ReplaceAll(msg.err.Error(), "\n", " · "), measured, failed) + logs
	default:
		st = fmt.Sprintf("run done: %d measured, %d failed", measured, failed)
		if n := sum.Progress.Skipped; n > 0 {
			st += fmt.Sprintf(", %d already measured", n)
		}
		st += logs
	}
	if len(r.failures) > 0 {
		f := r.failures[0]
		st += fmt.Sprintf(" · failed: %s: %s", f.Config, f.Reason)
		if n := len(r.failures) - 1; n > 0 {
			st += fmt.Sprintf(" (and %d more)", n)
		}
	}
	m.runNote, m.runNoteErr = st, failed > 0 || msg.err != nil
	m.status, m.statusErr = st, m.runNoteErr
	if r.quitAfter {
		return tea.Quit
	}
	return tea.Batch(m.startRank(true), m.loadSessions())
}

// askStopRun asks before stopping the run (and quitting after it, for q).
func (m *Model) askStopRun(quit bool) tea.Cmd {
	r := m.run
	if r.stopping {
		if quit {
			r.quitAfter = true
			m.setStatus("waiting for the run to stop, then quitting…")
		}
		return nil
	}
	title, body := "Stop the run?", fmt.Sprintf("%d configuration(s) not finished. Running commands get SIGTERM, then SIGKILL; measured results are kept.", r.progress.Remaining)
	if quit {
		title, body = "Stop the run and quit?", body+" The dashboard quits once the run has stopped."
	}
	r.stopAsk = &confirmDialog{title: title, body: body, onYes: func() tea.Cmd { return m.stopRun(quit) }}
	m.dialog = r.stopAsk
	return nil
}

func (m *Model) stopRun(quit bool) tea.Cmd {
	r := m.run
	if r == nil {
		if quit {
			return tea.Quit
		}
		return nil
	}
	r.stopping, r.quitAfter = true, r.quitAfter || quit
	r.cancel()
	m.setStatus("stopping the run…")
	return nil
}

// runPanelHeight is the height of the run panel below the recommendations.
func (m *Model) runPanelHeight() int {
	if m.run == nil {
		return 0
	}
	room := m.ctx.BodyHeight() - 6 - 3 // keep a few table rows
	if m.detailOpen {
		room -= m.detailPaneHeight()
	}
	return 3 + max(min(room, runTailLines), 0)
}

// runPanel shows the run: counts, a progress bar and the log tail.
func (m *Model) runPanel() string {
	r := m.run
	th := m.ctx.Theme
	w := m.ctx.Width
	p := r.progress
	session := r.session
	if session == "" {
		session = "…"
	}
	head := th.DialogTitle.Render("▶ run "+session) + th.Muted.Render(" · ") +
		fmt.Sprintf("%d measured · %d failed · %d remaining", p.Done, p.Failed, p.Remaining)
	if p.Skipped > 0 {
		head += fmt.Sprintf(" · %d skipped", p.Skipped)
	}
	head += th.Muted.Render(" · " + time.Since(r.started).Round(time.Second).String())
	if r.stopping {
		head += th.Warn.Render("  stopping…")
	} else {
		head += th.Muted.Render("  esc stop")
	}
	count := fmt.Sprintf(" %d/%d", p.Done+p.Failed, p.Total)
	pct := 0.0
	if p.Total > 0 {
		pct = float64(p.Done+p.Failed) / float64(p.Total)
	}
	bar := " " + progressBar(th, max(w-len(count)-2, 10), pct) + count
	var now string
	switch {
	case r.current.LogPath == "":
		now = th.Muted.Render(" starting…")
	case r.running:
		now = th.Muted.Render(" now: ") + th.Bold.Render(r.current.Config.String())
	default:
		now = th.Muted.Render(" last: " + r.current.Config.String())
	}
	lines := []string{head, bar, now}
	n := m.runPanelHeight() - 3
	tail := r.tail
	if len(tail) > n {
		tail = tail[len(tail)-n:]
	}
	for _, l := range tail {
		lines = append(lines, th.Muted.Render(" │ "+ansi.Truncate(cleanLogLine(l), max(w-3, 0), "…")))
	}
	return strings.Join(lines, "\n")
}

// cleanLogLine makes a command's output line safe to draw: no escape
// sequences, no tabs, and only what follows the last carriage return.
func cleanLogLine(s string) string {
	s = strings.TrimRight(ansi.Strip(s), "\r")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ReplaceAll(s, "\t", "    ")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// progressBar draws a bar of width cells filled to pct (0–1). It looks like
// bubbles' progress bar rendered with ViewAs and full blocks; it is drawn
// here because that package needs a module this one does not require.
func progressBar(th *Theme, width int, pct float64) string {
	fill := int(math.Round(float64(width) * max(0, min(pct, 1))))
	return th.BarFill.Render(strings.Repeat("█", fill)) + th.Muted.Render(strings.Repeat("░", width-fill))
}
