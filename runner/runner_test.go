package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/store"
)

// With PERFPILOT_RUNNER_ARGV set, the test binary is a benchmark command:
// it appends its argv (JSON) to that file and prints a metric.
func TestMain(m *testing.M) {
	if path := os.Getenv("PERFPILOT_RUNNER_ARGV"); path != "" {
		line, _ := json.Marshal(os.Args[1:])
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			os.Exit(9)
		}
		fmt.Fprintf(f, "%s\n", line)
		f.Close()
		fmt.Println(`{"throughput": 42, "latency_ms": 3.5, "memory_mb": 100}`)
		os.Exit(0)
	}
	if spec := os.Getenv("PERFPILOT_RUNNER_CRASH"); spec != "" {
		crashChild(spec)
	}
	os.Exit(m.Run())
}

// crashChild runs a session and SIGKILLs itself once the file named by
// KillWhen exists (a benchmark writes it): a crash while a command runs.
func crashChild(spec string) {
	var o struct{ DB, Session, Template, OutputDir, KillWhen string }
	if err := json.Unmarshal([]byte(spec), &o); err != nil {
		os.Exit(7)
	}
	db, err := store.Open(context.Background(), o.DB, store.WithSeed(func() []engine.Result { return engine.DemoHistory(engine.MustBuiltinCatalog()) }))
	if err != nil {
		os.Exit(8)
	}
	go func() {
		for {
			if _, err := os.Stat(o.KillWhen); err == nil {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	Run(context.Background(), Options{DB: db, Session: o.Session, Template: o.Template, OutputDir: o.OutputDir}, nil)
	os.Exit(0)
}

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newDB(t *testing.T, cat *engine.Catalog) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "perfpilot.db"), store.WithSeed(func() []engine.Result { return engine.DemoHistory(cat) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// saveSession integrates over the database's results and saves the report
// as a session.
func saveSession(t *testing.T, db *store.DB, cat *engine.Catalog, name string, budget int, limit *engine.RankParams, selected []int) *store.Session {
	t.Helper()
	ctx := context.Background()
	rs, err := db.AllResults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	params := engine.RankParams{Budget: budget, Metric: engine.Throughput, Seed: 1}
	if limit != nil {
		params.Models, params.Hardware = limit.Models, limit.Hardware
	}
	rep, _, err := engine.Plan(ctx, cat, rs, params, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Recommendations) != budget && limit == nil {
		t.Fatalf("integrate gave %d rows, want %d", len(rep.Recommendations), budget)
	}
	s := store.Session{Name: name, Params: store.SessionParams{RankParams: params}, Report: rep, Selected: selected}
	if err := db.SaveSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.Session(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// bench is a fake benchmark: a shell script that counts its invocations
// and acts as the actions file says for "model|hardware|batch|precision".
type bench struct {
	dir, script, actions, counter string
}

func newBench(t *testing.T) *bench {
	t.Helper()
	dir := t.TempDir()
	b := &bench{dir: dir, script: filepath.Join(dir, "bench.sh"), actions: filepath.Join(dir, "actions"), counter: filepath.Join(dir, "counter")}
	script := `#!/bin/sh
key="$1|$2|$3|$4"
echo "$key" >> ` + cmdtmpl.Quote(b.counter) + `
action=$(awk -F'\t' -v k="$key" '$1 == k { a = $2 } END { print a }' ` + cmdtmpl.Quote(b.actions) + `)
echo "bench $key: $action"
case "$action" in
json)   echo "Throughput: 1 items/s"; echo '{"throughput": 200.5, "latency_ms": 5, "memory_mb": 1024}'; echo "Latency: 9 ms" ;;
text)   echo "Throughput: 80 samples/s"; echo "Latency: 0.1 s" >&2; echo "Memory: 2 GB" ;;
fail)   echo '{"throughput": 1}'; echo "CUDA error" >&2; exit 3 ;;
hang)   sleep 300 & echo $! > ` + cmdtmpl.Quote(filepath.Join(dir, "child.pid.tmp")) + ` && mv ` + cmdtmpl.Quote(filepath.Join(dir, "child.pid.tmp")) + ` ` + cmdtmpl.Quote(filepath.Join(dir, "child.pid")) + `; wait ;;
slow)   sleep 2; echo '{"throughput": 7}' ;;
silent) echo "done, no numbers" ;;
*)      echo "no action for $key" >&2; exit 64 ;;
esac
`
	if err := os.WriteFile(b.script, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bench) template() string {
	return "sh " + cmdtmpl.Quote(b.script) + " {model} {hardware} {batch_size} {precision} --out {output_dir}"
}

func benchKey(c engine.Config) string {
	return fmt.Sprintf("%s|%s|%d|%s", c.Model, c.Hardware, c.BatchSize, c.Precision)
}

func (b *bench) set(t *testing.T, actions map[engine.Config]string) {
	t.Helper()
	var sb strings.Builder
	for c, a := range actions {
		fmt.Fprintf(&sb, "%s\t%s\n", benchKey(c), a)
	}
	if err := os.WriteFile(b.actions, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// calls counts invocations per configuration key.
func (b *bench) calls(t *testing.T) map[string]int {
	t.Helper()
	data, err := os.ReadFile(b.counter)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]int{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l != "" {
			out[l]++
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func runResults(t *testing.T, db *store.DB, session string) map[string]store.StoredResult {
	t.Helper()
	rs, err := db.Results(context.Background(), store.ResultFilter{Source: Source(session)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.StoredResult{}
	for _, r := range rs {
		if _, dup := out[r.Config.Key()]; dup {
			t.Errorf("%s imported twice", r.Config)
		}
		out[r.Config.Key()] = r
	}
	return out
}

// recorder collects events; Run never calls it concurrently.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	// A zombie waiting for a reaper is dead too.
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(data))
	return len(f) > 2 && f[2] == "Z"
}

func TestRunOutcomes(t *testing.T) {
	ctx := context.Background()
	cat := engine.MustBuiltinCatalog()
	db := newDB(t, cat)
	before, _ := db.CountResults(ctx)
	sess := saveSession(t, db, cat, "demo", 5, nil, nil)
	recs := sess.Report.Recommendations
	actions := []string{"json", "text", "fail", "hang", "silent"}
	b := newBench(t)
	m := map[engine.Config]string{}
	for i, a := range actions {
		m[recs[i].Config()] = a
	}
	b.set(t, m)

	out := filepath.Join(t.TempDir(), "results")
	rec := &recorder{}
	start := time.Now()
	sum, err := Run(ctx, Options{DB: db, Session: "demo", Template: b.template(), OutputDir: out, Parallel: 2,
		Timeout: 1500 * time.Millisecond, Grace: 300 * time.Millisecond, Now: func() time.Time { return testNow }}, rec.add)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("run took %v: the hanging command was not stopped", el)
	}

	// Imported: exactly the two that printed metrics and exited 0.
	got := runResults(t, db, "demo")
	if len(got) != 2 {
		t.Fatalf("imported %d results, want 2: %+v", len(got), got)
	}
	j := got[recs[0].Config().Key()]
	if j.Throughput != 200.5 || j.LatencyMS != 5 || j.MemoryMB != 1024 || j.ModelType != recs[0].ModelType || !j.Timestamp.Equal(testNow) {
		t.Errorf("json result = %+v", j)
	}
	tx := got[recs[1].Config().Key()]
	if tx.Throughput != 80 || tx.LatencyMS != 100 || tx.MemoryMB != 2048 {
		t.Errorf("text result = %+v", tx)
	}
	if n, _ := db.CountResults(ctx); n != before+2 {
		t.Errorf("results %d, want %d", n, before+2)
	}

	// Failed: recorded with exit code and log, in the summary and the state file.
	wantCode := map[int]int{2: 3, 3: 128 + int(syscall.SIGTERM), 4: 0}
	wantReason := map[int]string{2: "exit status 3", 3: "timed out", 4: "no metric"}
	state, err := ReadState(filepath.Join(out, "logs"), "demo")
	if err != nil {
		t.Fatal(err)
	}
	for i, job := range sum.Jobs {
		if job.Row != i || job.Config != recs[i].Config() {
			t.Fatalf("job %d is row %d %s", i, job.Row, job.Config)
		}
		st := state[job.Config.Key()]
		if st == nil {
			t.Fatalf("%s: no state", job.Config)
		}
		if _, err := os.Stat(job.LogPath); err != nil {
			t.Errorf("%s: log: %v", job.Config, err)
		}
		if filepath.Dir(job.LogPath) != filepath.Join(out, "logs") || st.Log != job.LogPath {
			t.Errorf("%s: log %s, state log %s", job.Config, job.LogPath, st.Log)
		}
		if i < 2 {
			if job.Status != StatusMeasured || st.Status != StatusMeasured {
				t.Errorf("%s: status %s / %s, want measured", job.Config, job.Status, st.Status)
			}
			continue
		}
		if job.Status != StatusFailed || st.Status != StatusFailed || job.ExitCode != wantCode[i] || st.ExitCode != wantCode[i] ||
			!strings.Contains(job.Reason, wantReason[i]) {
			t.Errorf("%s (%s): job %+v, state %+v; want failed, exit %d, %q", job.Config, actions[i], job, st, wantCode[i], wantReason[i])
		}
	}
	logText, _ := os.ReadFile(sum.Jobs[2].LogPath)
	if !strings.Contains(string(logText), "CUDA error") || !strings.Contains(string(logText), "exit status 3") {
		t.Errorf("failed log lacks stderr or status:\n%s", logText)
	}
	if sum.Progress.Done != 2 || sum.Progress.Failed != 3 || sum.Progress.Remaining != 0 || sum.Progress.Running != 0 {
		t.Errorf("progress %+v", sum.Progress)
	}

	// The hanging command's whole process group was killed.
	pidText, err := os.ReadFile(filepath.Join(b.dir, "child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidText)))
	deadline := time.Now().Add(3 * time.Second)
	for !processGone(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !processGone(pid) {
		t.Errorf("child %d of the timed-out command is still running", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}

	// Events: one start and one finish per configuration, with log paths.
	kinds := map[EventKind]int{}
	for _, e := range rec.events {
		kinds[e.Kind]++
		if e.Job.LogPath == "" {
			t.Errorf("event %s without log path", e.Kind)
		}
	}
	if kinds[EventStarted] != 5 || kinds[EventMeasured] != 2 || kinds[EventFailed] != 3 {
		t.Errorf("events %v", kinds)
	}
	if last := rec.events[len(rec.events)-1].Progress; last.Done+last.Failed != 5 || last.Remaining != 0 {
		t.Errorf("last progress %+v", last)
	}

	// A second run skips the measured and the failed ones.
	calls := total(b.calls(t))
	sum2, err := Run(ctx, Options{DB: db, Session: "demo", Template: b.template(), OutputDir: out, Timeout: time.Second, Grace: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := total(b.calls(t)); n != calls {
		t.Errorf("second run invoked %d commands, want none", n-calls)
	}
	if sum2.Count(StatusSkipped) != 2 || sum2.Count(StatusSkipFailed) != 3 {
		t.Errorf("second run: %d skipped, %d skipped-failed", sum2.Count(StatusSkipped), sum2.Count(StatusSkipFailed))
	}

	// --retry-failed runs the failed ones again; now they succeed.
	for i := 2; i < 5; i++ {
		m[recs[i].Config()] = "json"
	}
	b.set(t, m)
	sum3, err := Run(ctx, Options{DB: db, Session: "demo", Template: b.template(), OutputDir: out, RetryFailed: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := total(b.calls(t)); n != calls+3 || sum3.Count(StatusMeasured) != 3 {
		t.Errorf("retry ran %d commands, measured %d; want 3, 3", n-calls, sum3.Count(StatusMeasured))
	}
	if got := runResults(t, db, "demo"); len(got) != 5 {
		t.Errorf("after retry %d results, want 5", len(got))
	}
	state, _ = ReadState(filepath.Join(out, "logs"), "demo")
	if st := state[recs[2].Config().Key()]; st.Status != StatusMeasured || st.Attempts != 2 {
		t.Errorf("retried state %+v", st)
	}

	// The review compares the five measurements with the predictions and
	// re-ranks without the now-measured configurations.
	rv, err := NewReview(ctx, db, cat, sess, sum3, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(rv.Comparisons) != 5*3 {
		t.Errorf("%d comparisons, want 15", len(rv.Comparisons))
	}
	for _, c := range rv.Comparisons {
		if c.Metric == engine.Throughput && c.Measured != 200.5 && c.Measured != 80 {
			t.Errorf("comparison %+v", c)
		}
	}
	for _, r := range rv.Report.Recommendations {
		for _, old := range recs {
			if r.Config() == old.Config() {
				t.Errorf("re-ranked report still recommends measured %s", r.Config())
			}
		}
	}
	if len(rv.Report.Recommendations) != 5 || rv.Report.Data.Sources[Source("demo")] != 5 {
		t.Errorf("report: %d rows, sources %v", len(rv.Report.Recommendations), rv.Report.Data.Sources)
	}
}

// Hostile model and hardware ids from a user catalog reach the command as
// plain argv words: no shell ever sees them.
func TestRunInjection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	marker := filepath.Join(dir, "MARKER")
	evilModel := fmt.Sprintf(`evil $(touch %s) "dq" 'sq'; touch %s`, marker, marker)
	evilHW := fmt.Sprintf("gpu`touch %s`;echo 'x' \"y\" $(touch %s) && touch %s", marker, marker, marker)
	doc, _ := json.Marshal(map[string]any{
		"models": []map[string]any{{"id": evilModel, "model_type": "text_embedding", "layers": 2, "hidden": 64, "heads": 2,
			"intermediate": 256, "vocab": 1000, "sequence_length": 16}},
		"hardware": []map[string]any{{"id": evilHW, "backend": "cpu", "name": "evil", "peak_tflops": map[string]float64{"fp32": 1},
			"memory_bandwidth_gbps": 50, "memory_gb": 16, "tdp_watts": 65, "availability": 1, "relative_cost": 0.1, "deployment_complexity": 0.1}},
	})
	cat := engine.MustBuiltinCatalog()
	if err := cat.AddJSON(doc, "evil"); err != nil {
		t.Fatal(err)
	}
	db := newDB(t, cat)
	limit := engine.RankParams{Models: []string{evilModel}, Hardware: []string{evilHW, "cpu"}}
	sess := saveSession(t, db, cat, "evil; $(touch "+marker+")", 4, &limit, nil)
	n := len(sess.Report.Recommendations)
	if n < 2 {
		t.Fatalf("only %d hostile configurations", n)
	}

	argvFile := filepath.Join(dir, "argv.jsonl")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := cmdtmpl.Quote(exe) + ` --model {model} --hardware={hardware} --batch-size {batch_size} --precision {precision} --output-dir {output_dir}`
	out := filepath.Join(dir, "out $(touch "+marker+")")
	env := append(os.Environ(), "PERFPILOT_RUNNER_ARGV="+argvFile)
	opts := Options{DB: db, Session: sess.Name, Template: tmpl, OutputDir: out, Env: env, Dir: dir}

	// The dry-run plan shows quoted commands that read back as the same argv.
	plan, err := NewPlan(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range plan.Jobs {
		back, err := cmdtmpl.Split(j.Command())
		if err != nil || !slices.Equal(back, j.Argv) {
			t.Errorf("display %s reads back as %q, %v", j.Command(), back, err)
		}
	}

	sum, err := Run(ctx, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("marker exists (%v): a value was run as code", err)
	}
	data, err := os.ReadFile(argvFile)
	if err != nil {
		t.Fatal(err)
	}
	var seen [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var a []string
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, a)
	}
	if len(seen) != n {
		t.Fatalf("%d invocations, want %d", len(seen), n)
	}
	for _, j := range sum.Jobs {
		want := []string{"--model", j.Config.Model, "--hardware=" + j.Config.Hardware, "--batch-size", strconv.Itoa(j.Config.BatchSize),
			"--precision", string(j.Config.Precision), "--output-dir", out}
		if !slices.ContainsFunc(seen, func(a []string) bool { return slices.Equal(a, want) }) {
			t.Errorf("no invocation with argv %q; got %q", want, seen)
		}
		if j.Status != StatusMeasured || filepath.Dir(j.LogPath) != filepath.Join(out, "logs") {
			t.Errorf("job %s: %s, log %s", j.Config, j.Status, j.LogPath)
		}
	}
	if got := runResults(t, db, sess.Name); len(got) != n || got[sum.Jobs[0].Config.Key()].Model != sum.Jobs[0].Config.Model {
		t.Errorf("imported %d results", len(got))
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("marker exists")
	}
}

// Cancelling after the first configuration finished keeps it; running again
// measures only the rest, and a third run does nothing.
func TestRunResumeAfterCancel(t *testing.T) {
	cat := engine.MustBuiltinCatalog()
	db := newDB(t, cat)
	sess := saveSession(t, db, cat, "resume", 6, nil, []int{0, 2, 3, 5})
	b := newBench(t)
	m := map[engine.Config]string{}
	for _, r := range sess.Report.Recommendations {
		m[r.Config()] = "json"
	}
	b.set(t, m)
	out := t.TempDir()
	opts := Options{DB: db, Session: "resume", Template: b.template(), OutputDir: out}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sum, err := Run(ctx, opts, func(e Event) {
		if e.Kind == EventMeasured {
			cancel()
		}
	})
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) || !sum.Interrupted {
		t.Fatalf("Run = %v, interrupted %v; want ErrInterrupted", err, sum.Interrupted)
	}
	if c := b.calls(t); total(c) != 1 || sum.Count(StatusMeasured) != 1 || sum.Count(StatusPending) != 3 {
		t.Fatalf("first run: %d calls, %d measured, %d pending", total(c), sum.Count(StatusMeasured), sum.Count(StatusPending))
	}
	if got := runResults(t, db, "resume"); len(got) != 1 {
		t.Fatalf("kept %d results, want 1", len(got))
	}

	sum, err = Run(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := b.calls(t)
	if total(calls) != 4 || len(calls) != 4 || sum.Count(StatusSkipped) != 1 || sum.Count(StatusMeasured) != 3 {
		t.Errorf("resumed run: calls %v, %d skipped, %d measured", calls, sum.Count(StatusSkipped), sum.Count(StatusMeasured))
	}
	// Only the selected rows ran.
	for _, row := range []int{1, 4} {
		if n := calls[benchKey(sess.Report.Recommendations[row].Config())]; n != 0 {
			t.Errorf("unselected row %d ran %d times", row, n)
		}
	}
	if _, err := Run(context.Background(), opts, nil); err != nil || total(b.calls(t)) != 4 {
		t.Errorf("third run: %v, %d calls", err, total(b.calls(t)))
	}
	if got := runResults(t, db, "resume"); len(got) != 4 {
		t.Errorf("%d results, want 4", len(got))
	}
}

// A run killed with SIGKILL while a command runs leaves no orphan (the
// wrapper gets SIGTERM from the kernel and stops the command's process
// group), keeps what it imported, and the next run repeats nothing that
// finished.
func TestRunResumeAfterSIGKILL(t *testing.T) {
	cat := engine.MustBuiltinCatalog()
	dbPath := filepath.Join(t.TempDir(), "perfpilot.db")
	db, err := store.Open(context.Background(), dbPath, store.WithSeed(func() []engine.Result { return engine.DemoHistory(cat) }))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sess := saveSession(t, db, cat, "crash", 3, nil, nil)
	recs := sess.Report.Recommendations
	b := newBench(t)
	b.set(t, map[engine.Config]string{recs[0].Config(): "json", recs[1].Config(): "hang", recs[2].Config(): "json"})
	out := t.TempDir()
	pidFile := filepath.Join(b.dir, "child.pid")
	spec, _ := json.Marshal(map[string]string{"DB": dbPath, "Session": "crash", "Template": b.template(), "OutputDir": out, "KillWhen": pidFile})
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "PERFPILOT_RUNNER_CRASH="+string(spec))
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v", err)
	}
	pidText, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if pid <= 0 {
		t.Fatalf("the hanging command wrote no pid: %q", pidText)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !processGone(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !processGone(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("the command's child %d outlived the killed run", pid)
	}
	if total(b.calls(t)) != 2 || len(runResults(t, db, "crash")) != 1 {
		t.Fatalf("after the crash: %d calls, %d results", total(b.calls(t)), len(runResults(t, db, "crash")))
	}
	state, _ := ReadState(filepath.Join(out, "logs"), "crash")
	if st := state[recs[1].Config().Key()]; st == nil || !st.inFlight() {
		t.Errorf("crashed configuration's state %+v, want queued or running", st)
	}

	b.set(t, map[engine.Config]string{recs[0].Config(): "json", recs[1].Config(): "json", recs[2].Config(): "json"})
	sum, err := Run(context.Background(), Options{DB: db, Session: "crash", Template: b.template(), OutputDir: out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := b.calls(t)
	if total(calls) != 4 || calls[benchKey(recs[0].Config())] != 1 || sum.Count(StatusSkipped) != 1 || sum.Count(StatusMeasured) != 2 {
		t.Errorf("resume: calls %v, summary skipped %d measured %d", calls, sum.Count(StatusSkipped), sum.Count(StatusMeasured))
	}
}

// Two runs of one session cannot overlap, and a configuration whose
// processes from an earlier run still hold its lock is not started again.
func TestRunLocks(t *testing.T) {
	ctx := context.Background()
	cat := engine.MustBuiltinCatalog()
	db := newDB(t, cat)
	sess := saveSession(t, db, cat, "locked", 2, nil, nil)
	recs := sess.Report.Recommendations
	b := newBench(t)
	b.set(t, map[engine.Config]string{recs[0].Config(): "json", recs[1].Config(): "json"})
	out := t.TempDir()
	logDir := filepath.Join(out, "logs")
	os.MkdirAll(logDir, 0o755)
	opts := Options{DB: db, Session: "locked", Template: b.template(), OutputDir: out, Grace: 100 * time.Millisecond}

	held, err := lockSession(logDir, "locked")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, opts, nil); err == nil || !strings.Contains(err.Error(), "another perfpilot") {
		t.Errorf("overlapping run: %v", err)
	}
	held.Close()

	// A leftover process of an earlier run holds the first configuration.
	key := sha256.Sum256([]byte("locked\x00" + recs[0].Config().Key()))
	os.MkdirAll(filepath.Join(logDir, ".locks"), 0o755)
	busy, err := tryLock(filepath.Join(logDir, ".locks", hex.EncodeToString(key[:8])+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if j := sum.Jobs[0]; j.Status != StatusInterrupted || !strings.Contains(j.Reason, "still running") {
		t.Errorf("locked configuration: %s %q", j.Status, j.Reason)
	}
	if c := b.calls(t); c[benchKey(recs[0].Config())] != 0 || c[benchKey(recs[1].Config())] != 1 {
		t.Errorf("calls %v", c)
	}
	busy.Close()
	sum, err = Run(ctx, opts, nil)
	if err != nil || sum.Count(StatusMeasured) != 1 || sum.Count(StatusSkipped) != 1 {
		t.Errorf("after the lock was released: %v, %+v", err, sum.Progress)
	}
}

// Cancelling while a command runs stops its process group within the grace
// period; the configuration is not marked failed and runs again on resume.
func TestRunCancelDuringCommand(t *testing.T) {
	cat := engine.MustBuiltinCatalog()
	db := newDB(t, cat)
	sess := saveSession(t, db, cat, "cancel", 2, nil, nil)
	recs := sess.Report.Recommendations
	b := newBench(t)
	b.set(t, map[engine.Config]string{recs[0].Config(): "hang", recs[1].Config(): "json"})
	out := t.TempDir()
	opts := Options{DB: db, Session: "cancel", Template: b.template(), OutputDir: out, Grace: 200 * time.Millisecond}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	sum, err := Run(ctx, opts, func(e Event) {
		if e.Kind == EventStarted {
			time.AfterFunc(300*time.Millisecond, cancel)
		}
	})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run = %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancel took %v", el)
	}
	if sum.Jobs[0].Status != StatusInterrupted || sum.Jobs[1].Status != StatusPending {
		t.Errorf("statuses %s, %s", sum.Jobs[0].Status, sum.Jobs[1].Status)
	}
	state, _ := ReadState(filepath.Join(out, "logs"), "cancel")
	if st := state[recs[0].Config().Key()]; st == nil || st.Status != StatusInterrupted {
		t.Errorf("state %+v", st)
	}
	pidText, _ := os.ReadFile(filepath.Join(b.dir, "child.pid"))
	if pid, _ := strconv.Atoi(strings.TrimSpace(string(pidText))); pid > 0 {
		deadline := time.Now().Add(3 * time.Second)
		for !processGone(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !processGone(pid) {
			t.Errorf("child %d survived the cancel", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}

	// Resume without --retry-failed: the interrupted one runs again.
	b.set(t, map[engine.Config]string{recs[0].Config(): "json", recs[1].Config(): "json"})
	sum, err = Run(context.Background(), opts, nil)
	if err != nil || sum.Count(StatusMeasured) != 2 {
		t.Fatalf("resume: %v, %d measured", err, sum.Count(StatusMeasured))
	}
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	cat := engine.MustBuiltinCatalog()
	db := newDB(t, cat)
	saveSession(t, db, cat, "s", 1, nil, nil)
	if _, err := Run(ctx, Options{DB: db, Session: "nope"}, nil); !errors.Is(err, store.ErrSessionNotFound) {
		t.Errorf("unknown session: %v", err)
	}
	if _, err := Run(ctx, Options{DB: db, Session: "s", Template: "bench {model}; x"}, nil); err == nil {
		t.Error("bad template accepted")
	}
	// A program that does not exist fails the configuration, not the run.
	out := t.TempDir()
	sum, err := Run(ctx, Options{DB: db, Session: "s", Template: "/nonexistent/bench {model}", OutputDir: out}, nil)
	if err != nil || sum.Jobs[0].Status != StatusFailed || !strings.Contains(sum.Jobs[0].Reason, "start") {
		t.Errorf("missing program: %v, %+v", err, sum.Jobs)
	}
}

func TestTailLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	var sb strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&sb, "line %d\n", i)
	}
	os.WriteFile(path, []byte(sb.String()), 0o644)
	got, err := TailLog(path, 3)
	if err != nil || !slices.Equal(got, []string{"line 99997", "line 99998", "line 99999"}) {
		t.Errorf("TailLog = %q, %v", got, err)
	}
}

func TestLogPathSafe(t *testing.T) {
	dir := "/logs"
	a := logPath(dir, "s", engine.Config{Model: "../../etc/passwd", Hardware: "a/b", BatchSize: 1, Precision: "fp32", SequenceLength: 1})
	b := logPath(dir, "s", engine.Config{Model: "__.._etc_passwd", Hardware: "a_b", BatchSize: 1, Precision: "fp32", SequenceLength: 1})
	if filepath.Dir(a) != dir || a == b {
		t.Errorf("log paths %s, %s", a, b)
	}
}
