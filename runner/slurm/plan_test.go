package slurm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/runner/placement"
	"perfpilot/store"
)

// scripted answers sbatch with new job ids and squeue with every task of
// the arrays it submitted in one state; it counts calls. It stands in for
// Slurm where the tests measure perfpilot's own work (submission time,
// poll rate); the real-Slurm tests cover the behaviour.
type scripted struct {
	mu     sync.Mutex
	next   int
	arrays map[string]int // job id → tasks
	state  string
	calls  map[string][]time.Time
}

func (s *scripted) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls, s.arrays = map[string][]time.Time{}, map[string]int{}
	}
	s.calls[name] = append(s.calls[name], time.Now())
	switch name {
	case "sbatch":
		s.next++
		id := fmt.Sprint(1000 + s.next)
		for _, a := range args {
			if r, ok := strings.CutPrefix(a, "--array=0-"); ok {
				var n int
				fmt.Sscanf(r, "%d", &n)
				s.arrays[id] = n + 1
			}
		}
		return []byte(id + "\n"), nil
	case "squeue":
		var b strings.Builder
		for id, n := range s.arrays {
			for i := range n {
				fmt.Fprintf(&b, "%s_%d|%s|None|0|\n", id, i, s.state)
			}
		}
		return []byte(b.String()), nil
	case "sacct":
		return nil, errors.New("sacct: Slurm accounting storage is disabled")
	}
	return nil, fmt.Errorf("unexpected %s", name)
}

func tasksOn(t testing.TB, n int, hardware ...string) []runner.Task {
	dir := t.TempDir()
	out := make([]runner.Task, n)
	for i := range out {
		c := engine.Config{Model: fmt.Sprintf("model-%d $(touch x)", i), Hardware: hardware[i%len(hardware)], BatchSize: 1 + i%8,
			Precision: engine.FP16, SequenceLength: 128, GPUCount: 1 + i%2}
		out[i] = runner.Task{Key: c.Key(), Config: c, Argv: []string{"bench", "--model", c.Model}, LogPath: filepath.Join(dir, fmt.Sprintf("%d.log", i)),
			Nonce: fmt.Sprintf("%016x", i)}
	}
	return out
}

