// Package kube runs perfpilot's benchmark tasks as Kubernetes Indexed
// Jobs: one Job per placement group (namespace, image, node selector,
// resources, tolerations), the group's task list in a ConfigMap, each pod
// running the perfpilot task wrapper for its JOB_COMPLETION_INDEX, which
// reads its argv from the mounted list: values reach the benchmark only as
// argv words, never through a shell. kubectl does the talking, with the
// user's own context and credentials (nothing of them is stored).
//
// The manifest types below are the small subset of the Kubernetes API this
// package writes; the tests decode every manifest with k8s.io/api's types,
// unknown fields disallowed, so they cannot drift from the real API.
package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/runner/placement"
)

// Label keys on everything perfpilot creates.
const (
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	LabelSession    = "perfpilot.dev/session"
	LabelSubmission = "perfpilot.dev/submission"
	specMount       = "/etc/perfpilot"
	specKey         = "tasks.json"
)

type meta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// ConfigMap is a core/v1 ConfigMap.
type ConfigMap struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   meta              `json:"metadata"`
	Data       map[string]string `json:"data"`
}

// Job is a batch/v1 Job.
type Job struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Metadata   meta    `json:"metadata"`
	Spec       jobSpec `json:"spec"`
}

type jobSpec struct {
	CompletionMode       string      `json:"completionMode"`
	Completions          int         `json:"completions"`
	Parallelism          int         `json:"parallelism"`
	BackoffLimitPerIndex int         `json:"backoffLimitPerIndex"`
	MaxFailedIndexes     int         `json:"maxFailedIndexes"`
	Template             podTemplate `json:"template"`
}

