package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"sigs.k8s.io/yaml"

	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/runner/placement"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// hostile is a model id a shell would run parts of; names and labels must
// still be valid and the pod must get it as one argv word.
const hostile = `acme/Evil Model"; touch CANARY; $(touch CANARY) ` + "`touch CANARY`" + ` && echo ' | rm -rf / #ÜNÏCODE`

const placementJSON = `{"placements": {
  "cuda": {"kubernetes": {"namespace": "bench", "image": "registry.example/bench:1",
           "node_selector": {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"},
           "resources": {"nvidia.com/gpu": "1", "memory": "16Gi"},
           "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}},
  "cpu":  {"kubernetes": {"namespace": "bench-cpu", "image": "registry.example/bench:1", "perfpilot": "/opt/perfpilot"}}}}`

func hostileTasks() []runner.Task {
	var out []runner.Task
	for i, c := range []engine.Config{
		{Model: hostile, Hardware: "cuda", BatchSize: 8, Precision: engine.FP16, SequenceLength: 128},
		{Model: hostile, Hardware: "cpu", BatchSize: 1, Precision: engine.FP32, SequenceLength: 128},
		{Model: "bert-base-uncased", Hardware: "cuda", BatchSize: 1, Precision: engine.FP16, SequenceLength: 128},
	} {
		out = append(out, runner.Task{Key: c.Key(), Config: c, Nonce: fmt.Sprintf("nonce%d", i),
			Argv: []string{"python", "bench.py", "--model", c.Model, "--batch-size", fmt.Sprint(c.BatchSize)}})
	}
	return out
}

func mustPlacement(t *testing.T, doc string) *placement.File {
	t.Helper()
	pl, err := placement.Parse([]byte(doc), "placement.json")
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func manifests(t *testing.T, session string, tasks []runner.Task) []byte {
	t.Helper()
	gs, err := Groups(mustPlacement(t, placementJSON), tasks)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, g := range gs {
		cm, job, err := Manifests(g, ManifestOptions{Session: session, MaxConcurrent: 1, TimeoutSeconds: 600, Grace: "5s"})
		if err != nil {
			t.Fatal(err)
		}
		y, err := YAML(cm, job)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, y...)
	}
	return all
}

// decodeAll decodes every document with the real API types, unknown
// fields disallowed, and checks names and labels.
func decodeAll(t *testing.T, data []byte) ([]corev1.ConfigMap, []batchv1.Job) {
	t.Helper()
	var cms []corev1.ConfigMap
	var jobs []batchv1.Job
	for _, doc := range strings.Split(string(data), "---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var head struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		var meta interface {
			GetName() string
			GetLabels() map[string]string
		}
		switch head.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict([]byte(doc), &cm); err != nil {
				t.Fatalf("ConfigMap does not decode strictly: %v\n%s", err, doc)
			}
			cms = append(cms, cm)
			meta = &cms[len(cms)-1]
		case "Job":
			var j batchv1.Job
			if err := yaml.UnmarshalStrict([]byte(doc), &j); err != nil {
				t.Fatalf("Job does not decode strictly: %v\n%s", err, doc)
			}
			jobs = append(jobs, j)
			meta = &jobs[len(jobs)-1]
		default:
			t.Fatalf("unexpected kind %q", head.Kind)
		}
		if errs := content.IsDNS1123Label(meta.GetName()); len(errs) > 0 {
			t.Errorf("name %q: %v", meta.GetName(), errs)
		}
		for k, v := range meta.GetLabels() {
			if errs := append(content.IsLabelKey(k), content.IsLabelValue(v)...); len(errs) > 0 {
				t.Errorf("label %s=%s: %v", k, v, errs)
			}
		}
	}
	return cms, jobs
}

func TestManifestsAreValidKubernetes(t *testing.T) {
	data := manifests(t, "monday $(rm -rf /) — Ünïcode session with a very long name indeed", hostileTasks())
	cms, jobs := decodeAll(t, data)
	if len(cms) != 2 || len(jobs) != 2 {
		t.Fatalf("%d ConfigMaps, %d Jobs; want 2, 2", len(cms), len(jobs))
	}
	for i, j := range jobs {
		s := j.Spec
		if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 0 {
			t.Errorf("job %s: not an Indexed Job without retries: %+v", j.Name, s)
		}
		pod := s.Template.Spec
		if pod.RestartPolicy != corev1.RestartPolicyNever || len(pod.Containers) != 1 || pod.Volumes[0].ConfigMap.Name != cms[i].Name {
			t.Errorf("job %s pod spec %+v", j.Name, pod)
		}
		c := pod.Containers[0]
		if c.Args != nil || !strings.Contains(strings.Join(c.Command, " "), "--index-env JOB_COMPLETION_INDEX") {
			t.Errorf("container command %q", c.Command)
		}
		// No configuration value anywhere but the ConfigMap's JSON.
		if strings.Contains(fmt.Sprint(c), "touch") || strings.Contains(fmt.Sprint(j.ObjectMeta), "touch") {
			t.Errorf("a model id leaked into the Job: %v", c)
		}
		var spec runner.TaskSpec
		if err := json.Unmarshal([]byte(cms[i].Data["tasks.json"]), &spec); err != nil || int(*s.Completions) != len(spec.Tasks) {
			t.Errorf("ConfigMap %s: %v, %d tasks for %d completions", cms[i].Name, err, len(spec.Tasks), *s.Completions)
		}
	}
	gpu := jobs[1].Spec.Template.Spec
	if jobs[1].Namespace != "bench" || gpu.NodeSelector["nvidia.com/gpu.product"] != "NVIDIA-A100-SXM4-80GB" ||
		gpu.Containers[0].Resources.Limits.Name("nvidia.com/gpu", "").String() != "1" || len(gpu.Tolerations) != 1 {
		t.Errorf("GPU placement not applied: %+v", gpu)
	}
	if cpu := jobs[0].Spec.Template.Spec.Containers[0]; cpu.Command[0] != "/opt/perfpilot" {
		t.Errorf("perfpilot path %q", cpu.Command[0])
	}
}

