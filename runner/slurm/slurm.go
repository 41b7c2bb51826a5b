// Package slurm runs perfpilot's benchmark tasks on a Slurm cluster: one
// `sbatch --array` per placement group (hardware and GPU count), one array
// task per configuration, each task the perfpilot task wrapper reading its
// argv from a spec file by SLURM_ARRAY_TASK_ID, so no value is ever
// interpolated into the batch script. Tasks are followed with one `squeue`
// call per poll for the whole session whatever the array sizes, falling
// back to `sacct` only where accounting answers.
package slurm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/formats"
	"perfpilot/runner"
	"perfpilot/runner/placement"
)

// Name is the executor's --executor value.
const Name = "slurm"

// Options configure the executor.
type Options struct {
	Placement *placement.File
	Session   string
	// LogDir holds the configurations' logs (the array tasks' output goes
	// there) and a .slurm directory with the batch scripts and task specs.
	// It must be on a filesystem the compute nodes see.
	LogDir string
	// Dir is the tasks' working directory (the current one when empty).
	Dir string
	// MaxConcurrent caps the running tasks of each array (sbatch %N; 0: no cap).
	MaxConcurrent int
	// Time is the time limit of tasks whose placement has none (Slurm
	// syntax; empty: the partition's default).
	Time string
	// Perfpilot is the perfpilot binary the nodes run as the task wrapper
	// (this executable when empty).
	Perfpilot string
	// Grace is the wrapper's time between SIGTERM and SIGKILL.
	Grace time.Duration
	// Poll is the shortest time between two polls (at least, and by
	// default, one second); PollMax the longest, reached by doubling while
	// nothing changes.
	Poll, PollMax time.Duration
	Cmd           runner.Commander
}

// Exec is the Slurm executor.
type Exec struct {
	o Options

	poll *runner.Poller

	mu        sync.Mutex
	cancelled map[string]bool
	noSacct   bool
}

// New checks the options and returns the executor.
func New(o Options) (*Exec, error) {
	if o.Placement == nil {
		return nil, errors.New("slurm: a placement file is required (--placement FILE)")
	}
	if o.LogDir == "" {
		return nil, errors.New("slurm: no log directory")
	}
	var err error
	if o.LogDir, err = filepath.Abs(o.LogDir); err != nil {
		return nil, err
	}
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return nil, err
	}
	if o.Perfpilot == "" {
		if o.Perfpilot, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("slurm: perfpilot's own path: %w", err)
		}
	}
	if o.Grace <= 0 {
		o.Grace = runner.DefaultGrace
	}
	if o.Cmd == nil {
		o.Cmd = runner.ExecCommander{}
	}
	return &Exec{o: o, poll: runner.NewPoller(o.Poll, o.PollMax), cancelled: map[string]bool{}}, nil
}

func (e *Exec) Name() string { return Name }

// group is one array: the tasks sharing a placement and a GPU count.
type group struct {
	hardware string
	p        placement.Slurm
	gpus     int
	tasks    []runner.Task
	idx      []int // positions in the Submit slice
}

func (g *group) name() string {
	if g.p.Gres == "" {
		return g.hardware
	}
	return fmt.Sprintf("%s (%s)", g.hardware, g.gres())
}

// gres is the --gres value: the placement's name and type with the
// configuration's GPU count.
func (g *group) gres() string {
	if g.p.Gres == "" {
		return ""
	}
	parts := strings.Split(g.p.Gres, ":")
	if _, err := strconv.Atoi(parts[len(parts)-1]); err == nil && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(append(parts, strconv.Itoa(g.gpus)), ":")
}

