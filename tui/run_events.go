package tui

import (
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/tui/common"
	"perfpilot/tui/dialog"
	"perfpilot/tui/runpanel"
)

// onRunMsg handles the messages of the current run.
func (m *Model) onRunMsg(msg tea.Msg) tea.Cmd {
	r := m.run
	switch msg := msg.(type) {
	case runPreparedMsg:
		if r == nil || r.id != msg.id {
			return nil
		}
		return m.onRunPrepared(r, msg)
	case runEventMsg:
		if r == nil || r.id != msg.id {
			return nil
		}
		m.onRunEvent(r, msg.ev)
		return listenRun(r.ch)
	case runTickMsg:
		if r == nil || r.id != msg.id {
			return nil
		}
		if msg.path != "" && msg.path == r.logPath {
			r.info.Tail = msg.lines
			m.runPanel.SetInfo(r.info)
		}
		return m.runTickCmd(r.id, r.logPath)
	case runFinishedMsg:
		if r == nil || r.id != msg.id {
			return nil
		}
		return m.onRunFinished(r, msg)
	}
	return nil
}

func (m *Model) onRunPrepared(r *runState, msg runPreparedMsg) tea.Cmd {
	r.info.Session = msg.session
	r.info.Progress = runner.Progress{Total: msg.toRun, Remaining: msg.toRun, Skipped: len(msg.skipped)}
	for _, j := range msg.skipped {
		m.setMark(j.Config, common.Mark{Measured: measuredOf(j.Metrics), State: "measured"})
	}
	st := fmt.Sprintf("updated session %q", msg.session)
	if msg.how == runSaveNew {
		st = fmt.Sprintf("saved the ranking as session %q", msg.session)
	}
	if m.report == msg.report && (msg.how != runUpdateSel || m.sessionName == msg.session) {
		m.sessionName, m.sessionRep, m.sessionOff, m.dirty = msg.session, msg.report, msg.off, false
		m.keepSessionSel()
	}
	st += fmt.Sprintf(" · running %d configuration(s)", msg.toRun)
	if n := len(msg.skipped); n > 0 {
		st += fmt.Sprintf(", %d already measured", n)
	}
	m.say(st)
	m.runPanel.SetInfo(r.info)
	return tea.Batch(listenRun(r.ch), m.loadSessions())
}

// onRunEvent updates the panel and the row's mark.
func (m *Model) onRunEvent(r *runState, ev runner.Event) {
	r.info.Progress = ev.Progress
	mk := common.Mark{State: string(ev.Kind), JobID: ev.Job.Ref, LogPath: ev.Job.LogPath, ExitCode: ev.Job.ExitCode}
	if ev.Job.SchedState != "" {
		mk.State = ev.Job.SchedState // the scheduler's own word (PENDING, RUNNING…)
	}
	switch ev.Kind {
	case runner.EventStarted:
		r.info.Current, r.info.Running, r.info.HasCurrent, r.info.Tail = ev.Job.Config, true, true, nil
		r.logPath = ev.Job.LogPath
		mk.State = "running"
	case runner.EventMeasured:
		mk.Measured, mk.State = measuredOf(ev.Job.Metrics), "measured"
	case runner.EventFailed:
		mk.State, mk.LastErr = "failed", lastErrLine(ev.Job.LogPath)
		if mk.LastErr == "" {
			mk.LastErr = ev.Job.Reason
		}
		m.logf(true, "run: %s failed (exit %d): %s", ev.Job.Config, ev.Job.ExitCode, mk.LastErr)
	}
	if ev.Kind != runner.EventStarted && ev.Job.LogPath == r.logPath {
		r.info.Running = false
	}
	if i, ok := r.rows[ev.Job.Config]; ok {
		r.info.Rows[i].Mark = mk
	} else {
		r.rows[ev.Job.Config] = len(r.info.Rows)
		r.info.Rows = append(r.info.Rows, runpanel.Row{Config: ev.Job.Config, Mark: mk})
	}
	m.setMark(ev.Job.Config, mk)
	m.runPanel.SetInfo(r.info)
}

func measuredOf(got runner.Metrics) *common.Measured {
	return &common.Measured{Throughput: got.Throughput, LatencyMS: got.LatencyMS, MemoryMB: got.MemoryMB}
}

// setMark shows what is known about a configuration in the tables.
func (m *Model) setMark(cfg engine.Config, mk common.Mark) {
	m.marks[cfg] = mk
	m.recs.SetMarks(m.marks)
	m.mism.SetMarks(m.marks)
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
		m.fail(fmt.Errorf("run: %w", msg.err))
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
	for _, row := range r.info.Rows {
		if row.Failed() {
			st += fmt.Sprintf(" · failed: %s: exit %d", row.Config, row.ExitCode)
			break
		}
	}
	if failed > 0 {
		r.info.Finished = true
		m.runPanel.SetInfo(r.info)
		m.runDone = true
		m.layout()
	}
	e := m.log.Add(st, failed > 0 || msg.err != nil)
	m.setStatus(e)
	m.runNote = &e
	if r.quitAfter {
		return tea.Quit
	}
	return tea.Batch(m.startRank(true), m.loadSessions())
}

// askStopRun asks before stopping the run (and quitting after it, for q).
func (m *Model) askStopRun(quit bool) tea.Cmd {
	r := m.run
	if r.info.Stopping {
		if quit {
			r.quitAfter = true
			m.say("waiting for the run to stop, then quitting…")
		}
		return nil
	}
	if r.scheduler {
		title, body := "Stop following the run?", fmt.Sprintf("%d configuration(s) not finished; the scheduler holds their jobs. Measured results are kept.", r.info.Progress.Remaining)
		if quit {
			title, body = "Stop following the run and quit?", body+" The dashboard quits once the run has stopped."
		}
		r.stopAsk = dialog.NewChoice(m.ctx, title, body, "keep following",
			dialog.Option{Key: "c", Label: "cancel their jobs (the scheduler stops them)", Do: func() tea.Cmd { r.cancelJobs.Store(true); return m.stopRun(quit) }},
			dialog.Option{Key: "l", Label: "leave them running: x on this session, or perfpilot run --session " + common.Safe(r.info.Session) + " --resume, collects them later",
				Do: func() tea.Cmd { return m.stopRun(quit) }})
		m.dialog = r.stopAsk
		return nil
	}
	title, body := "Stop the run?", fmt.Sprintf("%d configuration(s) not finished. Running commands get SIGTERM, then SIGKILL; measured results are kept.", r.info.Progress.Remaining)
	if quit {
		title, body = "Stop the run and quit?", body+" The dashboard quits once the run has stopped."
	}
	r.stopAsk = dialog.NewConfirm(m.ctx, title, body, func() tea.Cmd { return m.stopRun(quit) }, nil)
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
	r.info.Stopping, r.quitAfter = true, r.quitAfter || quit
	m.runPanel.SetInfo(r.info)
	r.cancel()
	m.say("stopping the run…")
	return nil
}
