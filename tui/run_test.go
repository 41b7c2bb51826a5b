package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/store"
)

// The auto-saved session and run directory under the fixed clock.
const runSession = "run-20260314-150926"

func runDirOf(e *testEnv) string { return filepath.Join(e.dir, "perfpilot-runs", "20260314-150926") }

// benchScript writes a fake benchmark into dir: it prints perfpilot's JSON
// metrics line, except for the configuration "model|hardware|batch|precision"
// fail, which exits 1, and it sleeps first when slow is set.
func benchScript(t *testing.T, dir, fail string, slow bool) string {
	t.Helper()
	path := filepath.Join(dir, "bench.sh")
	script := "#!/bin/sh\necho \"bench $1 on $2\"\n"
	if slow {
		script += "sleep 30\n"
	}
	script += "if [ \"$1|$2|$3|$4\" = " + cmdtmpl.Quote(fail) + " ]; then echo 'CUDA error' >&2; exit 1; fi\n" +
		"echo '{\"throughput\": 100, \"latency_ms\": 5, \"memory_mb\": 300}'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return "sh " + cmdtmpl.Quote(path) + " {model} {hardware} {batch_size} {precision}"
}

func benchKeyOf(r rec) string {
	return r.ModelName + "|" + r.Hardware + "|" + itoa(r.BatchSize) + "|" + string(r.Precision)
}

func runResults(t *testing.T, e *testEnv, session string) []store.StoredResult {
	t.Helper()
	rs, err := e.db.Results(context.Background(), store.ResultFilter{Source: runner.Source(session)})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func sessionCount(t *testing.T, e *testEnv) int {
	t.Helper()
	list, err := e.db.Sessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func TestRunConfirmDeclines(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	for _, no := range []string{"enter", "n", "esc"} {
		keys(t, m, "x")
		d, ok := m.dialog.(*runDialog)
		if !ok {
			t.Fatal("x opened no run dialog")
		}
		if d.template() != cmdtmpl.Default {
			t.Fatalf("template %q", d.template())
		}
		mustContain(t, screen(m), "Run 1 configuration?", "the row under the cursor", `saved first as session "`+runSession+`"`,
			"python run_benchmark.py --model {model}", "perfpilot-runs")
		keys(t, m, no)
		if m.dialog != nil || m.run != nil {
			t.Fatalf("%s: dialog %v, run %v", no, m.dialog, m.run)
		}
		mustContain(t, screen(m), "run cancelled")
	}
	if n := sessionCount(t, e); n != 0 || len(m.sel) != 0 || m.sessionName != "" {
		t.Fatalf("declining saved %d sessions, selected %d, session %q", n, len(m.sel), m.sessionName)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "perfpilot-runs")); !os.IsNotExist(err) {
		t.Fatal("declining created the run directory")
	}
	// Two selected rows are named as such; x elsewhere does nothing.
	keys(t, m, "space", "space", "x")
	mustContain(t, screen(m), "Run 2 configurations?", "the 2 selected rows")
	keys(t, m, "esc", "3", "x")
	if m.dialog != nil {
		t.Fatal("x opened a dialog on the hardware view")
	}
	mustContain(t, screen(m), "run works on recommendations")
}

func TestRunDialogEditsTemplate(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "x", "tab")
	d := m.dialog.(*runDialog)
	if !d.editing || m.focusedInput() == nil {
		t.Fatal("tab did not start editing the template")
	}
	// While editing, y and n are text and enter only ends the edit.
	clearInput(t, m)
	typeText(t, m, "echo yes | cat")
	keys(t, m, "enter")
	if m.dialog == nil || d.editing || d.template() != "echo yes | cat" {
		t.Fatalf("after enter: dialog %v editing %v template %q", m.dialog, d.editing, d.template())
	}
	mustContain(t, screen(m), "invalid template")
	keys(t, m, "y") // refused: the template does not parse
	if m.dialog == nil || m.run != nil {
		t.Fatal("y ran an invalid template")
	}
	// esc while editing puts the template back.
	keys(t, m, "tab")
	typeText(t, m, "xyz")
	keys(t, m, "esc")
	if d.editing || d.template() != "echo yes | cat" || m.dialog == nil {
		t.Fatalf("esc while editing: editing %v template %q", d.editing, d.template())
	}
	keys(t, m, "tab")
	clearInput(t, m)
	typeText(t, m, "sh bench.sh {model} --out {output_dir}")
	keys(t, m, "enter")
	if d.err != "" {
		t.Fatal(d.err)
	}
	keys(t, m, "n")
	if m.dialog != nil || m.run != nil || sessionCount(t, e) != 0 {
		t.Fatal("n after editing did not decline")
	}
}

