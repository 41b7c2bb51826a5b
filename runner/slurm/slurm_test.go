package slurm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/runner/placement"
	"perfpilot/store"
)

// These tests run against a real Slurm: the one scripts/slurm-local.sh
// starts (CI starts it; as root a test run starts it too). They skip only
// where it cannot start (not root), never under CI.

var (
	slurmErr error  // why Slurm is not available
	matbench string // the examples/matbench binary
)

const recordEnv = "PERFPILOT_SLURM_TEST_RECORD"

func TestMain(m *testing.M) {
	// As a benchmark command: record argv (JSON, one line) and print a metric.
	if path := os.Getenv(recordEnv); path != "" {
		line, _ := json.Marshal(os.Args[1:])
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			os.Exit(9)
		}
		fmt.Fprintf(f, "%s\n", line)
		f.Close()
		fmt.Println(`{"throughput": 42, "latency_ms": 3.5}`)
		os.Exit(0)
	}
	if spec := os.Getenv("PERFPILOT_SLURM_TEST_CRASH"); spec != "" {
		crashChild(spec)
	}
	slurmErr = startSlurm()
	dir, err := os.MkdirTemp("", "perfpilot-slurm-test")
	if err != nil {
		panic(err)
	}
	// Task logs and specs must be readable by the Slurm daemons: a plain
	// temporary directory is.
	matbench = filepath.Join(dir, "matbench")
	if out, err := exec.Command("go", "build", "-o", matbench, "../../examples/matbench").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build matbench: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func startSlurm() error {
	if os.Getenv("SLURM_CONF") == "" {
		if _, err := os.Stat("/var/tmp/perfpilot-slurm/slurm.conf"); err == nil {
			os.Setenv("SLURM_CONF", "/var/tmp/perfpilot-slurm/slurm.conf")
		}
	}
	if exec.Command("sinfo", "-h").Run() == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return errors.New("Slurm is not running and starting it (scripts/slurm-local.sh) needs root")
	}
	out, err := exec.Command("../../scripts/slurm-local.sh", "start").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("scripts/slurm-local.sh start: %v: %s", err, ee.Stderr)
		}
		return err
	}
	os.Setenv("SLURM_CONF", strings.TrimSpace(string(out)))
	return exec.Command("sinfo", "-h").Run()
}

func needSlurm(t *testing.T) {
	t.Helper()
	if slurmErr == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must run the Slurm tests, but Slurm is not available: %v", slurmErr)
	}
	t.Skipf("skipping the real-Slurm test: %v", slurmErr)
}

// counting wraps the real commands, recording each call's time.
type counting struct {
	mu    sync.Mutex
	calls map[string][]time.Time
}

func (c *counting) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string][]time.Time{}
	}
	c.calls[name] = append(c.calls[name], time.Now())
	c.mu.Unlock()
	return runner.ExecCommander{}.Run(ctx, name, args...)
}

func (c *counting) n(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls[name])
}

// checkPolling asserts no two polls came less than a second apart.
func (c *counting) checkPolling(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var polls []time.Time
	for _, name := range []string{"squeue", "sacct"} {
		polls = append(polls, c.calls[name]...)
	}
	for i := range polls {
		for j := range polls {
			if i != j && polls[j].After(polls[i]) && polls[j].Sub(polls[i]) < 990*time.Millisecond {
				t.Errorf("two scheduler polls %v apart", polls[j].Sub(polls[i]))
				return
			}
		}
	}
}

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is one test's database, session and directories.
type env struct {
	db      *store.DB
	session string
	dir     string
	recs    []engine.Recommendation
}

// newEnv saves a session whose rows are the given configurations.
func newEnv(t *testing.T, session string, cat *engine.Catalog, cfgs []engine.Config) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "perfpilot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	recs := make([]engine.Recommendation, len(cfgs))
	for i, c := range cfgs {
		recs[i] = engine.Recommendation{ModelName: c.Model, ModelType: "text_embedding", Hardware: c.Hardware, BatchSize: c.BatchSize,
			Precision: c.Precision, SequenceLength: c.SequenceLength}
	}
	rep := &engine.Report{Recommendations: recs}
	s := store.Session{Name: session, Params: store.SessionParams{RankParams: engine.RankParams{Metric: engine.Throughput, Budget: len(cfgs)}},
		Report: rep}
	if err := db.SaveSession(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, session: session, dir: dir, recs: recs}
}

func cfg(model, hw string, batch int) engine.Config {
	return engine.Config{Model: model, Hardware: hw, BatchSize: batch, Precision: engine.FP32, SequenceLength: 16}
}

