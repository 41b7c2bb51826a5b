// Package runner runs benchmark commands for the configurations of a saved
// session and brings their measurements back: it renders each command from
// a template without a shell, runs it in its own process group with a
// timeout and a log file, parses the metrics it prints, imports them into
// the store one configuration per transaction, and keeps a state file so an
// interrupted run resumes where it stopped. The engine stays pure; process
// execution lives here.
package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"perfpilot/engine"
	"perfpilot/store"
)

// Defaults of Options.
const (
	DefaultGrace = 5 * time.Second
)

// Options configure a run.
type Options struct {
	DB *store.DB
	// Session names the saved session whose selected rows (all rows when
	// none are selected) are run.
	Session string
	// Template is the benchmark command (store.DefaultScriptTemplate when
	// empty); see ParseTemplate.
	Template string
	// OutputDir is substituted for {output_dir} and created
	// (store.DefaultOutputDir when empty).
	OutputDir string
	// LogDir receives one log per configuration and the state file
	// (OutputDir/logs when empty).
	LogDir string
	// Parallel is how many commands run at once (1 when zero).
	Parallel int
	// Timeout bounds each command (0: no limit).
	Timeout time.Duration
	// Grace is how long a stopped command's process group has between
	// SIGTERM and SIGKILL (DefaultGrace when zero).
	Grace time.Duration
	// RetryFailed runs configurations whose last attempt failed again;
	// without it they are skipped.
	RetryFailed bool
	// Dir is the commands' working directory (the current one when empty);
	// Env their environment (this process's when nil).
	Dir string
	Env []string
	// Now stamps measured results (time.Now when nil).
	Now func() time.Time
}

// Source is the provenance label of results measured for a session.
func Source(session string) string { return "run:" + session }

// Status is where a configuration stands.
type Status string

const (
	StatusPending     Status = "pending"     // to run; not started
	StatusRunning     Status = "running"     // started (in the state file: a run that never finished)
	StatusMeasured    Status = "measured"    // measured and imported by this run
	StatusFailed      Status = "failed"      // non-zero exit, timeout, no metric, or failed to start
	StatusInterrupted Status = "interrupted" // stopped by cancellation; runs again on resume
	StatusSkipped     Status = "skipped"     // already measured for this session
	StatusSkipFailed  Status = "skipped-failed"
)

// Job is one configuration of a run and, once it finished, its outcome.
type Job struct {
	// Row is the index of the configuration in the session's report.
	Row            int                   `json:"row"`
	Recommendation engine.Recommendation `json:"-"`
	Config         engine.Config         `json:"config"`
	Argv           []string              `json:"argv"`
	LogPath        string                `json:"log"`
	Status         Status                `json:"status"`
	ExitCode       int                   `json:"exit_code"`
	Reason         string                `json:"reason,omitempty"`
	// Metrics are what this run measured, or for a skipped configuration
	// the latest measurement stored for the session.
	Metrics  Metrics       `json:"measured"`
	Duration time.Duration `json:"duration_ns"`
}

// Command is the argv shell-quoted for display.
func (j *Job) Command() string { return Display(j.Argv) }

// Plan is what a run will do.
type Plan struct {
	Session   *store.Session
	Source    string
	LogDir    string
	OutputDir string
	StatePath string
	Jobs      []Job
}

// ToRun counts the jobs that will run.
func (p *Plan) ToRun() int {
	n := 0
	for _, j := range p.Jobs {
		if j.Status == StatusPending {
			n++
		}
	}
	return n
}

// EventKind says what happened to a configuration.
type EventKind string

const (
	EventStarted     EventKind = "started"
	EventMeasured    EventKind = "measured"
	EventFailed      EventKind = "failed"
	EventInterrupted EventKind = "interrupted"
)

// Progress counts the configurations of a run.
type Progress struct {
	Total     int // configurations to run (skipped ones excluded)
	Done      int // measured
	Failed    int
	Running   int
	Remaining int // not finished yet, running included
	Skipped   int
	Elapsed   time.Duration
}

// Event reports a configuration starting or finishing. Job.LogPath is the
// log to tail while it runs.
type Event struct {
	Kind     EventKind
	Job      Job
	Progress Progress
}

// Summary is the outcome of a run.
type Summary struct {
	Session   string
	Source    string
	LogDir    string
	StatePath string
	Jobs      []Job
	Progress  Progress
	// Interrupted is set when the context was cancelled before every
	// configuration finished.
	Interrupted bool
}