// TestRunMeasuresAndRefreshes runs two rows through a real script, one of
// which fails, driving every message through Update.
func TestRunMeasuresAndRefreshes(t *testing.T) {
	e := newEnv(t)
	rows := func() []rec { m := newModel(t, e); return m.recs.rowsForTest() }()
	good, bad := rows[0], rows[1]
	opts := e.options()
	opts.RunTemplate = benchScript(t, t.TempDir(), benchKeyOf(bad), false)
	m := New(context.Background(), opts)
	m.runTickEvery = 10 * time.Millisecond
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(t, m, m.Init())
	keys(t, m, "space", "space", "x")
	mustContain(t, screen(m), "Run 2 configurations?", "bench.sh")

	// Record the screens while the run is going.
	var screens []string
	_, cmd := m.Update(press("y"))
	if m.run == nil {
		t.Fatal("y started no run")
	}
	mustContain(t, screen(m), "▶ run", "esc stop", "0/2")
	driveHook(t, m, cmd, func(msg tea.Msg) {
		switch msg.(type) {
		case runEventMsg, runTickMsg:
			if m.run != nil {
				screens = append(screens, screen(m))
			}
		}
	})
	if m.run != nil {
		t.Fatal("the run never finished")
	}
	all := strings.Join(screens, "\n")
	mustContain(t, all, "▶ run "+runSession, "1 measured · 0 failed · 1 remaining", "1/2", "█", "│ bench ", "=== exit status")
	for _, s := range screens {
		for i, l := range strings.Split(s, "\n") {
			if w := len([]rune(l)); w > 80 {
				t.Fatalf("line %d is %d cells wide: %q", i, w, l)
			}
		}
	}

	// The store holds the measurement under run:<session>, nothing of the
	// failure.
	got := runResults(t, e, runSession)
	if len(got) != 1 || got[0].Config.Key() != recID(good) || got[0].Throughput != 100 || got[0].LatencyMS != 5 || got[0].MemoryMB != 300 {
		t.Fatalf("stored %+v", got)
	}
	// The session was saved with both rows.
	s, err := e.db.Session(context.Background(), runSession)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Selected) != 2 || m.sessionName != runSession {
		t.Fatalf("session selected %v, open %q", s.Selected, m.sessionName)
	}
	// Rows are marked measured.
	if _, ok := m.measured[recID(good)]; !ok || len(m.measured) != 1 {
		t.Fatalf("measured %v", m.measured)
	}
	// The ranking was recomputed from the database, which now has the run.
	found := false
	for _, r := range m.results {
		if r.Source == runner.Source(runSession) {
			found = true
		}
	}
	if !found {
		t.Fatal("the ranking was not recomputed with the run's results")
	}
	if !m.statusErr {
		t.Fatal("a failed configuration is not shown as an error")
	}
	mustContain(t, m.status, "run done: 1 measured, 1 failed", "exit status 1", "failed: "+bad.ModelName, "logs in "+runDirOf(e), "ranking refreshed")
	mustNotContain(t, screen(m), "▶ run", "esc stop")
	if _, err := os.Stat(filepath.Join(runDirOf(e), runner.StateFile)); err != nil {
		t.Fatal(err)
	}

	// Running the open session again updates its selection and skips what
	// was measured; the failed row runs again.
	keys(t, m, "x")
	d := m.dialog.(*runDialog)
	if d.mode == runSaveNew || d.session != runSession || d.template() != opts.RunTemplate {
		t.Fatalf("second run: mode %v session %q template %q", d.mode, d.session, d.template())
	}
	keys(t, m, "esc")
}

// TestRunMarksMeasuredRows checks the marker is visible at 80 columns on
// both recommendation views.
func TestRunMarksMeasuredRows(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	var mis rec
	for _, r := range m.report.Recommendations {
		if r.RecommendedHardware != "" && !r.HardwareMatch {
			mis = r
			break
		}
	}
	m.markMeasured(mis.Config(), runner.Metrics{Throughput: 100, LatencyMS: 5})
	find := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "✓100") {
				return l
			}
		}
		t.Fatalf("no measured row:\n%s", s)
		return ""
	}
	if l := find(screen(m)); !strings.Contains(l, mis.Hardware) {
		t.Fatalf("marked the wrong row: %q", l)
	}
	keys(t, m, "2")
	find(screen(m))
	// Memory was not measured: a measured row of the memory ranking (which
	// holds other rows) shows its mark without a value.
	keys(t, m, "m")
	for _, r := range m.report.Recommendations {
		if r.RecommendedHardware != "" && !r.HardwareMatch {
			m.markMeasured(r.Config(), runner.Metrics{Throughput: 100, LatencyMS: 5})
			break
		}
	}
	mustContain(t, screen(m), "✓m")
}

