package tui

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/tui/dialog"
	"perfpilot/tui/runpanel"
)

// recordingRunner is fakeRunner that keeps the options it was given.
type recordingRunner struct {
	fakeRunner
	got []runner.Options
}

func (r *recordingRunner) Plan(ctx context.Context, o runner.Options) (*runner.Plan, error) {
	r.got = append(r.got, o)
	return r.fakeRunner.Plan(ctx, o)
}

// x offers the executors the session's placement serves, defaulting to
// the session's; the choice reaches the runner, and a scheduler run keeps
// one log directory per session so running it again follows its jobs.
func TestRunDialogChoosesExecutor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := newModel(t, e)
	rr := &recordingRunner{fakeRunner: fakeRunner{st: e.st}}
	m.opts.Runner = rr
	pl := map[string]any{}
	for _, r := range m.report.Recommendations {
		pl[r.Hardware] = map[string]any{"slurm": map[string]string{"partition": "p-" + r.Hardware}}
	}
	m.runPlacement, _ = json.Marshal(map[string]any{"placements": pl})
	m.runExecutor = "slurm"

	keys(t, m, "x")
	mustContain(t, screen(m), "executor: local [slurm]", "↑/↓ executor")
	keys(t, m, "up")
	mustContain(t, screen(m), "executor: [local] slurm")
	keys(t, m, "down")
	if d := m.dialog.(*dialog.Run); d.Executor() != "slurm" {
		t.Fatalf("chose %q", d.Executor())
	}
	keys(t, m, "y")
	if len(rr.got) != 1 {
		t.Fatalf("%d plans; status %q", len(rr.got), m.status.Text)
	}
	if o := rr.got[0]; o.Executor == nil || o.Executor.Name() != "slurm" || !strings.Contains(o.LogDir, "session-") ||
		o.OnInterrupt == nil || o.OnInterrupt() {
		t.Fatalf("slurm run options %+v", o)
	}
	saved, err := e.st.Session(t.Context(), rr.got[0].Session)
	if err != nil || saved.Params.Executor != "slurm" || len(saved.Params.Placement) == 0 {
		t.Errorf("the session keeps executor %q and placement %d bytes (%v)", saved.Params.Executor, len(saved.Params.Placement), err)
	}
	// Without a placement only local is offered, and the dialog says nothing of executors.
	m.runPlacement, m.runExecutor = nil, ""
	keys(t, m, "x")
	if s := screen(m); strings.Contains(s, "executor:") {
		t.Errorf("executor choice without a placement:\n%s", s)
	}
	keys(t, m, "esc")
}

// --placement serves x before any session stored one, and wins over the
// one an opened session stored.
func TestPlacementOptionServesX(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	opts := e.options()
	pl := map[string]any{}
	for _, hw := range e.cat.HardwareIDs() {
		pl[hw] = map[string]any{"kubernetes": map[string]string{"namespace": "b", "image": "bench:1"}}
	}
	opts.Placement, _ = json.Marshal(map[string]any{"placements": pl})
	opts.PlacementFile = "/etc/pl.json"
	m := sizedModel(t, opts, 120, 35)
	rr := &recordingRunner{fakeRunner: fakeRunner{st: e.st}}
	m.opts.Runner = rr
	keys(t, m, "x")
	mustContain(t, screen(m), "executor: [local] kubernetes")
	keys(t, m, "down", "y")
	if len(rr.got) != 1 || rr.got[0].Executor == nil || rr.got[0].Executor.Name() != "kubernetes" {
		t.Fatalf("run options %+v; status %q", rr.got, m.status.Text)
	}
	saved, err := e.st.Session(t.Context(), rr.got[0].Session)
	if err != nil || saved.Params.PlacementFile != "/etc/pl.json" || string(saved.Params.Placement) != string(opts.Placement) {
		t.Fatalf("the session stores placement %q %s (%v)", saved.Params.PlacementFile, saved.Params.Placement, err)
	}
	// A session that stored another placement opens with the option's.
	saved.Params.Placement, saved.Params.PlacementFile = []byte(`{"placements": {}}`), "old.json"
	if err := e.st.ReplaceSession(t.Context(), *saved); err != nil {
		t.Fatal(err)
	}
	drive(t, m, m.openSession(saved.Name))
	if m.runPlacementFile != "/etc/pl.json" {
		t.Errorf("opening a session replaced --placement with %q", m.runPlacementFile)
	}
}