type podTemplate struct {
	Metadata struct {
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec podSpec `json:"spec"`
}

type podSpec struct {
	RestartPolicy         string            `json:"restartPolicy"`
	ActiveDeadlineSeconds int64             `json:"activeDeadlineSeconds,omitempty"`
	NodeSelector          map[string]string `json:"nodeSelector,omitempty"`
	TolerationsJSON       []toleration      `json:"tolerations,omitempty"`
	Containers            []container       `json:"containers"`
	Volumes               []volume          `json:"volumes"`
}

type toleration struct {
	Key               string `json:"key,omitempty"`
	Operator          string `json:"operator,omitempty"`
	Value             string `json:"value,omitempty"`
	Effect            string `json:"effect,omitempty"`
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

type container struct {
	Name         string        `json:"name"`
	Image        string        `json:"image"`
	Command      []string      `json:"command"`
	Env          []envVar      `json:"env"`
	Resources    *resources    `json:"resources,omitempty"`
	VolumeMounts []volumeMount `json:"volumeMounts"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type resources struct {
	Limits   map[string]string `json:"limits,omitempty"`
	Requests map[string]string `json:"requests,omitempty"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
}

type volume struct {
	Name      string `json:"name"`
	ConfigMap struct {
		Name string `json:"name"`
	} `json:"configMap"`
}

// Group is one Indexed Job: the tasks sharing a Kubernetes placement and
// a GPU count.
type Group struct {
	Hardware string
	GPUs     int
	P        placement.Kubernetes
	Tasks    []runner.Task
	idx      []int // positions in the slice given to groups
}

// Token identifies the group's submission by its tasks' nonces (a label),
// so a crash between apply and the state file is recovered.
func (g *Group) Token() string {
	h := sha256.New()
	for _, t := range g.Tasks {
		h.Write([]byte(t.Nonce + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// JobName is the Job's (and ConfigMap's) DNS-1123 name: readable parts of
// the session and hardware ids plus the token, whatever characters the ids
// hold.
func (g *Group) JobName(session string) string {
	return "pp-" + slug(session, 20) + "-" + slug(g.Hardware, 16) + "-" + g.Token()
}

// resources are the placement's, with every GPU resource (a name ending in
// "/gpu", e.g. nvidia.com/gpu, amd.com/gpu) set to the group's GPU count
// when its configurations use several.
func (g *Group) resources() map[string]string {
	if g.GPUs <= 1 || len(g.P.Resources) == 0 {
		return g.P.Resources
	}
	out := make(map[string]string, len(g.P.Resources))
	for k, v := range g.P.Resources {
		if strings.HasSuffix(k, "/gpu") {
			v = strconv.Itoa(g.GPUs)
		}
		out[k] = v
	}
	return out
}

// slug keeps lower-case letters and digits of s (others become '-', runs
// collapse), at most n characters, never starting or ending with '-'.
func slug(s string, n int) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if b.Len() >= n {
			break
		}
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "x"
	}
	return out
}

// SessionLabel is the session's label value: a slug plus a hash, so two
// sessions never share it and any id yields a valid label.
func SessionLabel(session string) string {
	h := sha256.Sum256([]byte(session))
	return slug(session, 40) + "-" + hex.EncodeToString(h[:4])
}

// ManifestOptions shape the pods.
type ManifestOptions struct {
	Session string
	// MaxConcurrent caps the pods of a Job running at once (0: all).
	MaxConcurrent int
	// TimeoutSeconds bounds each pod (activeDeadlineSeconds; 0: none).
	TimeoutSeconds int64
	// Grace is the wrapper's time between SIGTERM and SIGKILL.
	Grace string
}

// Manifests returns the ConfigMap and the Indexed Job for a group.
func Manifests(g *Group, o ManifestOptions) (ConfigMap, Job, error) {
	name := g.JobName(o.Session)
	labels := map[string]string{LabelManagedBy: "perfpilot", LabelSession: SessionLabel(o.Session), LabelSubmission: g.Token()}
	spec := runner.TaskSpec{Version: 1, Session: o.Session}
	for _, t := range g.Tasks {
		spec.Tasks = append(spec.Tasks, runner.SpecTask{Nonce: t.Nonce, Argv: t.Argv})
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return ConfigMap{}, Job{}, err
	}
	cm := ConfigMap{APIVersion: "v1", Kind: "ConfigMap", Metadata: meta{Name: name, Namespace: g.P.Namespace, Labels: labels},
		Data: map[string]string{specKey: string(data)}}
	perfpilot := g.P.Perfpilot
	if perfpilot == "" {
		perfpilot = placement.DefaultPerfpilot
	}
	n := len(g.Tasks)
	par := n
	if o.MaxConcurrent > 0 {
		par = min(n, o.MaxConcurrent)
	}
	c := container{Name: "bench", Image: g.P.Image,
		Command: []string{perfpilot, "--grace", o.Grace, "--spec", specMount + "/" + specKey, "--index-env", "JOB_COMPLETION_INDEX"},
		Env:     []envVar{{Name: runner.TaskEnv, Value: "1"}}, VolumeMounts: []volumeMount{{Name: "tasks", MountPath: specMount, ReadOnly: true}}}
	if res := g.resources(); len(res) > 0 {
		c.Resources = &resources{Limits: res, Requests: res}
	}
	job := Job{APIVersion: "batch/v1", Kind: "Job", Metadata: meta{Name: name, Namespace: g.P.Namespace, Labels: labels}}
	// One failing configuration must not stop the others: no retries per
	// index, and no cap on failed indexes.
	job.Spec = jobSpec{CompletionMode: "Indexed", Completions: n, Parallelism: par, BackoffLimitPerIndex: 0, MaxFailedIndexes: n}
	job.Spec.Template.Metadata.Labels = labels
	ps := &job.Spec.Template.Spec
	ps.RestartPolicy = "Never"
	ps.ActiveDeadlineSeconds = o.TimeoutSeconds
	ps.NodeSelector = g.P.NodeSelector
	for _, t := range g.P.Tolerations {
		ps.TolerationsJSON = append(ps.TolerationsJSON, toleration(t))
	}
	ps.Containers = []container{c}
	var v volume
	v.Name = "tasks"
	v.ConfigMap.Name = name
	ps.Volumes = []volume{v}
	return cm, job, nil
}

// YAML renders manifests as one multi-document YAML stream (keys sorted:
// the same input gives the same bytes).
func YAML(objs ...any) ([]byte, error) {
	var b strings.Builder
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return []byte(b.String()), nil
}

// Groups splits tasks by hardware (each hardware has one Kubernetes
// placement) and GPU count (Config.GPUs); hardware without a placement is
// an error naming every such configuration.
func Groups(pl *placement.File, tasks []runner.Task) ([]*Group, error) {
	cfgs := make([]engine.Config, len(tasks))
	for i, t := range tasks {
		cfgs[i] = t.Config
	}
	if err := pl.Check(Name, cfgs); err != nil {
		return nil, err
	}
	by := map[string]*Group{}
	var out []*Group
	for i, t := range tasks {
		key := t.Config.Hardware + "\x00" + strconv.Itoa(t.Config.GPUs())
		g := by[key]
		if g == nil {
			g = &Group{Hardware: t.Config.Hardware, GPUs: t.Config.GPUs(), P: *pl.Placements[t.Config.Hardware].Kubernetes}
			by[key] = g
			out = append(out, g)
		}
		g.Tasks = append(g.Tasks, t)
		g.idx = append(g.idx, i)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Hardware != out[b].Hardware {
			return out[a].Hardware < out[b].Hardware
		}
		return out[a].GPUs < out[b].GPUs
	})
	return out, nil
}

// ref names one index of a Job: namespace/job/index.
func ref(ns, job string, index int) string { return ns + "/" + job + "/" + strconv.Itoa(index) }

func parseRef(r string) (ns, job string, index int, ok bool) {
	parts := strings.Split(r, "/")
	if len(parts) != 3 {
		return "", "", 0, false
	}
	i, err := strconv.Atoi(parts[2])
	return parts[0], parts[1], i, err == nil
}

// Export renders the manifests `run --executor kubernetes` would apply for
// the configurations (for review or GitOps). Nonces derive from the
// session and configuration, so the same rows give the same bytes.
func Export(pl *placement.File, session string, cfgs []engine.Config, tmpl *cmdtmpl.Template, outputDir string, o ManifestOptions) ([]byte, error) {
	tasks := make([]runner.Task, len(cfgs))
	for i, c := range cfgs {
		argv, err := tmpl.Argv(cmdtmpl.Values(c, outputDir))
		if err != nil {
			return nil, err
		}
		h := sha256.Sum256([]byte(session + "\x00" + c.Key()))
		tasks[i] = runner.Task{Key: c.Key(), Config: c, Argv: argv, Nonce: hex.EncodeToString(h[:8])}
	}
	gs, err := Groups(pl, tasks)
	if err != nil {
		return nil, err
	}
	o.Session = session
	var objs []any
	for _, g := range gs {
		cm, job, err := Manifests(g, o)
		if err != nil {
			return nil, err
		}
		objs = append(objs, cm, job)
	}
	return YAML(objs...)
}