// TestRunStop stops a slow run from the real program: esc asks, n keeps
// it going, esc then y stops it promptly and keeps the dashboard usable.
func TestRunStop(t *testing.T) {
	e := newEnv(t)
	opts := e.options()
	opts.RunTemplate = benchScript(t, t.TempDir(), "", true)
	var mu sync.Mutex
	seen := map[string]bool{}
	note := func(s string) { mu.Lock(); seen[s] = true; mu.Unlock() }
	observe := func(mod tea.Model, msg tea.Msg) tea.Msg {
		m := mod.(*Model)
		switch msg := msg.(type) {
		case rankedMsg:
			if msg.err == nil && m.pending[jobRank] == msg.id {
				note("ranked")
			}
		case runEventMsg:
			note(string(msg.ev.Kind))
		case runFinishedMsg:
			note("finished")
		}
		return msg
	}
	waitFor := func(what string, d time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for {
			mu.Lock()
			ok := seen[what]
			mu.Unlock()
			if ok {
				return time.Since(start)
			}
			if time.Since(start) > d {
				t.Fatalf("no %s after %v", what, d)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	m := New(t.Context(), opts)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 35),
		teatest.WithProgramOptions(tea.WithFilter(observe)))
	waitFor("ranked", 20*time.Second)
	mu.Lock()
	delete(seen, "ranked")
	mu.Unlock()
	tm.Send(press("x"))
	tm.Send(press("y"))
	waitFor(string(runner.EventStarted), 10*time.Second)
	tm.Send(press("esc"))
	tm.Send(press("n")) // keep running
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	if seen["finished"] {
		mu.Unlock()
		t.Fatal("n stopped the run")
	}
	mu.Unlock()
	tm.Send(press("esc"))
	tm.Send(press("y"))
	if took := waitFor("finished", 10*time.Second); took > 8*time.Second {
		t.Fatalf("stopping took %v", took)
	}
	waitFor("ranked", 20*time.Second) // the ranking refreshes after a stop too
	// Back to normal: esc clears the selection again instead of asking.
	tm.Send(press("esc"))
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(*Model)
	if final.run != nil || final.dialog != nil {
		t.Fatalf("after stopping: run %v dialog %v", final.run, final.dialog)
	}
	mu.Lock()
	interrupted := seen[string(runner.EventInterrupted)]
	mu.Unlock()
	if !interrupted {
		t.Fatal("the running configuration was not reported interrupted")
	}
	if n := len(runResults(t, e, runSession)); n != 0 {
		t.Fatalf("an interrupted configuration stored %d results", n)
	}
	st, err := runner.ReadState(runDirOf(e), runSession)
	if err != nil || len(st) != 1 {
		t.Fatalf("state %v, %v", st, err)
	}
	for _, c := range st {
		if c.Status != runner.StatusInterrupted {
			t.Fatalf("state says %s", c.Status)
		}
	}
}

// TestRunKeysWhileRunning: during a run, esc and ctrl+c ask to stop, q asks
// to stop and quit, and x refuses a second run; engine keys still work.
func TestRunKeysWhileRunning(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	stopped := false
	m.run = &runState{id: 99, cancel: func() { stopped = true }, started: time.Now(), progress: runner.Progress{Total: 1, Remaining: 1}}
	m.layout()
	mustContain(t, screen(m), "▶ run …", "run 0/1")
	for _, k := range []string{"esc", "ctrl+c"} {
		keys(t, m, k)
		if d, ok := m.dialog.(*confirmDialog); !ok || d.title != "Stop the run?" {
			t.Fatalf("%s: dialog %v", k, m.dialog)
		}
		keys(t, m, "enter") // enter never stops
		if stopped || m.dialog != nil {
			t.Fatalf("%s then enter stopped the run", k)
		}
	}
	keys(t, m, "x")
	mustContain(t, screen(m), "a run is in progress")
	keys(t, m, "l")
	if m.ctx.Metric != engine.Latency {
		t.Fatal("keys are blocked during a run")
	}
	if quit := keys(t, m, "q"); quit {
		t.Fatal("q quit at once during a run")
	}
	mustContain(t, screen(m), "Stop the run and quit?")
	keys(t, m, "y")
	if !stopped || !m.run.stopping || !m.run.quitAfter {
		t.Fatal("y did not stop the run")
	}
	_, cmd := m.Update(runFinishedMsg{id: 99, session: "s", sum: &runner.Summary{Interrupted: true, LogDir: "d"}, err: runner.ErrInterrupted})
	if cmd == nil {
		t.Fatal("no quit after the run stopped")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("the run stopped but the dashboard did not quit")
	}
}

// driveHook is drive with a look at the model after each message.
func driveHook(t testing.TB, m *Model, cmd tea.Cmd, hook func(tea.Msg)) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 1000 {
			t.Fatal("driveHook: too many steps")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil, spinner.TickMsg, tea.QuitMsg:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			_, next := m.Update(msg)
			hook(msg)
			queue = append(queue, next)
		}
	}
}