// Count returns how many jobs have the status.
func (s *Summary) Count(st Status) int {
	n := 0
	for _, j := range s.Jobs {
		if j.Status == st {
			n++
		}
	}
	return n
}

// ErrInterrupted is returned (wrapped, with the context's cause) when a run
// was cancelled; the summary still says what finished.
var ErrInterrupted = errors.New("run interrupted")

func (o *Options) defaults() error {
	if o.DB == nil {
		return errors.New("run: no database")
	}
	if strings.TrimSpace(o.Session) == "" {
		return errors.New("run: no session")
	}
	if o.OutputDir == "" {
		o.OutputDir = store.DefaultOutputDir
	}
	if o.LogDir == "" {
		o.LogDir = filepath.Join(o.OutputDir, "logs")
	}
	if o.Parallel == 0 {
		o.Parallel = 1
	}
	if o.Parallel < 0 {
		return fmt.Errorf("run: parallel %d is negative", o.Parallel)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("run: timeout %v is negative", o.Timeout)
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// NewPlan loads the session, renders every command and decides what to
// skip: configurations already measured for the session (results with
// Source(session)), and those whose last attempt failed unless RetryFailed.
// It changes nothing on disk.
func NewPlan(ctx context.Context, o Options) (*Plan, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	tmpl, err := ParseTemplate(o.Template)
	if err != nil {
		return nil, err
	}
	sess, err := o.DB.Session(ctx, o.Session)
	if err != nil {
		return nil, err
	}
	recs := sess.Report.Recommendations
	rows := sess.Selected
	if len(rows) == 0 {
		rows = make([]int, len(recs))
		for i := range rows {
			rows[i] = i
		}
	}
	source := Source(sess.Name)
	stored, err := o.DB.Results(ctx, store.ResultFilter{Source: source})
	if err != nil {
		return nil, err
	}
	measured := map[string]Metrics{}
	for _, r := range stored {
		measured[r.Config.Key()] = Metrics{Throughput: r.Throughput, LatencyMS: r.LatencyMS, MemoryMB: r.MemoryMB}
	}
	statePath := filepath.Join(o.LogDir, StateFile)
	st, err := loadState(statePath, sess.Name)
	if err != nil {
		return nil, err
	}
	p := &Plan{Session: sess, Source: source, LogDir: o.LogDir, OutputDir: o.OutputDir, StatePath: statePath}
	seen := map[string]bool{}
	for _, row := range rows {
		rec := recs[row]
		cfg := rec.Config()
		key := cfg.Key()
		if seen[key] {
			continue
		}
		seen[key] = true
		argv, err := tmpl.Argv(Values(cfg, o.OutputDir))
		if err != nil {
			return nil, err
		}
		j := Job{Row: row, Recommendation: rec, Config: cfg, Argv: argv, LogPath: logPath(o.LogDir, sess.Name, cfg), Status: StatusPending}
		if m, ok := measured[key]; ok {
			j.Status, j.Metrics = StatusSkipped, m
		} else if prev := st.get(key); prev != nil && prev.Status == StatusFailed && !o.RetryFailed {
			j.Status, j.ExitCode, j.Reason, j.LogPath = StatusSkipFailed, prev.ExitCode, prev.Reason, prev.Log
		}
		p.Jobs = append(p.Jobs, j)
	}
	return p, nil
}

// Run executes the plan of o: each pending configuration's command runs in
// its own process group with its output in a log file, its metrics are
// parsed and imported with source "run:<session>" in a transaction of its
// own, and its outcome goes to the state file. progress (may be nil) is
// called for every start and finish, never concurrently, from the worker
// goroutines: it should return quickly (a TUI forwards the event as a
// message and tails Event.Job.LogPath with TailLog).
//
// When ctx is cancelled no new command starts, running ones get SIGTERM and
// then SIGKILL after the grace period, finished results stay imported, and
// Run returns the summary with an error wrapping ErrInterrupted.
func Run(ctx context.Context, o Options, progress func(Event)) (*Summary, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	p, err := NewPlan(ctx, o)
	if err != nil {
		return nil, err
	}
	return Execute(ctx, o, p, progress)
}

// Execute runs a plan made by NewPlan with the same options.
func Execute(ctx context.Context, o Options, p *Plan, progress func(Event)) (*Summary, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	sum := &Summary{Session: p.Session.Name, Source: p.Source, LogDir: p.LogDir, StatePath: p.StatePath, Jobs: p.Jobs}
	var pending []int
	for i, j := range sum.Jobs {
		if j.Status == StatusPending {
			pending = append(pending, i)
		} else {
			sum.Progress.Skipped++
		}
	}
	sum.Progress.Total = len(pending)
	sum.Progress.Remaining = len(pending)
	if len(pending) == 0 {
		return sum, nil
	}
	if err := os.MkdirAll(p.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("run: log directory: %w", err)
	}
	if err := os.MkdirAll(p.OutputDir, 0o755); err != nil {
		return nil, fmt.Errorf("run: output directory: %w", err)
	}
	st, err := loadState(p.StatePath, p.Session.Name)
	if err != nil {
		return nil, err
	}

	r := &run{o: o, sum: sum, st: st, progress: progress, start: time.Now()}
	work := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for range min(o.Parallel, len(pending)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := r.one(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = err })
				}
			}
		}()
	}
