// Package runner runs benchmark commands for the configurations of a saved
// session and brings their measurements back: it renders each command from
// a template without a shell, hands it to an executor (this machine, or a
// scheduler through runner/slurm and runner/kube) that runs it under the
// task wrapper with a log file, parses the metrics it prints, imports them
// into the store one configuration per transaction, and keeps a state file
// so an interrupted or killed run resumes where it stopped. The engine
// stays pure; process execution lives here.
package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"perfpilot/cmdtmpl"
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
	// Template is the benchmark command (cmdtmpl.Default when
	// empty); see ParseTemplate.
	Template string
	// OutputDir is substituted for {output_dir} and created
	// (cmdtmpl.DefaultOutputDir when empty).
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
	// Executor runs the tasks (this machine when nil, with Parallel,
	// Timeout and Grace).
	Executor Executor
	// OnInterrupt is asked, when ctx is cancelled while a scheduler holds
	// jobs, whether to cancel them (true) or leave them running for a later
	// run to collect (false). Nil cancels them.
	OnInterrupt func() bool
}

// Source is the provenance label of results measured for a session.
func Source(session string) string { return "run:" + session }

// Status is where a configuration stands.
type Status string

const (
	StatusPending     Status = "pending"     // to run; not started
	StatusSubmitting  Status = "submitting"  // being handed to the executor (no job id yet)
	StatusQueued      Status = "queued"      // submitted, waiting for the scheduler
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
	// Ref is the executor's id for the task (a Slurm "job_task" id, a
	// Kubernetes job and index) and SchedState the scheduler's word for
	// where it stands; Nonce names the attempt (see Task).
	Ref        string `json:"job_id,omitempty"`
	SchedState string `json:"scheduler_state,omitempty"`
	Nonce      string `json:"-"`
	Attempts   int    `json:"attempts"`
	started    time.Time
}

// Command is the argv shell-quoted for display.
func (j *Job) Command() string { return cmdtmpl.Line(j.Argv) }

// Plan is what a run will do.
type Plan struct {
	Session   *store.Session
	Source    string
	LogDir    string
	OutputDir string
	StatePath string
	Jobs      []Job
}

// ToRun counts the jobs that will run or are followed again.
func (p *Plan) ToRun() int {
	n := 0
	for _, j := range p.Jobs {
		switch j.Status {
		case StatusPending, StatusSubmitting, StatusQueued, StatusRunning:
			n++
		}
	}
	return n
}

// Attached counts the jobs an earlier run left with a scheduler, which
// this run follows instead of submitting again.
func (p *Plan) Attached() int { return p.ToRun() - p.count(StatusPending) }

func (p *Plan) count(st Status) int {
	n := 0
	for _, j := range p.Jobs {
		if j.Status == st {
			n++
		}
	}
	return n
}

// Tasks are the pending jobs as an executor sees them (for Executor.Plan).
func (p *Plan) Tasks() []Task {
	var out []Task
	for _, j := range p.Jobs {
		if j.Status == StatusPending {
			out = append(out, Task{Key: j.Config.Key(), Config: j.Config, Argv: j.Argv, LogPath: j.LogPath})
		}
	}
	return out
}

// EventKind says what happened to a configuration.
type EventKind string

const (
	EventQueued      EventKind = "queued" // submitted to a scheduler
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
	Queued    int // submitted to a scheduler, not started
	Remaining int // not finished yet, running and queued included
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
	// Left counts jobs left running with the scheduler on interrupt; the
	// next run with the same executor follows them.
	Left int
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
		o.OutputDir = cmdtmpl.DefaultOutputDir
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
	tmpl, err := cmdtmpl.Parse(o.Template)
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
	phases := phasesBySetup(stored)
	executor := "local"
	if o.Executor != nil {
		executor = o.Executor.Name()
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
		argv, err := tmpl.Argv(cmdtmpl.Values(cfg, o.OutputDir))
		if err != nil {
			return nil, err
		}
		j := Job{Row: row, Recommendation: rec, Config: cfg, Argv: argv, LogPath: logPath(o.LogDir, sess.Name, cfg), Status: StatusPending}
		prev := st.get(key)
		if prev != nil {
			j.Attempts = prev.Attempts
		}
		m, isMeasured := measured[key]
		if !isMeasured && cfg.Phase == engine.Generate {
			// An LLM tool reports phases in the shape it ran, not the
			// request's key: the setup's phases measured this job.
			m.Generation, isMeasured = phases[setupOf(cfg)], len(phases[setupOf(cfg)]) > 0
		}
		switch {
		case isMeasured:
			j.Status, j.Metrics = StatusSkipped, m
		case prev != nil && prev.inFlight() && prev.Executor != "local":
			// Left with a scheduler by an earlier run: followed, never
			// submitted again (its argv is the one submitted then).
			if prev.Executor != executor {
				return nil, fmt.Errorf("run: %s is still submitted to %s (job %s); resume with --executor %s, or cancel it there first",
					cfg, prev.Executor, orNone(prev.Ref), prev.Executor)
			}
			j.Status, j.Ref, j.Nonce, j.SchedState, j.LogPath = prev.Status, prev.Ref, prev.Nonce, prev.SchedState, prev.Log
		case prev != nil && prev.Status == StatusFailed && !o.RetryFailed:
			j.Status, j.ExitCode, j.Reason, j.LogPath = StatusSkipFailed, prev.ExitCode, prev.Reason, prev.Log
		}
		p.Jobs = append(p.Jobs, j)
	}
	return p, nil
}

// setup is what a text-generation run's phases share with the request
// that ran them: the tool chooses its own batch and token counts.
type setup struct {
	model, hardware string
	precision       engine.Precision
	gpus            int
}

func setupOf(c engine.Config) setup { return setup{c.Model, c.Hardware, c.Precision, c.GPUs()} }

// phasesBySetup groups a session's stored phase results by setup.
func phasesBySetup(stored []store.StoredResult) map[setup][]PhaseMetrics {
	out := map[setup][]PhaseMetrics{}
	for _, r := range stored {
		if r.Phase == engine.Prefill || r.Phase == engine.Decode {
			out[setupOf(r.Config)] = append(out[setupOf(r.Config)], PhaseMetrics{Phase: r.Phase, BatchSize: r.BatchSize,
				PromptTokens: r.PromptTokens, OutputTokens: r.OutputTokens, ContextTokens: r.ContextTokens, LatencyMS: r.LatencyMS})
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "not known yet"
	}
	return s
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
	f, err := OpenRegular(path, os.O_RDONLY, 0)
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