func (e *env) options(tmpl string) runner.Options {
	return runner.Options{DB: e.db, Session: e.session, Template: tmpl, OutputDir: filepath.Join(e.dir, "out"),
		Grace: time.Second, Now: func() time.Time { return testNow }}
}

func (e *env) executor(t *testing.T, pl string, cmd runner.Commander) *Exec {
	t.Helper()
	f, err := placement.Parse([]byte(pl), "placement.json")
	if err != nil {
		t.Fatal(err)
	}
	x, err := New(Options{Placement: f, Session: e.session, LogDir: filepath.Join(e.dir, "out", "logs"), Grace: time.Second, Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

const twoPartitions = `{"placements": {
  "cpu":  {"slurm": {"partition": "cpu", "time": "10:00"}},
  "cuda": {"slurm": {"partition": "gpu", "gres": "gpu:a100", "time": "10:00"}}}}`

func logText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// Seven configurations over both partitions run as two arrays of
// examples/matbench; the one matbench cannot measure fails with its exit
// status; the rest are imported, each in the partition of its hardware.
func TestSlurmArrayAcrossPartitions(t *testing.T) {
	needSlurm(t)
	t.Parallel()
	cfgs := []engine.Config{cfg("bert-base-uncased", "cpu", 1), cfg("t5-small", "cpu", 1), cfg("gpt2", "cpu", 2),
		cfg("bert-base-uncased", "cuda", 1), cfg("t5-small", "cuda", 2), cfg("gpt2", "cuda", 1), cfg("acme/not-a-matbench-model", "cpu", 1)}
	e := newEnv(t, "arrays", engine.MustBuiltinCatalog(), cfgs)
	cmd := &counting{}
	o := e.options(matbench + " --model {model} --hardware cpu --batch-size {batch_size} --precision {precision} --sequence-length {sequence_length} --output-dir {output_dir}")
	o.Executor = e.executor(t, twoPartitions, cmd)
	var mu sync.Mutex
	kinds := map[runner.EventKind]int{}
	sum, err := runner.Run(context.Background(), o, func(ev runner.Event) {
		mu.Lock()
		kinds[ev.Kind]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count(runner.StatusMeasured) != 6 || sum.Count(runner.StatusFailed) != 1 {
		for _, j := range sum.Jobs {
			t.Logf("%s: %s %s %s\n%s", j.Config, j.Status, j.Reason, j.Ref, logText(t, j.LogPath))
		}
		t.Fatalf("%d measured, %d failed", sum.Count(runner.StatusMeasured), sum.Count(runner.StatusFailed))
	}
	if n := cmd.n("sbatch"); n != 2 {
		t.Errorf("%d sbatch calls, want 2 (one array per partition)", n)
	}
	for _, j := range sum.Jobs {
		log := logText(t, j.LogPath)
		if strings.Count(log, "=== perfpilot task ") != 1 {
			t.Errorf("%s ran %d times:\n%s", j.Config, strings.Count(log, "=== perfpilot task "), log)
		}
		part := map[string]string{"cpu": `SLURM_JOB_PARTITION="cpu"`, "cuda": `SLURM_JOB_PARTITION="gpu"`}[j.Config.Hardware]
		if !strings.Contains(log, part) || !strings.Contains(j.Ref, "_") {
			t.Errorf("%s (job %s) did not run in its partition:\n%s", j.Config, j.Ref, log)
		}
		if j.Config.Hardware == "cuda" && !strings.Contains(log, "CUDA_VISIBLE_DEVICES=") {
			t.Errorf("%s got no GPU from --gres:\n%s", j.Config, log)
		}
		if j.Config.Model == "acme/not-a-matbench-model" && (j.ExitCode != 2 || !strings.Contains(j.Reason, "exit status 2")) {
			t.Errorf("failing task: exit %d, %q", j.ExitCode, j.Reason)
		}
	}
	rs, err := e.db.Results(context.Background(), store.ResultFilter{Source: runner.Source("arrays")})
	if err != nil || len(rs) != 6 {
		t.Errorf("imported %d results (%v), want 6", len(rs), err)
	}
	if kinds[runner.EventQueued] < 7 || kinds[runner.EventMeasured] != 6 || kinds[runner.EventFailed] != 1 {
		t.Errorf("events %v", kinds)
	}
	cmd.checkPolling(t)
}

// A task that outlives its placement's time limit is killed by Slurm and
// recorded as a timeout.
func TestSlurmTimeout(t *testing.T) {
	needSlurm(t)
	t.Parallel()
	e := newEnv(t, "timeout", engine.MustBuiltinCatalog(), []engine.Config{cfg("gpt2", "cpu", 1)})
	o := e.options("sleep 600")
	o.Executor = e.executor(t, `{"placements": {"cpu": {"slurm": {"partition": "cpu", "time": "0:01"}}}}`, &counting{})
	sum, err := runner.Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	j := sum.Jobs[0]
	if j.Status != runner.StatusFailed || !strings.Contains(j.Reason, "TIMEOUT") {
		t.Errorf("job %s: %q (state %s)", j.Status, j.Reason, j.SchedState)
	}
}

// Someone cancels one task with scancel while it runs: that configuration
// fails as cancelled, the others finish and are imported.
func TestSlurmScancelMidRun(t *testing.T) {
	needSlurm(t)
	t.Parallel()
	cfgs := []engine.Config{cfg("gpt2", "cpu", 1), cfg("gpt2", "cpu", 2), cfg("gpt2", "cpu", 4)}
	e := newEnv(t, "scancel", engine.MustBuiltinCatalog(), cfgs)
	script := filepath.Join(e.dir, "bench.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 4\necho '{\"throughput\": 5}'\n"), 0o755)
	o := e.options(script + " {model} {batch_size}")
	o.Executor = e.executor(t, twoPartitions, &counting{})
	var once sync.Once
	victim := ""
	sum, err := runner.Run(context.Background(), o, func(ev runner.Event) {
		if ev.Kind == runner.EventStarted && ev.Job.Config.BatchSize == 2 {
			once.Do(func() {
				victim = ev.Job.Ref
				if out, err := exec.Command("scancel", ev.Job.Ref).CombinedOutput(); err != nil {
					t.Errorf("scancel: %v %s", err, out)
				}
			})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if victim == "" {
		t.Fatal("the task to cancel never started")
	}
	for _, j := range sum.Jobs {
		want := runner.StatusMeasured
		if j.Ref == victim {
			want = runner.StatusFailed
			if !strings.Contains(j.Reason, "CANCELLED") {
				t.Errorf("cancelled task's reason %q", j.Reason)
			}
		}
		if j.Status != want {
			t.Errorf("%s (%s): %s %q, want %s", j.Config, j.Ref, j.Status, j.Reason, want)
		}
	}
}

// Ctrl+C answered "leave them running": the jobs stay queued, their ids in
// the state file; the next run follows them without submitting anything.
func TestSlurmLeaveAndResume(t *testing.T) {
	needSlurm(t)
	t.Parallel()
	cfgs := []engine.Config{cfg("gpt2", "cpu", 1), cfg("gpt2", "cuda", 1), cfg("t5-small", "cpu", 1)}
	e := newEnv(t, "leave", engine.MustBuiltinCatalog(), cfgs)
	script := filepath.Join(e.dir, "bench.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 3\necho '{\"throughput\": 5}'\n"), 0o755)
	o := e.options(script + " {model} {hardware}")
	cmd := &counting{}
	o.Executor = e.executor(t, twoPartitions, cmd)
	o.OnInterrupt = func() bool { return false }
	ctx, cancel := context.WithCancel(context.Background())
	sum, err := runner.Run(ctx, o, func(ev runner.Event) {
		if ev.Kind == runner.EventQueued {
			cancel()
		}
	})
	if !errors.Is(err, runner.ErrInterrupted) || sum.Left != 3 {
		t.Fatalf("interrupted run: %v, left %d", err, sum.Left)
	}
	state, err := runner.ReadState(filepath.Join(e.dir, "out", "logs"), "leave")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfgs {
		if st := state[c.Key()]; st == nil || st.Ref == "" || st.Executor != Name {
			t.Errorf("%s: state %+v", c, st)
		}
	}
	submitted := cmd.n("sbatch")

	cmd2 := &counting{}
	o.Executor = e.executor(t, twoPartitions, cmd2)
	plan, err := runner.NewPlan(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Attached() != 3 {
		t.Errorf("plan attaches %d jobs, want 3", plan.Attached())
	}
	sum, err = runner.Execute(context.Background(), o, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cmd2.n("sbatch") != 0 || submitted != 2 || sum.Count(runner.StatusMeasured) != 3 {
		t.Errorf("resume: %d new submissions (first run %d), %d measured", cmd2.n("sbatch"), submitted, sum.Count(runner.StatusMeasured))
	}
	for _, j := range sum.Jobs {
		if n := strings.Count(logText(t, j.LogPath), "=== perfpilot task "); n != 1 {
			t.Errorf("%s started %d times", j.Config, n)
		}
	}
	cmd2.checkPolling(t)
}

// crashChild runs a session on Slurm and SIGKILLs itself as soon as the
// arrays are submitted.
func crashChild(spec string) {
	var o struct{ DB, Session, Template, OutputDir, Placement string }
	if err := json.Unmarshal([]byte(spec), &o); err != nil {
		os.Exit(7)
	}
	db, err := store.Open(context.Background(), o.DB)
	if err != nil {
		os.Exit(8)
	}
	pl, err := placement.Parse([]byte(o.Placement), "p.json")
	if err != nil {
		os.Exit(9)
	}
	x, err := New(Options{Placement: pl, Session: o.Session, LogDir: filepath.Join(o.OutputDir, "logs")})
	if err != nil {
		os.Exit(10)
	}
	runner.Run(context.Background(), runner.Options{DB: db, Session: o.Session, Template: o.Template, OutputDir: o.OutputDir, Executor: x},
		func(ev runner.Event) {
			if ev.Kind == runner.EventQueued {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		})
	os.Exit(0)
}

// perfpilot killed (SIGKILL) right after submitting: the next run
// re-attaches to the queued jobs and no task is submitted or run twice.
func TestSlurmKillAndResume(t *testing.T) {
	needSlurm(t)
	t.Parallel()
	cfgs := []engine.Config{cfg("gpt2", "cpu", 1), cfg("gpt2", "cuda", 1), cfg("t5-small", "cpu", 1), cfg("t5-small", "cuda", 2)}
	// Unique: Slurm remembers finished jobs of earlier test runs for a while.
	session := fmt.Sprintf("killed-%d", time.Now().UnixNano())
	e := newEnv(t, session, engine.MustBuiltinCatalog(), cfgs)
	script := filepath.Join(e.dir, "bench.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 2\necho '{\"throughput\": 5}'\n"), 0o755)
	o := e.options(script + " {model} {hardware}")
	spec, _ := json.Marshal(map[string]string{"DB": filepath.Join(e.dir, "perfpilot.db"), "Session": session, "Template": o.Template,
		"OutputDir": o.OutputDir, "Placement": twoPartitions})
	self, _ := os.Executable()
	child := exec.Command(self, "-test.run=^$")
	child.Env = append(os.Environ(), "PERFPILOT_SLURM_TEST_CRASH="+string(spec))
	err := child.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v", err)
	}

	cmd := &counting{}
	o.Executor = e.executor(t, twoPartitions, cmd)
	start := time.Now()
	var attached time.Duration
	var once sync.Once
	sum, err := runner.Run(context.Background(), o, func(ev runner.Event) {
		once.Do(func() { attached = time.Since(start) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if cmd.n("sbatch") != 0 || sum.Count(runner.StatusMeasured) != 4 {
		t.Errorf("resume submitted %d arrays, measured %d", cmd.n("sbatch"), sum.Count(runner.StatusMeasured))
	}
	// The ≤ 1 s target is measured by BenchmarkRun1000/reattach; here it is
	// only reported, as timings on a loaded machine vary.
	t.Logf("re-attached: first event %v after the resume started", attached)
	out, err := exec.Command("squeue", "-h", "-t", "all", "--name=perfpilot-"+session, "-O", "ArrayJobID:|").Output()
	if err != nil {
		t.Fatal(err)
	}
	arrays := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		arrays[l] = true
	}
	if len(arrays) != 2 {
		t.Errorf("Slurm saw %d arrays for the session, want 2: %q", len(arrays), out)
	}
	for _, j := range sum.Jobs {
		if n := strings.Count(logText(t, j.LogPath), "=== perfpilot task "); n != 1 {
			t.Errorf("%s started %d times", j.Config, n)
		}
	}
}

// A Submit interrupted between sbatch and the state file is found again
// by the token in the array's comment.
func TestSlurmRecover(t *testing.T) {
	needSlurm(t)
	t.Parallel()
	e := newEnv(t, "recover", engine.MustBuiltinCatalog(), nil)
	x := e.executor(t, twoPartitions, &counting{})
	logs := filepath.Join(e.dir, "out", "logs")
	os.MkdirAll(logs, 0o755)
	var tasks []runner.Task
	for i, c := range []engine.Config{cfg("gpt2", "cpu", 1), cfg("gpt2", "cuda", 1), cfg("t5-small", "cpu", 1)} {
		tasks = append(tasks, runner.Task{Key: c.Key(), Config: c, Argv: []string{"true"}, LogPath: filepath.Join(logs, fmt.Sprintf("%d.log", i)),
			Nonce: fmt.Sprintf("n%d", i)})
	}
	refs, err := x.Submit(context.Background(), tasks)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.executor(t, twoPartitions, &counting{}).Recover(context.Background(), tasks)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(refs) {
		t.Errorf("Recover = %v, %v; Submit gave %v", got, err, refs)
	}
	tasks[0].Nonce = "other"
	got, _ = e.executor(t, twoPartitions, &counting{}).Recover(context.Background(), tasks[:1])
	if got[0] != "" {
		t.Errorf("a never-submitted task was found: %v", got)
	}
}

// A model id full of shell syntax reaches the benchmark as one argv word
// through sbatch and the batch script, and nothing else runs.
func TestSlurmHostileModel(t *testing.T) {
	needSlurm(t)
	t.Parallel()
	dir := t.TempDir()
	canary := filepath.Join(dir, "CANARY")
	evil := fmt.Sprintf(`m"; touch %s; echo '$(touch %s)' `+"`touch %s`"+` && touch %s #`, canary, canary, canary, canary)
	e := newEnv(t, "hostile $(touch "+canary+")", engine.MustBuiltinCatalog(), []engine.Config{cfg(evil, "cpu", 1)})
	record := filepath.Join(dir, "argv.jsonl")
	self, _ := os.Executable()
	o := e.options("env " + cmdtmpl.Quote(recordEnv+"="+record) + " " + cmdtmpl.Quote(self) + " --model {model} --out={output_dir}")
	o.Executor = e.executor(t, twoPartitions, &counting{})
	sum, err := runner.Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Jobs[0].Status != runner.StatusMeasured {
		t.Fatalf("%s %q\n%s", sum.Jobs[0].Status, sum.Jobs[0].Reason, logText(t, sum.Jobs[0].LogPath))
	}
	data, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	var argv []string
	if err := json.Unmarshal(bytes.TrimSpace(data), &argv); err != nil || len(argv) != 3 || argv[0] != "--model" || argv[1] != evil {
		t.Errorf("argv %q (%v), want [--model %q --out=...]", argv, err, evil)
	}
	if _, err := os.Stat(canary); err == nil {
		t.Error("the canary file appeared: a shell ran part of the model id")
	}
}

// Ctrl+C answered "cancel": one scancel for the session's jobs, nothing
// left in the queue, nothing imported or failed; the next run submits the
// configurations again.
func TestSlurmInterruptCancel(t *testing.T) {
	needSlurm(t)
	t.Parallel()
	session := fmt.Sprintf("cancel-%d", time.Now().UnixNano())
	cfgs := []engine.Config{cfg("gpt2", "cpu", 1), cfg("gpt2", "cuda", 1), cfg("t5-small", "cpu", 1)}
	e := newEnv(t, session, engine.MustBuiltinCatalog(), cfgs)
	script := filepath.Join(e.dir, "bench.sh")
	os.WriteFile(script, []byte("#!/bin/sh\n[ -e \"$1\" ] || sleep 300\necho '{\"throughput\": 5}'\n"), 0o755)
	release := filepath.Join(e.dir, "release")
	o := e.options(script + " " + cmdtmpl.Quote(release) + " {model}")
	cmd := &counting{}
	o.Executor = e.executor(t, twoPartitions, cmd)
	o.OnInterrupt = func() bool { return true }
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	sum, err := runner.Run(ctx, o, func(ev runner.Event) {
		if ev.Kind == runner.EventStarted {
			once.Do(cancel)
		}
	})
	if !errors.Is(err, runner.ErrInterrupted) || sum.Left != 0 || cmd.n("scancel") != 1 {
		t.Fatalf("cancelled run: %v, left %d, %d scancel calls", err, sum.Left, cmd.n("scancel"))
	}
	for _, j := range sum.Jobs {
		if j.Status != runner.StatusInterrupted && j.Status != runner.StatusPending {
			t.Errorf("%s: %s %q", j.Config, j.Status, j.Reason)
		}
	}
	out, _ := exec.Command("squeue", "-h", "--name=perfpilot-"+session).Output()
	if strings.TrimSpace(string(out)) != "" {
		t.Errorf("jobs still queued after the cancel:\n%s", out)
	}
	os.WriteFile(release, nil, 0o644)
	o.Executor = e.executor(t, twoPartitions, &counting{})
	o.OnInterrupt = nil
	sum, err = runner.Run(context.Background(), o, nil)
	if err != nil || sum.Count(runner.StatusMeasured) != 3 {
		t.Errorf("rerun: %v, %d measured", err, sum.Count(runner.StatusMeasured))
	}
}
