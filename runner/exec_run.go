package runner

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"perfpilot/engine"
	"perfpilot/store"
)

// Executor runs tasks somewhere: on this machine (the default), or through
// a scheduler (runner/slurm, runner/kube). It submits, follows, cancels and
// finds tasks again; the runner keeps the templates, parsing, import,
// state, resume and review for every executor alike. Task output reaches
// Task.LogPath (a scheduler writes it there, or the executor copies it
// there before reporting the task finished) with the wrapper's markers (see
// TaskMain), from which the runner reads the metrics.
type Executor interface {
	// Name is the --executor value, recorded with every submitted task.
	Name() string
	// Plan checks that every task can be submitted (for instance that its
	// hardware has a placement) and describes the submissions, without
	// submitting anything.
	Plan(tasks []Task) ([]Submission, error)
	// Submit hands tasks over and returns each one's reference (a job id),
	// in order. On error, tasks whose reference is "" were not submitted.
	Submit(ctx context.Context, tasks []Task) ([]string, error)
	// Recover finds tasks a Submit interrupted by a crash may have
	// submitted, by their nonces; "" for those the scheduler does not know.
	Recover(ctx context.Context, tasks []Task) ([]string, error)
	// Wait blocks until at least one of the tasks changed phase, or ctx
	// ends, and returns the changes. The first call reports every task.
	Wait(ctx context.Context, refs []string) ([]Update, error)
	// Cancel stops tasks; Wait reports them PhaseCancelled.
	Cancel(ctx context.Context, refs []string) error
}

// LogFetcher is implemented by executors whose task output does not land
// in Task.LogPath by itself (Kubernetes pods): the runner has the log
// appended there before reading a finished task's outcome.
type LogFetcher interface {
	FetchLog(ctx context.Context, ref, logPath string) error
}

// Task is one configuration handed to an executor.
type Task struct {
	Key     string
	Config  engine.Config
	Argv    []string
	LogPath string
	// Nonce names this attempt: in the log's markers and, for a scheduler,
	// in what it submits, so a crashed submission can be found again.
	Nonce string
}

// Submission describes one scheduler submission, for --dry-run.
type Submission struct {
	// Group names the placement group (hardware and resources).
	Group string `json:"group"`
	// Command is the submitting command (sbatch ..., kubectl apply ...).
	Command []string `json:"command"`
	// Tasks are the configuration keys, in array-index order.
	Tasks []string `json:"tasks"`
}

// Phase is where a task stands with its executor.
type Phase string

const (
	PhaseQueued    Phase = "queued"
	PhaseRunning   Phase = "running"
	PhaseFinished  Phase = "finished"  // ExitCode and Reason say how
	PhaseCancelled Phase = "cancelled" // by this run's Cancel
	PhaseGone      Phase = "gone"      // the scheduler no longer knows it: the log tells
)

// Update reports a task's new phase.
type Update struct {
	Ref   string
	Phase Phase
	// State is the scheduler's own word (PENDING, TIMEOUT, Running...).
	State    string
	ExitCode int
	// Reason is why a finished task failed although it may have exited 0
	// (a time limit, out of memory, cancelled by someone); "" otherwise.
	Reason string
}

