package tui

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/store"
	"perfpilot/tui/dialog"
)

// fakeRunner runs a session's selected rows without processes: each
// writes a log; the configuration in fail exits 1 after printing an
// error, the others measure and are stored as the runner stores them.
type fakeRunner struct {
	st   *fakeStore
	fail engine.Config
}

func (f *fakeRunner) Plan(ctx context.Context, o runner.Options) (*runner.Plan, error) {
	s, err := f.st.Session(ctx, o.Session)
	if err != nil {
		return nil, err
	}
	p := &runner.Plan{Session: s, Source: runner.Source(o.Session), LogDir: o.LogDir}
	for _, i := range s.Selected {
		r := s.Report.Recommendations[i]
		p.Jobs = append(p.Jobs, runner.Job{Row: i, Recommendation: r, Config: r.Config(), Status: runner.StatusPending,
			LogPath: filepath.Join(o.LogDir, "row-"+itoa(i)+".log")})
	}
	return p, os.MkdirAll(o.LogDir, 0o755)
}

func (f *fakeRunner) Execute(ctx context.Context, o runner.Options, p *runner.Plan, progress func(runner.Event)) (*runner.Summary, error) {
	sum := &runner.Summary{Session: o.Session, LogDir: p.LogDir, Progress: runner.Progress{Total: len(p.Jobs), Remaining: len(p.Jobs)}}
	for _, j := range p.Jobs {
		progress(runner.Event{Kind: runner.EventStarted, Job: j, Progress: sum.Progress})
		log := "bench " + j.Config.String() + "\n"
		if j.Config == f.fail {
			log += "CUDA error: out of memory\n=== exit status 1\n"
			j.Status, j.ExitCode, j.Reason = runner.StatusFailed, 1, "exit status 1"
			sum.Progress.Failed++
		} else {
			j.Status, j.Metrics = runner.StatusMeasured, runner.Metrics{Throughput: 100, LatencyMS: 5}
			r := engine.Result{Config: j.Config, ModelType: j.Recommendation.ModelType, Throughput: 100, LatencyMS: 5, Source: p.Source}
			if _, _, err := f.st.InsertResults(ctx, []engine.Result{r}); err != nil {
				return sum, err
			}
			sum.Progress.Done++
		}
		if err := os.WriteFile(j.LogPath, []byte(log), 0o644); err != nil {
			return sum, err
		}
		sum.Progress.Remaining--
		kind := runner.EventMeasured
		if j.Status == runner.StatusFailed {
			kind = runner.EventFailed
		}
		sum.Jobs = append(sum.Jobs, j)
		progress(runner.Event{Kind: kind, Job: j, Progress: sum.Progress})
	}
	return sum, nil
}

// TestRunFailureVisibleInTableAndLog: a failed configuration shows its
// exit code in its row and its last line in the log panel; enter on the
// row opens its log.
func TestRunFailureVisibleInTableAndLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := newModel(t, e)
	bad := m.report.Recommendations[1]
	m.opts.Runner = &fakeRunner{st: e.st, fail: bad.Config()}
	keys(t, m, "space", "space", "x")
	mustContain(t, screen(m), "Run 2 configurations?", "the 2 selected rows")
	keys(t, m, "y")
	if m.run != nil {
		t.Fatal("the run never finished")
	}
	if !m.status.Err {
		t.Fatal("a failed configuration is not shown as an error")
	}
	mustContain(t, m.status.Text, "run done: 1 measured, 1 failed", "exit 1", "ranking refreshed")
	// The finished run's panel stays with the failed row: exit code and
	// the last line it wrote; esc hides it.
	mustContain(t, screen(m), "■ finished run "+runSession, "✗ "+bad.Config().String()+" · exit 1 · CUDA error: out of memory")
	keys(t, m, "esc")
	mustNotContain(t, screen(m), "finished run")
	goTo := m.recs.Table().(interface{ GoTo(engine.Config) bool }).GoTo
	if !goTo(bad.Config()) {
		keys(t, m, "v") // it left the ranking: still selected, shown with v
		if !goTo(bad.Config()) {
			t.Fatal("the failed row is not reachable")
		}
	}
	s := screen(m)
	mustContain(t, s, "✗exit 1")
	keys(t, m, "L")
	mustContain(t, screen(m), "failed (exit 1): CUDA error: out of memory")
	keys(t, m, "esc", "enter")
	d, ok := m.dialog.(*dialog.Message)
	if !ok {
		t.Fatalf("enter on the failed row opened %T", m.dialog)
	}
	mustContain(t, screen(m), "CUDA error: out of memory", "=== exit status 1")
	_ = d
	keys(t, m, "esc")
	got, _ := e.st.Results(t.Context(), store.ResultFilter{Source: runner.Source(runSession)})
	if len(got) != 1 || got[0].Config == bad.Config() {
		t.Fatalf("stored %v", got)
	}
}