// token identifies a submission by its tasks' nonces (sbatch --comment),
// so a crash between sbatch and the state file is recovered.
func (g *group) token() string {
	h := sha256.New()
	for _, t := range g.tasks {
		h.Write([]byte(t.Nonce + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// groups splits tasks by placement; a hardware without a Slurm placement
// is an error naming every such configuration.
func (e *Exec) groups(tasks []runner.Task) ([]*group, error) {
	if err := e.o.Placement.Check(Name, configs(tasks)); err != nil {
		return nil, err
	}
	byKey := map[string]*group{}
	var out []*group
	for i, t := range tasks {
		p := *e.o.Placement.Placements[t.Config.Hardware].Slurm
		n := 1
		if p.Gres != "" {
			n = t.Config.GPUs()
		}
		key := t.Config.Hardware + "\x00" + strconv.Itoa(n)
		g := byKey[key]
		if g == nil {
			g = &group{hardware: t.Config.Hardware, p: p, gpus: n}
			byKey[key] = g
			out = append(out, g)
		}
		g.tasks = append(g.tasks, t)
		g.idx = append(g.idx, i)
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].hardware != out[b].hardware {
			return out[a].hardware < out[b].hardware
		}
		return out[a].gpus < out[b].gpus
	})
	return out, nil
}

func configs(tasks []runner.Task) []engine.Config {
	out := make([]engine.Config, len(tasks))
	for i, t := range tasks {
		out[i] = t.Config
	}
	return out
}

func (e *Exec) dir() string { return filepath.Join(e.o.LogDir, ".slurm") }

// jobName is perfpilot-<session> with the session reduced to safe characters.
func (e *Exec) jobName() string {
	var b strings.Builder
	for _, c := range e.o.Session {
		if c < 0x80 && (c == '-' || c == '_' || c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	return "perfpilot-" + b.String()
}

// sbatch is the argv submitting g (the script path last).
func (e *Exec) sbatch(g *group) []string {
	tok := g.token()
	array := fmt.Sprintf("0-%d", len(g.tasks)-1)
	if e.o.MaxConcurrent > 0 {
		array += "%" + strconv.Itoa(e.o.MaxConcurrent)
	}
	args := []string{"sbatch", "--parsable", "--array=" + array, "--job-name=" + e.jobName(), "--comment=perfpilot:" + tok,
		"--output=" + filepath.Join(e.dir(), tok+".out"), "--open-mode=append", "--chdir=" + e.o.Dir,
		"--partition=" + g.p.Partition}
	for _, f := range []struct{ flag, v string }{{"--gres=", g.gres()}, {"--constraint=", g.p.Constraint},
		{"--account=", g.p.Account}, {"--qos=", g.p.QOS}, {"--time=", firstOf(g.p.Time, e.o.Time)}} {
		if f.v != "" {
			args = append(args, f.flag+f.v)
		}
	}
	return append(args, filepath.Join(e.dir(), tok+".sh"))
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (e *Exec) Plan(tasks []runner.Task) ([]runner.Submission, error) {
	gs, err := e.groups(tasks)
	if err != nil {
		return nil, err
	}
	out := make([]runner.Submission, len(gs))
	for i, g := range gs {
		keys := make([]string, len(g.tasks))
		for k, t := range g.tasks {
			keys[k] = t.Key
		}
		out[i] = runner.Submission{Group: g.name(), Command: e.sbatch(g), Tasks: keys}
	}
	return out, nil
}

// Submit writes each group's task spec and batch script, then submits it.
// The batch script is fixed text: it runs the wrapper, which reads the
// task's argv and log from the spec and writes the task's output to the
// configuration's log; Slurm's own messages go to one file per array.
func (e *Exec) Submit(ctx context.Context, tasks []runner.Task) ([]string, error) {
	gs, err := e.groups(tasks)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(e.dir(), 0o755); err != nil {
		return nil, fmt.Errorf("slurm: %w", err)
	}
	refs := make([]string, len(tasks))
	for _, g := range gs {
		if err := e.prepare(g); err != nil {
			return refs, err
		}
		argv := e.sbatch(g)
		out, err := e.o.Cmd.Run(ctx, argv[0], argv[1:]...)
		if err != nil {
			return refs, fmt.Errorf("slurm: submit %s: %w", g.name(), err)
		}
		id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return refs, fmt.Errorf("slurm: sbatch printed %q, not a job id", truncate(string(out), 80))
		}
		for k, i := range g.idx {
			refs[i] = id + "_" + strconv.Itoa(k)
		}
	}
	return refs, nil
}

func (e *Exec) prepare(g *group) error {
	tok := g.token()
	spec := runner.TaskSpec{Version: 1, Session: e.o.Session}
	for _, t := range g.tasks {
		abs, err := filepath.Abs(t.LogPath)
		if err != nil {
			return err
		}
		spec.Tasks = append(spec.Tasks, runner.SpecTask{Nonce: t.Nonce, Argv: t.Argv, Log: abs})
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	specPath := filepath.Join(e.dir(), tok+".json")
	if err := formats.WriteFileAtomic(specPath, data, true); err != nil {
		return fmt.Errorf("slurm: task spec: %w", err)
	}
	// Only paths perfpilot chose, each quoted once; no value of a
	// configuration is in the script.
	script := fmt.Sprintf("#!/bin/sh\n# perfpilot: the task wrapper runs task $SLURM_ARRAY_TASK_ID of the spec.\n%s=1\nexport %s\nexec %s --grace %s --spec %s --index-env SLURM_ARRAY_TASK_ID\n",
		runner.TaskEnv, runner.TaskEnv, cmdtmpl.Quote(e.o.Perfpilot), cmdtmpl.Quote(e.o.Grace.String()), cmdtmpl.Quote(specPath))
	if err := formats.WriteFileAtomic(filepath.Join(e.dir(), tok+".sh"), []byte(script), true); err != nil {
		return fmt.Errorf("slurm: batch script: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