// Execute runs a plan made by NewPlan with the same options: pending
// configurations are submitted to the executor (o.Executor; this machine
// when nil), configurations a killed or interrupted run left with a
// scheduler are followed again, and each finished one's log is parsed and
// imported with source "run:<session>" in a transaction of its own, its
// outcome recorded in the state file. progress (may be nil) is called for
// every change, never concurrently; it should return quickly (a TUI
// forwards the event and tails Event.Job.LogPath with TailLog).
//
// When ctx is cancelled, local commands get SIGTERM and then SIGKILL after
// the grace period; scheduled jobs are cancelled or left running as
// o.OnInterrupt says (left ones are followed again by the next run).
// Finished results stay imported, and Execute returns the summary with an
// error wrapping ErrInterrupted.
func Execute(ctx context.Context, o Options, p *Plan, progress func(Event)) (*Summary, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	sum := &Summary{Session: p.Session.Name, Source: p.Source, LogDir: p.LogDir, StatePath: p.StatePath, Jobs: p.Jobs}
	var pending, attach []int
	for i, j := range sum.Jobs {
		switch j.Status {
		case StatusPending:
			pending = append(pending, i)
		case StatusSubmitting, StatusQueued, StatusRunning:
			attach = append(attach, i)
		default:
			sum.Progress.Skipped++
		}
	}
	sum.Progress.Total = len(pending) + len(attach)
	sum.Progress.Remaining = sum.Progress.Total
	if sum.Progress.Total == 0 {
		return sum, nil
	}
	for _, d := range []string{p.LogDir, p.OutputDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("run: %w", err)
		}
	}
	lock, err := lockSession(p.LogDir, p.Session.Name)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	st, err := loadState(p.StatePath, p.Session.Name)
	if err != nil {
		return nil, err
	}
	exe := o.Executor
	if exe == nil {
		exe = newLocal(o, p)
	}
	r := &run{o: o, exe: exe, sum: sum, st: st, progress: progress, start: time.Now(), inflight: map[string]int{}}
	if err := r.attach(ctx, attach); err != nil {
		return sum, err
	}
	if err := r.submit(ctx, pending); err != nil {
		return sum, err
	}
	err = r.follow(ctx)
	sum.Progress.Elapsed = time.Since(r.start)
	return sum, err
}

// lockSession keeps two runs from working on one session's log directory
// at once; the kernel drops the lock when the holder dies.
func lockSession(logDir, session string) (*os.File, error) {
	h := sha256.Sum256([]byte(session))
	path := filepath.Join(logDir, ".run-"+hex.EncodeToString(h[:6])+".lock")
	f, err := tryLock(path)
	if errors.Is(err, errLocked) {
		return nil, fmt.Errorf("run: session %q is being run by another perfpilot process (lock %s); wait for it or stop it first", session, path)
	}
	if err != nil {
		return nil, fmt.Errorf("run: lock: %w", err)
	}
	return f, nil
}

// run is the shared state of one Execute.
type run struct {
	o        Options
	exe      Executor
	sum      *Summary
	st       *state
	progress func(Event)
	start    time.Time
	inflight map[string]int // executor reference → job index
	// importErr is a database failure while importing: it stops the run.
	importErr error
}

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (r *run) task(i int) Task {
	j := &r.sum.Jobs[i]
	return Task{Key: j.Config.Key(), Config: j.Config, Argv: j.Argv, LogPath: j.LogPath, Nonce: j.Nonce}
}

// record writes the state of the jobs (one file write for all).
func (r *run) record(idx []int) error {
	cs := make([]ConfigState, 0, len(idx))
	now := time.Now().UTC()
	for _, i := range idx {
		j := &r.sum.Jobs[i]
		cs = append(cs, ConfigState{Config: j.Config, Status: j.Status, ExitCode: j.ExitCode, Reason: j.Reason, Log: j.LogPath,
			Attempts: j.Attempts, Executor: r.exe.Name(), Ref: j.Ref, Nonce: j.Nonce, SchedState: j.SchedState, Updated: now})
	}
	return r.st.set(cs...)
}

// event reports a change of job i to progress, keeping the counts.
func (r *run) event(kind EventKind, i int) {
	j := &r.sum.Jobs[i]
	pr := &r.sum.Progress
	pr.Elapsed = time.Since(r.start)
	if r.progress != nil {
		ev := Event{Kind: kind, Job: *j, Progress: *pr}
		if _, local := r.exe.(*localExec); local {
			ev.Job.Ref = "" // an internal handle, not a job id anyone can look up
		}
		r.progress(ev)
	}
}