func newScripted(t testing.TB, pl string, cmd runner.Commander, maxConc int) *Exec {
	f, err := placement.Parse([]byte(pl), "placement.json")
	if err != nil {
		t.Fatal(err)
	}
	x, err := New(Options{Placement: f, Session: "s $(x)", LogDir: t.TempDir(), MaxConcurrent: maxConc, Perfpilot: "/opt/perf pilot", Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestPlanGroupsAndFlags(t *testing.T) {
	x := newScripted(t, twoPartitions, &scripted{}, 3)
	subs, err := x.Plan(tasksOn(t, 8, "cpu", "cuda"))
	if err != nil {
		t.Fatal(err)
	}
	// cpu: GPU counts 1 (even i); cuda: odd i, GPU count 2 → gres n = 2.
	if len(subs) != 2 {
		t.Fatalf("%d submissions: %+v", len(subs), subs)
	}
	cuda := strings.Join(subs[1].Command, " ")
	for _, want := range []string{"--array=0-3%3", "--partition=gpu", "--gres=gpu:a100:2", "--job-name=perfpilot-s___x_", "--time=10:00", "--parsable"} {
		if !strings.Contains(cuda, want) {
			t.Errorf("cuda sbatch %q lacks %q", cuda, want)
		}
	}
	for _, s := range subs {
		if strings.Contains(strings.Join(s.Command, " "), "touch") {
			t.Errorf("a configuration value reached sbatch's argv: %q", s.Command)
		}
	}
	_, err = newScripted(t, `{"placements": {"cpu": {"slurm": {"partition": "cpu"}}}}`, &scripted{}, 0).Plan(tasksOn(t, 4, "cpu", "rocm"))
	var me *placement.MissingError
	if !errors.As(err, &me) || len(me.Configs) != 2 || me.Hardware[0] != "rocm" {
		t.Errorf("missing placement: %v", err)
	}
}

// The batch script is fixed text: quoted paths perfpilot chose, no value.
func TestBatchScript(t *testing.T) {
	cmd := &scripted{}
	x := newScripted(t, twoPartitions, cmd, 0)
	tasks := tasksOn(t, 2, "cpu")
	if _, err := x.Submit(context.Background(), tasks); err != nil {
		t.Fatal(err)
	}
	scripts, _ := filepath.Glob(filepath.Join(x.dir(), "*.sh"))
	if len(scripts) != 1 {
		t.Fatalf("scripts %v", scripts)
	}
	data, _ := os.ReadFile(scripts[0])
	script := string(data)
	if strings.Contains(script, "touch") || !strings.Contains(script, "exec '/opt/perf pilot' --grace 5s --spec /") ||
		!strings.Contains(script, "--index-env SLURM_ARRAY_TASK_ID") {
		t.Errorf("batch script:\n%s", script)
	}
	specs, _ := filepath.Glob(filepath.Join(x.dir(), "*.json"))
	data, _ = os.ReadFile(specs[0])
	var spec runner.TaskSpec
	if err := json.Unmarshal(data, &spec); err != nil || len(spec.Tasks) != 2 || spec.Tasks[1].Log != tasks[1].LogPath ||
		spec.Tasks[1].Argv[2] != tasks[1].Config.Model {
		t.Errorf("spec %+v (%v)", spec, err)
	}
}

// However large the arrays, a poll is one squeue call and polls are at
// least a second apart, backing off while nothing changes.
func TestPollRate(t *testing.T) {
	cmd := &scripted{state: "RUNNING"}
	x := newScripted(t, twoPartitions, cmd, 0)
	refs, err := x.Submit(context.Background(), tasksOn(t, 3000, "cpu", "cuda"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4500*time.Millisecond)
	defer cancel()
	start := time.Now()
	ups, err := x.Wait(ctx, refs)
	if err != nil || len(ups) != 3000 {
		t.Fatalf("first Wait: %d updates, %v", len(ups), err)
	}
	if _, err := x.Wait(ctx, refs); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Wait: %v", err)
	}
	polls := cmd.calls["squeue"]
	// At 0 s, then after 1, 2 (backing off) → 3 s: three in 4.5 s.
	if len(polls) > 3 || len(polls) < 1 {
		t.Errorf("%d squeue calls in %v, want at most 3", len(polls), time.Since(start))
	}
	for i := 1; i < len(polls); i++ {
		if d := polls[i].Sub(polls[i-1]); d < 990*time.Millisecond {
			t.Errorf("polls %v apart", d)
		}
	}
}

// Submitting 1,000 configurations: the runner's plan, state file and the
// executor's specs, scripts and output links (sbatch itself scripted).
func BenchmarkSubmit1000(b *testing.B) {
	for b.Loop() {
		cmd := &scripted{state: "PENDING"}
		x := newScripted(b, twoPartitions, cmd, 0)
		if _, err := x.Submit(context.Background(), tasksOn(b, 1000, "cpu", "cuda")); err != nil {
			b.Fatal(err)
		}
	}
}

// saved1000 saves a session of n configurations over two hardware types.
func saved1000(b *testing.B, n int) (*store.DB, string) {
	b.Helper()
	dir := b.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "perfpilot.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	recs := make([]engine.Recommendation, n)
	for i := range recs {
		recs[i] = engine.Recommendation{ModelName: fmt.Sprintf("org/model-%d", i), ModelType: "text_generation", Hardware: []string{"cpu", "cuda"}[i%2],
			BatchSize: 1 + i%8, Precision: engine.FP16, SequenceLength: 128}
	}
	err = db.SaveSession(context.Background(), store.Session{Name: "big", Report: &engine.Report{Recommendations: recs},
		Params: store.SessionParams{RankParams: engine.RankParams{Metric: engine.Throughput, Budget: n}}})
	if err != nil {
		b.Fatal(err)
	}
	return db, dir
}

// The targets: 1,000 configurations submitted as arrays (plan, state file,
// specs, scripts, output links; sbatch scripted) and, after the run is
// gone, a new run re-attaching to the 1,000 queued jobs (plan from the
// state file, first squeue, first event).
func BenchmarkRun1000(b *testing.B) {
	pl, _ := placement.Parse([]byte(twoPartitions), "p.json")
	opts := func(db *store.DB, dir string, cmd runner.Commander) runner.Options {
		x, err := New(Options{Placement: pl, Session: "big", LogDir: filepath.Join(dir, "out", "logs"), Cmd: cmd})
		if err != nil {
			b.Fatal(err)
		}
		return runner.Options{DB: db, Session: "big", Template: "bench --model {model} --batch-size {batch_size}", OutputDir: filepath.Join(dir, "out"),
			Executor: x, OnInterrupt: func() bool { return false }}
	}
	submit := func(db *store.DB, dir string, cmd runner.Commander) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sum, err := runner.Run(ctx, opts(db, dir, cmd), func(ev runner.Event) { cancel() })
		if !errors.Is(err, runner.ErrInterrupted) || sum.Left != 1000 {
			b.Fatalf("submit: %v, left %d", err, sum.Left)
		}
	}
	b.Run("submit", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db, dir := saved1000(b, 1000)
			b.StartTimer()
			submit(db, dir, &scripted{state: "PENDING"})
		}
	})
	b.Run("reattach", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db, dir := saved1000(b, 1000)
			cmd := &scripted{state: "PENDING"}
			submit(db, dir, cmd)
			b.StartTimer()
			ctx, cancel := context.WithCancel(context.Background())
			o := opts(db, dir, cmd)
			plan, err := runner.NewPlan(ctx, o)
			if err != nil || plan.Attached() != 1000 {
				b.Fatalf("plan: %v, %d attached", err, plan.Attached())
			}
			runner.Execute(ctx, o, plan, func(ev runner.Event) { cancel() })
			cancel()
		}
	})
}

