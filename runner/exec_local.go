package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// localExec runs tasks on this machine, o.Parallel at a time, each under
// the task wrapper (this binary again; see TaskMain) in its own process
// group, with o.Timeout and o.Grace.
type localExec struct {
	o       Options
	session string
	lockDir string

	mu      sync.Mutex
	tasks   map[string]Task
	queue   []string
	running map[string]*localProc
	updates []Update
	notify  chan struct{}
}

type localProc struct {
	cmd     *exec.Cmd
	stopped string // why this run stopped it: a timeout, or "cancel"
	killer  *time.Timer
}

func newLocal(o Options, p *Plan) *localExec {
	return &localExec{o: o, session: p.Session.Name, lockDir: filepath.Join(p.LogDir, ".locks"), tasks: map[string]Task{},
		running: map[string]*localProc{}, notify: make(chan struct{}, 1)}
}

func (e *localExec) Name() string { return "local" }

func (e *localExec) Plan([]Task) ([]Submission, error) { return nil, nil }

// Recover: a local task does not outlive the run that started it (its
// wrapper dies with perfpilot), so there is nothing to find again.
func (e *localExec) Recover(_ context.Context, tasks []Task) ([]string, error) {
	return make([]string, len(tasks)), nil
}

func (e *localExec) Submit(_ context.Context, tasks []Task) ([]string, error) {
	if err := os.MkdirAll(e.lockDir, 0o755); err != nil {
		return nil, fmt.Errorf("locks: %w", err)
	}
	refs := make([]string, len(tasks))
	e.mu.Lock()
	for i, t := range tasks {
		ref := "local-" + strconv.Itoa(len(e.tasks))
		e.tasks[ref] = t
		e.queue = append(e.queue, ref)
		refs[i] = ref
	}
	e.mu.Unlock()
	return refs, nil
}

// dispatch starts queued tasks while fewer than o.Parallel run. Only Wait
// calls it, so nothing new starts once the runner stopped waiting to cancel.
// The caller holds mu.
func (e *localExec) dispatch() {
	for len(e.queue) > 0 && len(e.running) < e.o.Parallel {
		ref := e.queue[0]
		e.queue = e.queue[1:]
		e.start(ref, e.tasks[ref])
	}
}

// start runs one task's wrapper; the caller holds mu.
func (e *localExec) start(ref string, t Task) {
	fail := func(reason string) {
		e.push(Update{Ref: ref, Phase: PhaseFinished, ExitCode: -1, Reason: reason})
	}
	logf, err := OpenRegular(t.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fail("log: " + err.Error())
		return
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== perfpilot run %s at %s\n", e.session, time.Now().UTC().Format(time.RFC3339))
	self, err := os.Executable()
	if err != nil {
		fail("start: " + err.Error())
		return
	}
	key := sha256.Sum256([]byte(e.session + "\x00" + t.Key))
	args := []string{"--grace", e.o.Grace.String(), "--lock", filepath.Join(e.lockDir, hex.EncodeToString(key[:8])+".lock"),
		"--nonce", t.Nonce, "--"}
	cmd := exec.Command(self, append(args, t.Argv...)...)
	cmd.Dir = e.o.Dir
	env := e.o.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], TaskEnv+"=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	wrapperProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		fail("start: " + err.Error())
		return
	}
	p := &localProc{cmd: cmd}
	e.running[ref] = p
	e.push(Update{Ref: ref, Phase: PhaseRunning, State: "running"})
	if e.o.Timeout > 0 {
		time.AfterFunc(e.o.Timeout, func() { e.stop(ref, fmt.Sprintf("timed out after %v", e.o.Timeout)) })
	}
	go func() {
		_ = cmd.Wait()
		e.mu.Lock()
		delete(e.running, ref)
		if p.killer != nil {
			p.killer.Stop()
		}
		u := Update{Ref: ref, Phase: PhaseFinished, State: "exited", ExitCode: exitCode(cmd)}
		switch p.stopped {
		case "":
		case "cancel":
			u.Phase = PhaseCancelled
		default:
			u.Reason = p.stopped
		}
		e.push(u)
		e.mu.Unlock()
	}()
}

// stop asks a running task's wrapper to stop its command (SIGTERM; the
// wrapper escalates to SIGKILL after the grace period) and kills the
// wrapper's group itself if that does not end it.
func (e *localExec) stop(ref, why string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.running[ref]
	if p == nil || p.stopped != "" {
		return
	}
	p.stopped = why
	signalGroup(p.cmd, syscall.SIGTERM)
	p.killer = time.AfterFunc(e.o.Grace+2*time.Second, func() { signalGroup(p.cmd, syscall.SIGKILL) })
}

// push queues an update for Wait; the caller holds mu.
func (e *localExec) push(u Update) {
	e.updates = append(e.updates, u)
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

func (e *localExec) Wait(ctx context.Context, _ []string) ([]Update, error) {
	for {
		e.mu.Lock()
		// Updates first: the runner sees a finish (and may cancel) before
		// the next task starts.
		if len(e.updates) == 0 {
			e.dispatch()
		}
		ups := e.updates
		e.updates = nil
		e.mu.Unlock()
		if len(ups) > 0 {
			return ups, nil
		}
		select {
		case <-e.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (e *localExec) Cancel(_ context.Context, refs []string) error {
	e.mu.Lock()
	want := map[string]bool{}
	for _, r := range refs {
		want[r] = true
	}
	kept := e.queue[:0]
	for _, ref := range e.queue {
		if want[ref] {
			e.push(Update{Ref: ref, Phase: PhaseCancelled})
		} else {
			kept = append(kept, ref)
		}
	}
	e.queue = kept
	var run []string
	for ref := range e.running {
		if want[ref] {
			run = append(run, ref)
		}
	}
	e.mu.Unlock()
	for _, ref := range run {
		e.stop(ref, "cancel")
	}
	return nil
}