dispatch:
	for _, i := range pending {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- i:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(work)
	wg.Wait()
	sum.Progress.Elapsed = time.Since(r.start)
	if firstErr != nil {
		return sum, firstErr
	}
	if ctx.Err() != nil && sum.Progress.Remaining > 0 {
		sum.Interrupted = true
		return sum, fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
	}
	return sum, nil
}

// run is the shared state of one Execute.
type run struct {
	o        Options
	sum      *Summary
	st       *state
	progress func(Event)
	start    time.Time
	mu       sync.Mutex // guards sum and serialises progress calls
	insertMu sync.Mutex
}

func (r *run) event(kind EventKind, i int, update func(*Job)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j := &r.sum.Jobs[i]
	update(j)
	pr := &r.sum.Progress
	switch kind {
	case EventStarted:
		pr.Running++
	case EventMeasured:
		pr.Running--
		pr.Done++
		pr.Remaining--
	case EventFailed:
		pr.Running--
		pr.Failed++
		pr.Remaining--
	case EventInterrupted:
		pr.Running--
	}
	pr.Elapsed = time.Since(r.start)
	if r.progress != nil {
		r.progress(Event{Kind: kind, Job: *j, Progress: *pr})
	}
}

// one runs job i to the end. Its error is for bookkeeping failures (state
// file, database) that should stop the run; a failing command is not one.
func (r *run) one(ctx context.Context, i int) error {
	if ctx.Err() != nil {
		return nil
	}
	job := r.sum.Jobs[i]
	prev := r.st.get(job.Config.Key())
	attempts := 1
	if prev != nil {
		attempts = prev.Attempts + 1
	}
	record := func(status Status, code int, reason string) error {
		return r.st.set(ConfigState{Config: job.Config, Status: status, ExitCode: code, Reason: reason,
			Log: job.LogPath, Attempts: attempts, Updated: time.Now().UTC()})
	}
	if err := record(StatusRunning, 0, ""); err != nil {
		return err
	}
	r.event(EventStarted, i, func(j *Job) { j.Status = StatusRunning })

	began := time.Now()
	out := r.execute(ctx, job)
	dur := time.Since(began)

	if out.interrupted {
		// Not a failure: it runs again on resume.
		if err := record(StatusInterrupted, out.code, out.reason); err != nil {
			return err
		}
		r.event(EventInterrupted, i, func(j *Job) {
			j.Status, j.ExitCode, j.Reason, j.Duration = StatusInterrupted, out.code, out.reason, dur
		})
		return nil
	}
	if out.reason == "" {
		res := engine.Result{Config: job.Config, ModelType: job.Recommendation.ModelType,
			Throughput: out.metrics.Throughput, LatencyMS: out.metrics.LatencyMS, MemoryMB: out.metrics.MemoryMB,
			Source: r.sum.Source, Timestamp: r.o.Now().UTC()}
		if err := store.ValidateResult(res); err != nil {
			out.reason = "bad measurement: " + err.Error()
		} else {
			// Finished work is kept even when the run is being cancelled.
			r.insertMu.Lock()
			_, _, err := r.o.DB.InsertResults(context.WithoutCancel(ctx), []engine.Result{res})
			r.insertMu.Unlock()
			if err != nil {
				_ = record(StatusFailed, out.code, "import: "+err.Error())
				r.event(EventFailed, i, func(j *Job) {
					j.Status, j.ExitCode, j.Reason, j.Duration = StatusFailed, out.code, "import: "+err.Error(), dur
				})
				return fmt.Errorf("run: import %s: %w", job.Config, err)
			}
		}
	}
	if out.reason != "" {
		if err := record(StatusFailed, out.code, out.reason); err != nil {
			return err
		}
		r.event(EventFailed, i, func(j *Job) {
			j.Status, j.ExitCode, j.Reason, j.Duration = StatusFailed, out.code, out.reason, dur
		})
		return nil
	}
	if err := record(StatusMeasured, out.code, ""); err != nil {
		return err
	}
	r.event(EventMeasured, i, func(j *Job) {
		j.Status, j.ExitCode, j.Metrics, j.Duration = StatusMeasured, out.code, out.metrics, dur
	})
	return nil
}

