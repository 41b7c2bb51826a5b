package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/store"
)

// The apply / follow / logs path runs against a fake kubectl: this test
// binary under the name kubectl, first on PATH. It records its argv and
// answers as kubectl does, its pod lists built from the real API types. It
// plays the kubelet too: a pod "runs" by executing the Job's container
// command with the container's environment, JOB_COMPLETION_INDEX and the
// ConfigMap mounted where the pod would see it, so what reaches the
// benchmark is exactly what the manifest says. A live cluster is not
// tested.

const (
	fakeDirEnv = "PERFPILOT_FAKE_KUBE_DIR"
	recordEnv  = "PERFPILOT_KUBE_TEST_RECORD"
)

func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "kubectl" {
		os.Exit(fakeKubectl(os.Getenv(fakeDirEnv), os.Args[1:]))
	}
	if path := os.Getenv(recordEnv); path != "" {
		line, _ := json.Marshal(os.Args[1:])
		f, _ := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		fmt.Fprintf(f, "%s\n", line)
		f.Close()
		if len(os.Args) > 2 && os.Args[len(os.Args)-1] == "fail" {
			fmt.Println("CUDA error: out of memory")
			os.Exit(3)
		}
		fmt.Println(`{"throughput": 123, "latency_ms": 8}`)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func fakeKubectl(dir string, args []string) int {
	line, _ := json.Marshal(args)
	f, err := os.OpenFile(filepath.Join(dir, "argv.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(f, "%s\n", line)
	f.Close()
	flags := map[string]string{}
	var words []string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") && !strings.Contains(args[i], "=") && i+1 < len(args) && args[i] != "--ignore-not-found" {
			flags[args[i]] = args[i+1]
			i++
		} else {
			words = append(words, args[i])
		}
	}
	switch {
	case len(words) == 1 && words[0] == "apply":
		return fakeApply(dir, flags["-f"])
	case len(words) == 2 && words[0] == "get" && words[1] == "jobs":
		for _, j := range fakeJobs(dir, flags["-n"], flags["-l"]) {
			fmt.Printf("job.batch/%s\n", j.Name)
		}
		return 0
	case len(words) == 2 && words[0] == "get" && words[1] == "pods,jobs":
		return fakePods(dir, flags["-n"], flags["-l"])
	case len(words) == 2 && words[0] == "logs":
		data, err := os.ReadFile(filepath.Join(dir, "logs", strings.TrimPrefix(words[1], "pod/")))
		if err != nil {
			fmt.Fprintf(os.Stderr, "Error from server (NotFound): pods %q not found\n", words[1])
			return 1
		}
		os.Stdout.Write(data)
		return 0
	case len(words) >= 1 && words[0] == "delete":
		for _, w := range words[1:] {
			kind, name, _ := strings.Cut(w, "/")
			os.Remove(filepath.Join(dir, kind, name+".json"))
			fmt.Printf("%s %q deleted\n", map[string]string{"job": "job.batch"}[kind], name)
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "fake kubectl: unexpected %q\n", args)
	return 1
}

func fakeApply(dir, path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: the path %q does not exist\n", path)
		return 1
	}
	for _, doc := range strings.Split(string(data), "---\n") {
		var head struct{ Kind string }
		if yaml.Unmarshal([]byte(doc), &head) != nil || head.Kind == "" {
			continue
		}
		var obj interface{ GetName() string }
		var dirName string
		switch head.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict([]byte(doc), &cm); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			obj, dirName = &cm, "configmap"
			fmt.Printf("configmap/%s created\n", cm.Name)
		case "Job":
			var j batchv1.Job
			if err := yaml.UnmarshalStrict([]byte(doc), &j); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			obj, dirName = &j, "job"
			fmt.Printf("job.batch/%s created\n", j.Name)
		}
		js, _ := json.Marshal(obj)
		os.MkdirAll(filepath.Join(dir, dirName), 0o755)
		os.WriteFile(filepath.Join(dir, dirName, obj.GetName()+".json"), js, 0o644)
	}
	return 0
}