// attach follows jobs an earlier run left with the scheduler; submissions
// a crash interrupted are looked up by nonce, and submitted again only when
// neither the scheduler nor the log knows them.
func (r *run) attach(ctx context.Context, idx []int) error {
	var lost []int
	var lostTasks []Task
	for _, i := range idx {
		j := &r.sum.Jobs[i]
		if j.Ref != "" {
			r.inflight[j.Ref] = i
			r.sum.Progress.Queued++
			continue
		}
		lost = append(lost, i)
		lostTasks = append(lostTasks, r.task(i))
	}
	if len(lost) == 0 {
		return nil
	}
	refs, err := r.exe.Recover(ctx, lostTasks)
	if err != nil {
		return fmt.Errorf("run: find earlier submissions: %w", err)
	}
	var again []int
	for k, i := range lost {
		j := &r.sum.Jobs[i]
		switch {
		case refs[k] != "":
			j.Ref, j.Status = refs[k], StatusQueued
			r.inflight[j.Ref] = i
			r.sum.Progress.Queued++
		case logHasStart(j.LogPath, j.Nonce):
			// It ran and the scheduler has forgotten it: the log tells.
			j.Status = StatusPending
			r.finish(i, Update{Phase: PhaseGone})
		default:
			j.Status = StatusPending
			again = append(again, i)
		}
	}
	if err := r.record(lost); err != nil {
		return err
	}
	return r.submit(ctx, again)
}

// submit hands the pending jobs to the executor. Their state is written as
// submitting (with nonces) before, and with the references after, so a
// crash in between is recovered by nonce, never submitted twice.
func (r *run) submit(ctx context.Context, idx []int) error {
	if len(idx) == 0 || ctx.Err() != nil {
		return nil
	}
	tasks := make([]Task, len(idx))
	for k, i := range idx {
		j := &r.sum.Jobs[i]
		j.Nonce, j.Status, j.Ref, j.Reason, j.ExitCode, j.SchedState = newNonce(), StatusSubmitting, "", "", 0, ""
		j.Attempts++
		tasks[k] = r.task(i)
	}
	if err := r.record(idx); err != nil {
		return err
	}
	refs, subErr := r.exe.Submit(ctx, tasks)
	for k, i := range idx {
		j := &r.sum.Jobs[i]
		if k < len(refs) && refs[k] != "" {
			j.Ref, j.Status = refs[k], StatusQueued
			r.inflight[j.Ref] = i
			r.sum.Progress.Queued++
			continue
		}
		j.Status, j.ExitCode, j.Reason = StatusFailed, -1, "submit: "+errText(subErr)
		r.sum.Progress.Failed++
		r.sum.Progress.Remaining--
	}
	if err := r.record(idx); err != nil {
		return err
	}
	for _, i := range idx {
		if r.sum.Jobs[i].Status == StatusFailed {
			r.event(EventFailed, i)
		} else {
			r.event(EventQueued, i)
		}
	}
	return nil
}

// since is the time since t, zero when t is unknown (a job an earlier run
// saw start).
func since(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return time.Since(t)
}