// accounting answers squeue for some tasks only (Slurm forgets finished
// jobs after MinJobAge) and sacct, in its --parsable2 form, for the rest —
// or fails as on a cluster without accounting.
type accounting struct {
	squeue, sacct string
	sacctErr      error
	calls         map[string]int
}

func (a *accounting) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	a.calls[name]++
	switch name {
	case "squeue":
		return []byte(a.squeue), nil
	case "sacct":
		return []byte(a.sacct), a.sacctErr
	}
	return nil, fmt.Errorf("unexpected %s", name)
}

// Tasks squeue no longer lists are asked of sacct, whose states and exit
// codes (signals as 128+n) map as squeue's do; where accounting is off, sacct
// is asked once and the tasks are gone (the runner then reads their logs).
func TestForgottenJobsAskSacct(t *testing.T) {
	refs := []string{"1001_0", "1001_1", "1001_2", "1001_3", "1001_4"}
	a := &accounting{calls: map[string]int{},
		squeue: "1001_0|RUNNING|None|0|\n",
		sacct:  "1001_1|COMPLETED|0:0\n1001_2|CANCELLED by 0|0:15\n1001_3|FAILED|3:0\n"}
	x := newScripted(t, twoPartitions, a, 0)
	got, err := x.status(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ref   string
		phase runner.Phase
		code  int
		why   string
	}{
		{"1001_0", runner.PhaseRunning, 0, ""},
		{"1001_1", runner.PhaseFinished, 0, ""},
		{"1001_2", runner.PhaseFinished, 128 + 15, "CANCELLED"},
		{"1001_3", runner.PhaseFinished, 3, ""},
		{"1001_4", runner.PhaseGone, 0, ""},
	} {
		u := got[c.ref]
		if u.Phase != c.phase || u.ExitCode != c.code || !strings.Contains(u.Reason, c.why) {
			t.Errorf("%s: %+v; want phase %v, exit %d, reason with %q", c.ref, u, c.phase, c.code, c.why)
		}
	}

	off := &accounting{calls: map[string]int{}, sacctErr: errors.New("sacct: Slurm accounting storage is disabled")}
	x = newScripted(t, twoPartitions, off, 0)
	for range 2 {
		got, err := x.status(context.Background(), refs[:2])
		if err != nil || got["1001_0"].Phase != runner.PhaseGone || got["1001_1"].Phase != runner.PhaseGone {
			t.Fatalf("without accounting: %+v, %v", got, err)
		}
	}
	if off.calls["sacct"] != 1 || off.calls["squeue"] != 2 {
		t.Errorf("without accounting: calls %v; want sacct asked once, squeue each time", off.calls)
	}
}