func fakeJobs(dir, ns, selector string) []batchv1.Job {
	key, val, _ := strings.Cut(selector, "=")
	entries, _ := os.ReadDir(filepath.Join(dir, "job"))
	var out []batchv1.Job
	for _, e := range entries {
		var j batchv1.Job
		data, _ := os.ReadFile(filepath.Join(dir, "job", e.Name()))
		if json.Unmarshal(data, &j) == nil && j.Namespace == ns && j.Labels[key] == val {
			out = append(out, j)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// fakePods advances each pod one phase per poll: Pending, Running, then it
// runs (the kubelet's part) and reports Succeeded or Failed.
func fakePods(dir, ns, selector string) int {
	list := struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Items      []any  `json:"items"`
	}{APIVersion: "v1", Kind: "List", Items: []any{}}
	for _, j := range fakeJobs(dir, ns, selector) {
		j.APIVersion, j.Kind = "batch/v1", "Job"
		list.Items = append(list.Items, j)
		for i := range int(*j.Spec.Completions) {
			name := fmt.Sprintf("%s-%d-x7k2p", j.Name, i)
			stepFile := filepath.Join(dir, "steps", name)
			os.MkdirAll(filepath.Dir(stepFile), 0o755)
			stepText, _ := os.ReadFile(stepFile)
			step, _ := strconv.Atoi(string(stepText))
			os.WriteFile(stepFile, []byte(strconv.Itoa(step+1)), 0o644)
			pod := corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
					Labels:      map[string]string{"batch.kubernetes.io/job-name": j.Name, "job-name": j.Name, "batch.kubernetes.io/job-completion-index": strconv.Itoa(i)},
					Annotations: map[string]string{"batch.kubernetes.io/job-completion-index": strconv.Itoa(i)}}}
			cs := corev1.ContainerStatus{Name: "bench", Image: j.Spec.Template.Spec.Containers[0].Image}
			switch step {
			case 0:
				pod.Status.Phase = corev1.PodPending
				cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
			case 1:
				pod.Status.Phase = corev1.PodRunning
				cs.State.Running = &corev1.ContainerStateRunning{}
			default:
				code := fakeRunPod(dir, &j, i, name, step == 2)
				pod.Status.Phase = corev1.PodSucceeded
				if code != 0 {
					pod.Status.Phase = corev1.PodFailed
				}
				cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: int32(code), Reason: map[bool]string{true: "Completed", false: "Error"}[code == 0]}
			}
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
			list.Items = append(list.Items, pod)
		}
	}
	out, _ := json.MarshalIndent(list, "", "    ")
	os.Stdout.Write(out)
	return 0
}

// fakeRunPod runs index i of the Job as its pod would (once).
func fakeRunPod(dir string, j *batchv1.Job, i int, pod string, first bool) int {
	codeFile := filepath.Join(dir, "exit", pod)
	if !first {
		data, _ := os.ReadFile(codeFile)
		c, _ := strconv.Atoi(string(data))
		return c
	}
	c := j.Spec.Template.Spec.Containers[0]
	vol := j.Spec.Template.Spec.Volumes[0]
	var cm corev1.ConfigMap
	data, _ := os.ReadFile(filepath.Join(dir, "configmap", vol.ConfigMap.Name+".json"))
	json.Unmarshal(data, &cm)
	mount := filepath.Join(dir, "mounts", pod)
	os.MkdirAll(mount, 0o755)
	for k, v := range cm.Data {
		os.WriteFile(filepath.Join(mount, k), []byte(v), 0o644)
	}
	argv := make([]string, len(c.Command))
	for k, a := range c.Command {
		argv[k] = strings.ReplaceAll(a, c.VolumeMounts[0].MountPath, mount)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "JOB_COMPLETION_INDEX=" + strconv.Itoa(i), recordEnv + "=" + os.Getenv(recordEnv)}
	for _, e := range c.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		code = 1
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
	}
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	os.WriteFile(filepath.Join(dir, "logs", pod), out.Bytes(), 0o644)
	os.MkdirAll(filepath.Dir(codeFile), 0o755)
	os.WriteFile(codeFile, []byte(strconv.Itoa(code)), 0o644)
	return code
}

// selfPlacement is placementJSON with this test binary as the pods'
// perfpilot.
func selfPlacement(self string) string {
	s := strings.ReplaceAll(placementJSON, `"namespace": "bench", "image"`, `"namespace": "bench", "perfpilot": "`+self+`", "image"`)
	return strings.ReplaceAll(s, `"/opt/perfpilot"`, `"`+self+`"`)
}

// kubeEnv puts the fake kubectl first on PATH.
type kubeEnv struct {
	dir, state, record string
	db                 *store.DB
}