func firstReason(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func errText(err error) string {
	if err == nil {
		return "the executor returned no job id"
	}
	return err.Error()
}

// follow waits for the in-flight jobs to finish, collecting each.
func (r *run) follow(ctx context.Context) error {
	waitCtx := ctx
	stopping := false
	for len(r.inflight) > 0 {
		if ctx.Err() != nil && !stopping {
			stopping = true
			if _, local := r.exe.(*localExec); !local && r.o.OnInterrupt != nil && !r.o.OnInterrupt() {
				return r.leave(ctx)
			}
			// Cancel, then keep collecting what the cancel reports.
			waitCtx = context.WithoutCancel(ctx)
			if err := r.exe.Cancel(waitCtx, r.refs()); err != nil {
				return fmt.Errorf("run: cancel: %w", err)
			}
		}
		ups, err := r.exe.Wait(waitCtx, r.refs())
		if err != nil && waitCtx.Err() == nil {
			return fmt.Errorf("run: %s: %w", r.exe.Name(), err)
		}
		var changed []int
		for _, u := range ups {
			i, ok := r.inflight[u.Ref]
			if !ok {
				continue
			}
			if r.apply(i, u) {
				changed = append(changed, i)
			}
		}
		if len(changed) > 0 {
			if err := r.record(changed); err != nil {
				return err
			}
		}
		if err := r.importErr; err != nil {
			return err
		}
	}
	if ctx.Err() != nil && r.sum.Progress.Remaining > 0 {
		r.sum.Interrupted = true
		return fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
	}
	return nil
}

// leave stops following scheduled jobs and leaves them running: their
// references stay in the state file for the next run to follow.
func (r *run) leave(ctx context.Context) error {
	r.sum.Interrupted = true
	r.sum.Left = len(r.inflight)
	return fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
}

func (r *run) refs() []string {
	out := make([]string, 0, len(r.inflight))
	for ref := range r.inflight {
		out = append(out, ref)
	}
	sort.Strings(out)
	return out
}

// apply takes one update of job i; it reports whether the state changed.
func (r *run) apply(i int, u Update) bool {
	j := &r.sum.Jobs[i]
	pr := &r.sum.Progress
	news := j.SchedState != u.State
	j.SchedState = u.State
	switch u.Phase {
	case PhaseQueued:
		// The scheduler's word changed (a reason, a requeue): say so.
		if news {
			r.event(EventQueued, i)
		}
		return false
	case PhaseRunning:
		if j.Status == StatusRunning {
			return false
		}
		j.Status = StatusRunning
		j.started = time.Now()
		pr.Queued--
		pr.Running++
		// The state file says running before anyone hears it started.
		_ = r.record([]int{i})
		r.event(EventStarted, i)
		return false
	case PhaseCancelled:
		delete(r.inflight, j.Ref)
		if j.Status == StatusRunning {
			pr.Running--
			j.Status, j.ExitCode, j.Reason = StatusInterrupted, u.ExitCode, "interrupted"
			j.Duration = since(j.started)
			r.event(EventInterrupted, i)
		} else {
			pr.Queued--
			j.Status = StatusPending
		}
		j.Ref = ""
		return true
	}
	r.finish(i, u)
	return true
}

// finish collects a finished (or forgotten) job: parse its log, import.
func (r *run) finish(i int, u Update) {
	j := &r.sum.Jobs[i]
	pr := &r.sum.Progress
	delete(r.inflight, j.Ref)
	if j.Status == StatusRunning {
		pr.Running--
		j.Duration = since(j.started)
	} else if j.Status != StatusPending {
		pr.Queued--
	}
	if lf, ok := r.exe.(LogFetcher); ok && u.Phase == PhaseFinished {
		if err := lf.FetchLog(context.Background(), j.Ref, j.LogPath); err != nil {
			u.Reason = firstReason(u.Reason, "logs: "+err.Error())
		}
	}
	out := collect(j.LogPath, j.Nonce, u)
	if out.busy {
		j.Status, j.ExitCode, j.Reason = StatusInterrupted, out.code, out.reason
		pr.Remaining--
		r.event(EventInterrupted, i)
		return
	}
	if out.reason == "" {
		// One run may measure several results: an LLM tool reports each
		// phase it ran. They are stored together or not at all.
		results := out.metrics.Results(j.Config)
		for i := range results {
			res := &results[i]
			res.ModelType, res.Source, res.Timestamp = j.Recommendation.ModelType, r.sum.Source, r.o.Now().UTC()
			if err := store.ValidateResult(*res); err != nil && out.reason == "" {
				out.reason = "bad measurement: " + err.Error()
			}
		}
		if out.reason == "" {
			if _, _, err := r.o.DB.InsertResults(context.Background(), results); err != nil {
				out.reason = "import: " + err.Error()
				r.importErr = fmt.Errorf("run: import %s: %w", j.Config, err)
			}
		}
	}
	pr.Remaining--
	j.ExitCode = out.code
	if out.reason != "" {
		j.Status, j.Reason = StatusFailed, out.reason
		pr.Failed++
		r.event(EventFailed, i)
		return
	}
	j.Status, j.Metrics, j.Reason = StatusMeasured, out.metrics, ""
	pr.Done++
	r.event(EventMeasured, i)
}