// A scheduler's jobs show per row: queued (◌) or running (▶) in the table,
// and in the run panel with the job id and the scheduler's state.
func TestRunPanelShowsSchedulerJobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := newModel(t, e)
	recs := m.report.Recommendations
	m.run = &runState{id: 1, rows: map[engine.Config]int{}, info: runpanel.Info{Session: "s", Started: m.opts.Now()}}
	m.layout()
	ev := func(kind runner.EventKind, i int, ref, state string, p runner.Progress) {
		j := runner.Job{Config: recs[i].Config(), Ref: ref, SchedState: state, LogPath: "/dev/null"}
		m.onRunEvent(m.run, runner.Event{Kind: kind, Job: j, Progress: p})
	}
	ev(runner.EventQueued, 0, "77_0", "PENDING (Resources)", runner.Progress{Total: 2, Remaining: 2, Queued: 2})
	ev(runner.EventQueued, 1, "77_1", "PENDING (Priority)", runner.Progress{Total: 2, Remaining: 2, Queued: 2})
	ev(runner.EventStarted, 1, "77_1", "RUNNING", runner.Progress{Total: 2, Remaining: 2, Queued: 1, Running: 1})
	s := screen(m)
	mustContain(t, s, "1 queued · 1 running", "◌ "+recs[0].Config().String(), "job 77_0 · PENDING (Resources)", "▶ "+recs[1].Config().String(), "job 77_1 · running")
	if !strings.Contains(s, "◌") {
		t.Errorf("no queued mark in the table:\n%s", s)
	}
}

// Stopping a run whose jobs a scheduler holds asks what to do with them:
// c cancels them (the runner's OnInterrupt says so), l leaves them running
// for a later run to collect, esc keeps following. A local run keeps its
// y/N question.
func TestStopSchedulerRunAsksAboutJobs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key              string
		stopped, cancels bool
	}{
		{"c", true, true},
		{"l", true, false},
		{"esc", false, false},
	} {
		t.Run(tc.key, func(t *testing.T) {
			e := newEnv(t)
			m := newModel(t, e)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m.run = &runState{id: 1, cancel: cancel, scheduler: true, rows: map[engine.Config]int{},
				info: runpanel.Info{Session: "s", Started: m.opts.Now(), Progress: runner.Progress{Total: 3, Remaining: 2}}}
			m.layout()
			keys(t, m, "esc")
			mustContain(t, screen(m), "Stop following the run?", "cancel their jobs", "leave them running", "resume", "keep following")
			r := m.run
			keys(t, m, tc.key)
			if stopped := ctx.Err() != nil; stopped != tc.stopped || r.cancelJobs.Load() != tc.cancels || r.info.Stopping != tc.stopped {
				t.Errorf("%s: stopped %v (stopping %v), cancels jobs %v; want %v, %v", tc.key, stopped, r.info.Stopping, r.cancelJobs.Load(), tc.stopped, tc.cancels)
			}
			if m.dialog != nil {
				t.Errorf("%s left the dialog open", tc.key)
			}
		})
	}
	e := newEnv(t)
	m := newModel(t, e)
	_, cancel := context.WithCancel(context.Background())
	defer cancel()
	m.run = &runState{id: 1, cancel: cancel, rows: map[engine.Config]int{}, info: runpanel.Info{Session: "s", Started: m.opts.Now()}}
	m.layout()
	keys(t, m, "esc")
	mustContain(t, screen(m), "Stop the run?", "SIGTERM")
}
