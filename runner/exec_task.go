package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"perfpilot/cmdtmpl"
)

// The task wrapper. Every benchmark command runs under a small perfpilot
// process (this binary again, started with TaskEnv set): it prints a start
// marker, runs the command in a process group of its own, forwards
// SIGTERM/SIGINT/SIGHUP to that group (SIGKILL after the grace period),
// kills leftovers when the command ends, and prints the exit status. The
// same wrapper runs a Slurm array task or a Kubernetes Indexed Job pod: it
// then reads its argv from a spec file by the index the scheduler gives, so
// values reach the benchmark only as argv words, never through a shell.
//
// On Linux the wrapper gets SIGTERM when the perfpilot that started it dies
// (Pdeathsig), and the command SIGKILL when the wrapper dies: a killed run
// leaves no orphan. The wrapper holds the configuration's lock while any
// process of the command lives (the lock's descriptor is inherited), so a
// resumed run cannot start a configuration that is still running.

// TaskEnv, set in the environment, turns any binary linking this package
// into the task wrapper (see init): the local executor re-executes itself,
// and batch scripts and pods run `perfpilot` with it.
const TaskEnv = "PERFPILOT_TASK"

// taskBusy is the wrapper's exit status when the configuration's lock is
// held by a process of an earlier run.
const taskBusy = 75

func init() {
	if os.Getenv(TaskEnv) != "" {
		os.Exit(TaskMain(os.Args[1:], os.Stdout, os.Stderr))
	}
}

// TaskSpec is the file a scheduled array reads its tasks from; the index
// the scheduler gives (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX) picks one.
type TaskSpec struct {
	Version int        `json:"version"`
	Session string     `json:"session"`
	Tasks   []SpecTask `json:"tasks"`
}

// SpecTask is one task of a TaskSpec. Log, when set, is the file the
// task's output is appended to (Slurm); without it the output goes to the
// wrapper's own (a pod's log).
type SpecTask struct {
	Nonce string   `json:"nonce"`
	Argv  []string `json:"argv"`
	Log   string   `json:"log,omitempty"`
}

// Marker lines the wrapper prints; collect reads the output after the start
// marker of the attempt it waits for (its nonce).
const markerPrefix = "=== perfpilot task "

func startMarker(nonce string) string { return markerPrefix + nonce + " start" }

// exitMarker begins the last line of an attempt; it reads well in a log
// tail, so it starts with the status.
func exitMarker(nonce string, code int) string {
	return fmt.Sprintf("=== exit status %d of perfpilot task %s", code, nonce)
}

// TaskMain is the wrapper's entry point; args are
//
//	[--grace D] [--lock FILE] [--nonce N] -- ARGV...
//	[--grace D] --spec FILE --index-env VAR
//
// It returns the command's exit status (128+signal when killed).
func TaskMain(args []string, stdout, stderr io.Writer) int {
	grace := DefaultGrace
	var lockPath, nonce, specPath, indexEnv string
	var argv []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			argv = args[i+1:]
			break
		}
		if i+1 >= len(args) {
			fmt.Fprintf(stderr, "perfpilot task: %s needs a value\n", a)
			return 2
		}
		v := args[i+1]
		i++
		switch a {
		case "--grace":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				fmt.Fprintf(stderr, "perfpilot task: --grace %q is not a positive duration\n", v)
				return 2
			}
			grace = d
		case "--lock":
			lockPath = v
		case "--nonce":
			nonce = v
		case "--spec":
			specPath = v
		case "--index-env":
			indexEnv = v
		default:
			fmt.Fprintf(stderr, "perfpilot task: unknown flag %q\n", a)
			return 2
		}
	}
	if specPath != "" {
		t, err := specTask(specPath, indexEnv)
		if err != nil {
			fmt.Fprintf(stderr, "perfpilot task: %v\n", err)
			return 2
		}
		argv, nonce = t.Argv, t.Nonce
		if t.Log != "" {
			// The task's output goes to its configuration's log; what the
			// scheduler itself says stays in the scheduler's output file.
			f, err := OpenRegular(t.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				fmt.Fprintf(stderr, "perfpilot task: log: %v (is the log directory on a filesystem this node sees?)\n", err)
				return 2
			}
			defer f.Close()
			stdout, stderr = f, f
		}
	}
	if len(argv) == 0 {
		fmt.Fprintln(stderr, "perfpilot task: no command")
		return 2
	}
	// The benchmark does not inherit the switch that made this a wrapper.
	os.Unsetenv(TaskEnv)

	var extra []*os.File
	if lockPath != "" {
		lock, err := acquireTaskLock(lockPath, grace+time.Second)
		if err != nil {
			fmt.Fprintf(stdout, "%s%s busy: %v\n", markerPrefix, nonce, err)
			return taskBusy
		}
		defer lock.Close()
		extra = append(extra, lock)
	}
	host, _ := os.Hostname()
	fmt.Fprintf(stdout, "%s on %s at %s%s\n=== %s\n", startMarker(nonce), host, time.Now().UTC().Format(time.RFC3339), schedulerContext(), cmdtmpl.Line(argv))

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.ExtraFiles = extra
	childProcAttr(cmd)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stdout, "%s%s failed to start: %v\n", markerPrefix, nonce, err)
		return 127
	}
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	var stopped os.Signal
	select {
	case <-waited:
	case stopped = <-sigs:
		signalGroup(cmd, syscall.SIGTERM)
		select {
		case <-waited:
		case <-time.After(grace):
			signalGroup(cmd, syscall.SIGKILL)
			<-waited
		}
	}
	// Leftover children of a finished command go too.
	signalGroup(cmd, syscall.SIGKILL)
	code := exitCode(cmd)
	fmt.Fprintf(stdout, "%s", exitMarker(nonce, code))
	if stopped != nil {
		fmt.Fprintf(stdout, " (stopped by %v)", stopped)
	}
	fmt.Fprintln(stdout)
	return code
}

// schedulerContext names where a scheduler put the task, for the log.
func schedulerContext() string {
	var b strings.Builder
	for _, k := range []string{"SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_PARTITION", "JOB_COMPLETION_INDEX", "CUDA_VISIBLE_DEVICES"} {
		if v, ok := os.LookupEnv(k); ok {
			fmt.Fprintf(&b, " %s=%s", k, truncate(strconv.Quote(v), 80))
		}
	}
	return b.String()
}

func specTask(path, indexEnv string) (SpecTask, error) {
	if indexEnv == "" {
		return SpecTask{}, errors.New("--spec needs --index-env")
	}
	raw := os.Getenv(indexEnv)
	idx, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || idx < 0 {
		return SpecTask{}, fmt.Errorf("$%s = %q is not a task index", indexEnv, truncate(raw, 80))
	}
	data, err := readRegular(path, maxStateBytes)
	if err != nil {
		return SpecTask{}, err
	}
	var spec TaskSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return SpecTask{}, fmt.Errorf("%s: %w", path, err)
	}
	if idx >= len(spec.Tasks) || len(spec.Tasks[idx].Argv) == 0 {
		return SpecTask{}, fmt.Errorf("%s has no task %d", path, idx)
	}
	return spec.Tasks[idx], nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