func TestManifestsGolden(t *testing.T) {
	data := manifests(t, "hostile; $(touch CANARY)", hostileTasks())
	if again := manifests(t, "hostile; $(touch CANARY)", hostileTasks()); !bytes.Equal(data, again) {
		t.Fatal("manifests are not deterministic")
	}
	golden := filepath.Join("testdata", "hostile.golden.yaml")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./runner/kube -run Golden -update)", err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("manifests differ from %s (go test -run Golden -update to accept):\n%s", golden, data)
	}
}

// kubectl itself checks the manifests where it can reach a cluster (client
// dry-run still needs the API server's discovery); none is here in CI.
func TestManifestsKubectlDryRun(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed")
	}
	if err := exec.Command("kubectl", "version", "--request-timeout=2s").Run(); err != nil {
		t.Skip("kubectl reaches no cluster (client dry-run needs the API server's discovery)")
	}
	path := filepath.Join(t.TempDir(), "m.yaml")
	os.WriteFile(path, manifests(t, "dry-run", hostileTasks()), 0o644)
	if out, err := exec.Command("kubectl", "apply", "--dry-run=client", "-f", path).CombinedOutput(); err != nil {
		t.Errorf("kubectl apply --dry-run=client: %v\n%s", err, out)
	}
}

func TestPlacementMissing(t *testing.T) {
	pl := mustPlacement(t, `{"placements": {"cuda": {"slurm": {"partition": "gpu"}}}}`)
	_, err := Groups(pl, hostileTasks())
	if err == nil || !strings.Contains(err.Error(), "cpu, cuda") || !strings.Contains(err.Error(), "3 configurations") {
		t.Errorf("missing placements: %v", err)
	}
}

func TestNamesForAnyID(t *testing.T) {
	for _, id := range []string{"", "-", "ÜÜÜ", strings.Repeat("a", 300), "a/b/c", "$(x)", "UPPER_case.dots"} {
		g := &Group{Hardware: id, Tasks: []runner.Task{{Nonce: id}}}
		if errs := content.IsDNS1123Label(g.JobName(id)); len(errs) > 0 {
			t.Errorf("JobName(%q) = %q: %v", id, g.JobName(id), errs)
		}
		if errs := content.IsLabelValue(SessionLabel(id)); len(errs) > 0 {
			t.Errorf("SessionLabel(%q) = %q: %v", id, SessionLabel(id), errs)
		}
	}
}

// logRecorder answers kubectl logs with a line and records when and how it
// was asked.
type logRecorder struct {
	mu    sync.Mutex
	at    []time.Time
	calls [][]string
}

func (l *logRecorder) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at, l.calls = append(l.at, time.Now()), append(l.calls, args)
	return []byte(`{"latency_ms": 3}` + "\n"), nil
}

// Pod logs are fetched at most one per logGap, whatever asks at once, and
// bounded in size.
func TestFetchLogPacedAndBounded(t *testing.T) {
	pl, err := placement.Parse([]byte(placementJSON), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	rec := &logRecorder{}
	x, err := New(Options{Placement: pl, Session: "s", LogDir: t.TempDir(), Cmd: rec})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range n {
		ref := fmt.Sprintf("bench/job-%d/0", i)
		x.pods[ref] = fmt.Sprintf("pod-%d", i)
		wg.Go(func() {
			if err := x.FetchLog(context.Background(), ref, filepath.Join(dir, fmt.Sprintf("%d.log", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	slices.SortFunc(rec.at, time.Time.Compare)
	if len(rec.at) != n {
		t.Fatalf("%d fetches", len(rec.at))
	}
	if span := rec.at[n-1].Sub(rec.at[0]); span < (n-1)*logGap-10*time.Millisecond {
		t.Errorf("%d fetches within %v; want them %v apart", n, span, logGap)
	}
	for _, args := range rec.calls {
		if !slices.Contains(args, "--limit-bytes") {
			t.Errorf("kubectl %q: unbounded", args)
		}
	}
	// A cancelled context stops waiting for a turn.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x.pods["bench/job-x/0"] = "pod-x"
	for range 3 {
		x.FetchLog(ctx, "bench/job-x/0", filepath.Join(dir, "x.log"))
	}
	if len(rec.at) != n {
		t.Errorf("fetched %d logs after cancel", len(rec.at)-n)
	}
}