const runSession = "run-20260314-150926"

func TestRunDialogDeclinesAndEditsTemplate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := newModel(t, e)
	m.opts.Runner = &fakeRunner{st: e.st}
	for _, no := range []string{"enter", "n", "esc"} {
		keys(t, m, "x")
		mustContain(t, screen(m), "Run 1 configuration?", "the row under the cursor", `session "`+runSession+`"`)
		keys(t, m, no)
		if m.dialog != nil || m.run != nil {
			t.Fatalf("%s did not decline", no)
		}
	}
	keys(t, m, "x", "tab")
	d := m.dialog.(*dialog.Run)
	clearInput(t, m)
	typeText(t, m, "echo yes | cat")
	keys(t, m, "enter")
	mustContain(t, screen(m), "invalid template")
	keys(t, m, "y")
	if m.dialog == nil || m.run != nil || d.Template() != "echo yes | cat" {
		t.Fatal("y ran an invalid template")
	}
	keys(t, m, "tab")
	typeText(t, m, "xyz")
	keys(t, m, "esc")
	if d.Editing() || d.Template() != "echo yes | cat" {
		t.Fatal("esc did not undo the edit")
	}
	keys(t, m, "n")
	if list, _ := e.st.Sessions(t.Context()); len(list) != 0 {
		t.Fatal("declining saved a session")
	}
}

// TestRunKeysWhileRunning: esc and ctrl+c ask to stop, q asks to stop and
// quit; other keys keep working.
func TestRunKeysWhileRunning(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	stopped := false
	m.run = &runState{id: 99, cancel: func() { stopped = true }, rows: map[engine.Config]int{}}
	m.run.info.Started, m.run.info.Progress = fixedNow, runner.Progress{Total: 1, Remaining: 1}
	m.layout()
	mustContain(t, screen(m), "▶ run …", "run 0/1")
	for _, k := range []string{"esc", "ctrl+c"} {
		keys(t, m, k)
		if d, ok := m.dialog.(*dialog.Confirm); !ok || d.Title != "Stop the run?" {
			t.Fatalf("%s: dialog %v", k, m.dialog)
		}
		keys(t, m, "enter")
		if stopped || m.dialog != nil {
			t.Fatalf("%s then enter stopped the run", k)
		}
	}
	keys(t, m, "l")
	if m.ctx.Metric != engine.Latency {
		t.Fatal("keys are blocked during a run")
	}
	if keys(t, m, "q") {
		t.Fatal("q quit at once during a run")
	}
	mustContain(t, screen(m), "Stop the run and quit?")
	keys(t, m, "y")
	if !stopped || !m.run.quitAfter {
		t.Fatal("y did not stop the run")
	}
	_, cmd := m.Update(runFinishedMsg{id: 99, session: "s", sum: &runner.Summary{Interrupted: true, LogDir: "d"}, err: runner.ErrInterrupted})
	if drive(t, m, cmd) != true {
		t.Fatal("the run stopped but the dashboard did not quit")
	}
}
