package kube

import (
	"context"
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

	"perfpilot/formats"
	"perfpilot/runner"
	"perfpilot/runner/placement"
)

// Name is the executor's --executor value.
const Name = "kubernetes"

// Options configure the executor.
type Options struct {
	Placement *placement.File
	Session   string
	// LogDir holds the configurations' logs (pod logs are copied there)
	// and a .kube directory with the applied manifests.
	LogDir        string
	MaxConcurrent int
	// Timeout bounds each pod (activeDeadlineSeconds; 0: none).
	Timeout time.Duration
	Grace   time.Duration
	// Kubectl is the kubectl program ("kubectl" when empty).
	Kubectl string
	// Poll is the shortest time between two polls (at least, and by
	// default, one second); PollMax the longest, reached by doubling while
	// nothing changes.
	Poll, PollMax time.Duration
	Cmd           runner.Commander
}

// Exec is the Kubernetes executor.
type Exec struct {
	o Options

	poll *runner.Poller

	mu        sync.Mutex
	pods      map[string]string // ref → pod name of its latest pod
	cancelled map[string]bool   // namespace/job
	nextLog   time.Time         // the earliest the next kubectl logs may start
}

// Fetching logs is paced (a thousand pods that finish together must not
// become a thousand back-to-back API requests) and bounded: the runner
// reads at most a 16 MiB document from a log (runner/parse.go).
const (
	logGap      = 50 * time.Millisecond
	logMaxBytes = 16 << 20
)