func newKubeEnv(t *testing.T, session string, cfgs []engine.Config) *kubeEnv {
	t.Helper()
	dir := t.TempDir()
	e := &kubeEnv{dir: dir, state: filepath.Join(dir, "kube"), record: filepath.Join(dir, "argv.jsonl")}
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	os.MkdirAll(e.state, 0o755)
	self, _ := os.Executable()
	if err := os.Symlink(self, filepath.Join(bin, "kubectl")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(fakeDirEnv, e.state)
	t.Setenv(recordEnv, e.record)
	db, err := store.Open(context.Background(), filepath.Join(dir, "perfpilot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	recs := make([]engine.Recommendation, len(cfgs))
	for i, c := range cfgs {
		recs[i] = engine.Recommendation{ModelName: c.Model, ModelType: "text_embedding", Hardware: c.Hardware, BatchSize: c.BatchSize,
			Precision: c.Precision, SequenceLength: c.SequenceLength}
	}
	err = db.SaveSession(context.Background(), store.Session{Name: session, Report: &engine.Report{Recommendations: recs},
		Params: store.SessionParams{RankParams: engine.RankParams{Metric: engine.Throughput, Budget: len(cfgs)}}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *kubeEnv) kubectlCalls(t *testing.T) [][]string {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(e.state, "argv.jsonl"))
	var out [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var a []string
		if json.Unmarshal([]byte(l), &a) == nil {
			out = append(out, a)
		}
	}
	return out
}

func count(calls [][]string, verb string) int {
	n := 0
	for _, c := range calls {
		if len(c) > 0 && c[0] == verb {
			n++
		}
	}
	return n
}

func (e *kubeEnv) run(t *testing.T, session string, o func(*runner.Options)) (*runner.Summary, error) {
	t.Helper()
	self, _ := os.Executable()
	pl := mustPlacement(t, selfPlacement(self))
	x, err := New(Options{Placement: pl, Session: session, LogDir: filepath.Join(e.dir, "out", "logs"), Grace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	opts := runner.Options{DB: e.db, Session: session, Template: cmdtmpl.Quote(self) + " --model {model} {precision}",
		OutputDir: filepath.Join(e.dir, "out"), Executor: x, Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }}
	if o != nil {
		o(&opts)
	}
	return runner.Run(context.Background(), opts, nil)
}

// The hostile model id travels through the ConfigMap to the pod's wrapper
// and reaches the benchmark as one argv word; kubectl never sees it; a
// failing pod fails its configuration only.
func TestKubernetesApplyFollowLogs(t *testing.T) {
	cfgs := []engine.Config{{Model: hostile, Hardware: "cuda", BatchSize: 8, Precision: engine.FP16, SequenceLength: 128},
		{Model: "bert-base-uncased", Hardware: "cuda", BatchSize: 1, Precision: "fail", SequenceLength: 128}}
	e := newKubeEnv(t, "k8s", cfgs)
	cwd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(cwd) })
	os.Chdir(e.dir) // a shell running "touch CANARY" would create it here
	sum, err := e.run(t, "k8s", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Jobs[0].Status != runner.StatusMeasured || sum.Jobs[1].Status != runner.StatusFailed || sum.Jobs[1].ExitCode != 3 {
		t.Fatalf("jobs: %+v", sum.Jobs)
	}
	data, _ := os.ReadFile(e.record)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var argv []string
	json.Unmarshal([]byte(lines[0]), &argv)
	if len(lines) != 2 || len(argv) != 3 || argv[1] != hostile {
		t.Errorf("benchmark argv %q (of %d runs), want [--model %q fp16]", argv, len(lines), hostile)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "CANARY")); err == nil {
		t.Error("CANARY exists: part of the model id ran")
	}
	calls := e.kubectlCalls(t)
	if count(calls, "apply") != 1 || count(calls, "logs") != 2 {
		t.Errorf("kubectl calls %q", calls)
	}
	for _, c := range calls {
		if strings.Contains(strings.Join(c, " "), "touch") {
			t.Errorf("a model id reached kubectl's command line: %q", c)
		}
	}
	log, _ := os.ReadFile(sum.Jobs[1].LogPath)
	if !strings.Contains(string(log), "CUDA error") || !strings.Contains(string(log), "JOB_COMPLETION_INDEX") {
		t.Errorf("failed pod's log:\n%s", log)
	}
	rs, _ := e.db.Results(context.Background(), store.ResultFilter{Source: runner.Source("k8s")})
	if len(rs) != 1 || rs[0].Config.Model != hostile || rs[0].Throughput != 123 {
		t.Errorf("imported %+v", rs)
	}
}

// Interrupted and left running, then resumed: the Job is followed again,
// never applied twice.
func TestKubernetesLeaveAndResume(t *testing.T) {
	cfgs := []engine.Config{{Model: "gpt2", Hardware: "cuda", BatchSize: 1, Precision: engine.FP16, SequenceLength: 128},
		{Model: "gpt2", Hardware: "cpu", BatchSize: 1, Precision: engine.FP32, SequenceLength: 128}}
	e := newKubeEnv(t, "leave", cfgs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	self, _ := os.Executable()
	pl := mustPlacement(t, selfPlacement(self))
	x, _ := New(Options{Placement: pl, Session: "leave", LogDir: filepath.Join(e.dir, "out", "logs")})
	opts := runner.Options{DB: e.db, Session: "leave", Template: cmdtmpl.Quote(self) + " --model {model} {precision}", OutputDir: filepath.Join(e.dir, "out"),
		Executor: x, OnInterrupt: func() bool { return false }}
	sum, err := runner.Run(ctx, opts, func(ev runner.Event) {
		if ev.Kind == runner.EventQueued {
			cancel()
		}
	})
	if !errors.Is(err, runner.ErrInterrupted) || sum.Left != 2 {
		t.Fatalf("interrupted: %v, left %d", err, sum.Left)
	}
	sum, err = e.run(t, "leave", func(o *runner.Options) { o.Template = opts.Template })
	if err != nil || sum.Count(runner.StatusMeasured) != 2 {
		t.Fatalf("resume: %v, %+v", err, sum.Jobs)
	}
	if n := count(e.kubectlCalls(t), "apply"); n != 2 {
		t.Errorf("%d applies, want 2 (one per placement, first run only)", n)
	}
}