// outcome is what running one command gave. reason is empty on success.
type outcome struct {
	code        int
	reason      string
	metrics     Metrics
	interrupted bool
}

// execute runs the command with its output appended to its log.
func (r *run) execute(ctx context.Context, job Job) outcome {
	logf, err := os.OpenFile(job.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return outcome{code: -1, reason: "log: " + err.Error()}
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== perfpilot run %s at %s\n=== %s\n", r.sum.Session, time.Now().UTC().Format(time.RFC3339), Display(job.Argv))
	start, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		return outcome{code: -1, reason: "log: " + err.Error()}
	}

	cmd := exec.Command(job.Argv[0], job.Argv[1:]...)
	cmd.Dir = r.o.Dir
	cmd.Env = r.o.Env
	cmd.Stdout = logf
	cmd.Stderr = logf
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(logf, "=== failed to start: %v\n", err)
		return outcome{code: -1, reason: "start: " + err.Error()}
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var timeout <-chan time.Time
	if r.o.Timeout > 0 {
		t := time.NewTimer(r.o.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var stopped string
	select {
	case <-waited:
	case <-timeout:
		stopped = fmt.Sprintf("timed out after %v", r.o.Timeout)
	case <-ctx.Done():
		stopped = "interrupted"
	}
	if stopped != "" {
		signalGroup(cmd, syscall.SIGTERM)
		grace := time.NewTimer(r.o.Grace)
		select {
		case <-waited:
			grace.Stop()
		case <-grace.C:
			signalGroup(cmd, syscall.SIGKILL)
			<-waited
		}
	}
	// Leftover children of a finished command go too.
	signalGroup(cmd, syscall.SIGKILL)

	code := exitCode(cmd)
	fmt.Fprintf(logf, "=== exit status %d", code)
	if stopped != "" {
		fmt.Fprintf(logf, " (%s)", stopped)
	}
	fmt.Fprintln(logf)
	switch {
	case stopped == "interrupted":
		return outcome{code: code, reason: "interrupted", interrupted: true}
	case stopped != "":
		return outcome{code: code, reason: stopped}
	case code != 0:
		return outcome{code: code, reason: fmt.Sprintf("exit status %d", code)}
	}
	m, ok, err := parseLog(job.LogPath, start)
	switch {
	case err != nil:
		return outcome{code: code, reason: "read log: " + err.Error()}
	case !ok:
		return outcome{code: code, reason: "no metric in the output (print a JSON line with throughput, latency_ms or memory_mb)"}
	}
	return outcome{code: code, metrics: m}
}

func parseLog(path string, from int64) (Metrics, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return Metrics{}, false, err
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return Metrics{}, false, err
	}
	return ParseOutput(f)
}

// logPath names a configuration's log: readable parts plus a hash of the
// exact configuration, so hostile ids can neither collide nor escape.
func logPath(dir, session string, cfg engine.Config) string {
	sum := sha256.Sum256([]byte(session + "\x00" + cfg.Key()))
	name := fmt.Sprintf("%s--%s--%s--b%d-%s-s%d--%s.log", sanitize(session), sanitize(cfg.Model), sanitize(cfg.Hardware),
		cfg.BatchSize, sanitize(string(cfg.Precision)), cfg.SequenceLength, hex.EncodeToString(sum[:4]))
	return filepath.Join(dir, name)
}

func sanitize(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		out = "_"
	}
	return out
}

// TailLog returns the last n lines of a log, for a live view.
func TailLog(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const chunk = 64 << 10
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(info.Size()-chunk, 0)
	buf := make([]byte, info.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // partial first line
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}