// paceLog waits for the next log fetch's turn.
func (e *Exec) paceLog(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	now := time.Now()
	at := e.nextLog
	if at.Before(now) {
		at = now
	}
	e.nextLog = at.Add(logGap)
	e.mu.Unlock()
	select {
	case <-time.After(at.Sub(now)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// New checks the options and returns the executor.
func New(o Options) (*Exec, error) {
	if o.Placement == nil {
		return nil, errors.New("kubernetes: a placement file is required (--placement FILE)")
	}
	if o.LogDir == "" {
		return nil, errors.New("kubernetes: no log directory")
	}
	if o.Kubectl == "" {
		o.Kubectl = "kubectl"
	}
	if o.Grace <= 0 {
		o.Grace = runner.DefaultGrace
	}
	if o.Cmd == nil {
		o.Cmd = runner.ExecCommander{}
	}
	return &Exec{o: o, poll: runner.NewPoller(o.Poll, o.PollMax), pods: map[string]string{}, cancelled: map[string]bool{}}, nil
}

func (e *Exec) Name() string { return Name }

func (e *Exec) manifestOptions() ManifestOptions {
	return ManifestOptions{Session: e.o.Session, MaxConcurrent: e.o.MaxConcurrent, TimeoutSeconds: int64((e.o.Timeout + time.Second - 1) / time.Second),
		Grace: e.o.Grace.String()}
}

func (e *Exec) manifestPath(g *Group) string {
	return filepath.Join(e.o.LogDir, ".kube", g.JobName(e.o.Session)+".yaml")
}

func (e *Exec) Plan(tasks []runner.Task) ([]runner.Submission, error) {
	gs, err := Groups(e.o.Placement, tasks)
	if err != nil {
		return nil, err
	}
	out := make([]runner.Submission, len(gs))
	for i, g := range gs {
		keys := make([]string, len(g.Tasks))
		for k, t := range g.Tasks {
			keys[k] = t.Key
		}
		out[i] = runner.Submission{Group: fmt.Sprintf("%s (namespace %s, image %s)", g.Hardware, g.P.Namespace, g.P.Image),
			Command: []string{e.o.Kubectl, "apply", "-f", e.manifestPath(g)}, Tasks: keys}
	}
	return out, nil
}

// Submit writes each group's ConfigMap and Indexed Job and applies them.
func (e *Exec) Submit(ctx context.Context, tasks []runner.Task) ([]string, error) {
	gs, err := Groups(e.o.Placement, tasks)
	if err != nil {
		return nil, err
	}
	refs := make([]string, len(tasks))
	if err := os.MkdirAll(filepath.Join(e.o.LogDir, ".kube"), 0o755); err != nil {
		return refs, fmt.Errorf("kubernetes: %w", err)
	}
	for _, g := range gs {
		cm, job, err := Manifests(g, e.manifestOptions())
		if err != nil {
			return refs, err
		}
		data, err := YAML(cm, job)
		if err != nil {
			return refs, err
		}
		path := e.manifestPath(g)
		if err := formats.WriteFileAtomic(path, data, true); err != nil {
			return refs, fmt.Errorf("kubernetes: manifest: %w", err)
		}
		if _, err := e.o.Cmd.Run(ctx, e.o.Kubectl, "apply", "-f", path); err != nil {
			return refs, fmt.Errorf("kubernetes: apply %s: %w", g.Hardware, err)
		}
		for k, i := range g.idx {
			refs[i] = ref(g.P.Namespace, job.Metadata.Name, k)
		}
	}
	return refs, nil
}

// Recover finds Jobs a crashed Submit applied, by their submission label.
func (e *Exec) Recover(ctx context.Context, tasks []runner.Task) ([]string, error) {
	refs := make([]string, len(tasks))
	gs, err := Groups(e.o.Placement, tasks)
	if err != nil {
		return refs, err
	}
	for _, g := range gs {
		e.poll.Pace()
		out, err := e.o.Cmd.Run(ctx, e.o.Kubectl, "get", "jobs", "-n", g.P.Namespace, "-l", LabelSubmission+"="+g.Token(), "-o", "name")
		if err != nil {
			return refs, fmt.Errorf("kubernetes: %w", err)
		}
		if name := g.JobName(e.o.Session); strings.Contains(string(out), "job.batch/"+name) {
			for k, i := range g.idx {
				refs[i] = ref(g.P.Namespace, name, k)
			}
		}
	}
	return refs, nil
}

// Wait polls until a task changed (see runner.Poller); a poll is one
// `kubectl get pods,jobs` per namespace, for the whole session.
func (e *Exec) Wait(ctx context.Context, refs []string) ([]runner.Update, error) {
	return e.poll.Wait(ctx, refs, func(ctx context.Context) (map[string]runner.Update, error) { return e.status(ctx, refs) })
}

// podList is what `kubectl get pods,jobs -o json` prints (the fields read).
type podList struct {
	Items []struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name              string            `json:"name"`
			Labels            map[string]string `json:"labels"`
			Annotations       map[string]string `json:"annotations"`
			CreationTimestamp string            `json:"creationTimestamp"`
		} `json:"metadata"`
		Status struct {
			Phase             string `json:"phase"`
			Reason            string `json:"reason"`
			Message           string `json:"message"`
			ContainerStatuses []struct {
				State struct {
					Waiting *struct {
						Reason  string `json:"reason"`
						Message string `json:"message"`
					} `json:"waiting"`
					Terminated *struct {
						ExitCode int    `json:"exitCode"`
						Signal   int    `json:"signal"`
						Reason   string `json:"reason"`
					} `json:"terminated"`
				} `json:"state"`
			} `json:"containerStatuses"`
		} `json:"status"`
	} `json:"items"`
}

func (e *Exec) status(ctx context.Context, refs []string) (map[string]runner.Update, error) {
	now := map[string]runner.Update{}
	byNS := map[string][]string{}
	for _, r := range refs {
		ns, job, _, ok := parseRef(r)
		if !ok {
			now[r] = runner.Update{Ref: r, Phase: runner.PhaseGone, State: "bad reference"}
			continue
		}
		e.mu.Lock()
		cancelled := e.cancelled[ns+"/"+job]
		e.mu.Unlock()
		if cancelled {
			now[r] = runner.Update{Ref: r, Phase: runner.PhaseCancelled, State: "deleted"}
			continue
		}
		byNS[ns] = append(byNS[ns], r)
	}
	namespaces := make([]string, 0, len(byNS))
	for ns := range byNS {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		e.poll.Pace()
		out, err := e.o.Cmd.Run(ctx, e.o.Kubectl, "get", "pods,jobs", "-n", ns, "-l", LabelSession+"="+SessionLabel(e.o.Session), "-o", "json")
		if err != nil {
			return nil, fmt.Errorf("kubernetes: %w", err)
		}
		var list podList
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, fmt.Errorf("kubernetes: kubectl get printed no pod list: %w", err)
		}
		jobs := map[string]bool{}
		type podState struct {
			name, created string
			u             runner.Update
		}
		latest := map[string]podState{}
		for _, it := range list.Items {
			if it.Kind == "Job" {
				jobs[it.Metadata.Name] = true
				continue
			}
			job := firstNonEmpty(it.Metadata.Labels["batch.kubernetes.io/job-name"], it.Metadata.Labels["job-name"])
			idx := firstNonEmpty(it.Metadata.Labels["batch.kubernetes.io/job-completion-index"], it.Metadata.Annotations["batch.kubernetes.io/job-completion-index"])
			i, err := strconv.Atoi(idx)
			if job == "" || err != nil {
				continue
			}
			r := ref(ns, job, i)
			if p, ok := latest[r]; ok && p.created > it.Metadata.CreationTimestamp {
				continue
			}
			u := runner.Update{Ref: r, State: it.Status.Phase}
			var waiting, term string
			code := 0
			if cs := it.Status.ContainerStatuses; len(cs) > 0 {
				if w := cs[0].State.Waiting; w != nil {
					waiting = w.Reason
				}
				if t := cs[0].State.Terminated; t != nil {
					code, term = t.ExitCode, t.Reason
				}
			}
			switch it.Status.Phase {
			case "Pending", "Unknown", "":
				u.Phase = runner.PhaseQueued
				if waiting != "" {
					u.State += " (" + waiting + ")"
				}
				switch waiting {
				case "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError":
					u.Phase, u.Reason = runner.PhaseFinished, waiting+": the pod cannot start (kubectl describe pod "+it.Metadata.Name+")"
				}
			case "Running":
				u.Phase = runner.PhaseRunning
			case "Succeeded":
				u.Phase = runner.PhaseFinished
			default: // Failed
				u.Phase, u.ExitCode = runner.PhaseFinished, code
				switch {
				case it.Status.Reason == "DeadlineExceeded":
					u.Reason = "DeadlineExceeded: the time limit (activeDeadlineSeconds) ended it"
				case term == "OOMKilled":
					u.Reason = "OOMKilled: the container exceeded its memory limit"
				case it.Status.Reason != "":
					u.Reason = it.Status.Reason + ": " + truncate(it.Status.Message, 120)
				case code == 0:
					u.Reason = "Failed: " + firstNonEmpty(term, "the pod failed")
				}
			}
			latest[r] = podState{name: it.Metadata.Name, created: it.Metadata.CreationTimestamp, u: u}
		}
		for _, r := range byNS[ns] {
			_, job, _, _ := parseRef(r)
			if p, ok := latest[r]; ok {
				now[r] = p.u
				e.mu.Lock()
				e.pods[r] = p.name
				e.mu.Unlock()
				continue
			}
			if jobs[job] {
				now[r] = runner.Update{Ref: r, Phase: runner.PhaseQueued, State: "no pod yet"}
			} else {
				now[r] = runner.Update{Ref: r, Phase: runner.PhaseGone, State: "job not found"}
			}
		}
	}
	return now, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// FetchLog appends a finished task's pod log (`kubectl logs`) to its log
// file, where the runner reads the metrics.
func (e *Exec) FetchLog(ctx context.Context, r, logPath string) error {
	ns, _, _, ok := parseRef(r)
	e.mu.Lock()
	pod := e.pods[r]
	e.mu.Unlock()
	if !ok || pod == "" {
		return fmt.Errorf("kubernetes: no pod known for %s", r)
	}
	if err := e.paceLog(ctx); err != nil {
		return err
	}
	out, err := e.o.Cmd.Run(ctx, e.o.Kubectl, "logs", "-n", ns, "--limit-bytes", strconv.Itoa(logMaxBytes), "pod/"+pod)
	if err != nil {
		return fmt.Errorf("kubernetes: %w", err)
	}
	f, err := runner.OpenRegular(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "=== kubectl logs -n %s pod/%s\n", ns, pod)
	_, err = f.Write(out)
	return err
}

// Cancel deletes the Jobs (and their ConfigMaps) holding the tasks; a Job
// is the unit Kubernetes can stop.
func (e *Exec) Cancel(ctx context.Context, refs []string) error {
	byNS := map[string][]string{}
	e.mu.Lock()
	for _, r := range refs {
		ns, job, _, ok := parseRef(r)
		if ok && !e.cancelled[ns+"/"+job] {
			e.cancelled[ns+"/"+job] = true
			byNS[ns] = append(byNS[ns], "job/"+job, "configmap/"+job)
		}
	}
	e.mu.Unlock()
	e.poll.Soon()
	for ns, objs := range byNS {
		args := append([]string{"delete", "-n", ns, "--ignore-not-found", "--wait=false"}, objs...)
		if _, err := e.o.Cmd.Run(ctx, e.o.Kubectl, args...); err != nil {
			return fmt.Errorf("kubernetes: %w", err)
		}
	}
	return nil
}
