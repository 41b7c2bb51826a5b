// Package placement reads the hardware → placement map: for each catalog
// hardware id, how a scheduler reaches that hardware (a Slurm partition,
// GPUs, constraint, account, QoS and time limit; a Kubernetes namespace,
// image, node selector, resources and tolerations). The file is JSON or
// TOML; its keys are catalog hardware ids.
package placement

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"

	"perfpilot/engine"
)

// maxFile bounds a placement file; real ones are a few kilobytes.
const maxFile = 1 << 20

// File is a placement file.
type File struct {
	Placements map[string]Placement `json:"placements" toml:"placements"`
}

// Placement says how each scheduler reaches one hardware.
type Placement struct {
	Slurm      *Slurm      `json:"slurm,omitempty" toml:"slurm"`
	Kubernetes *Kubernetes `json:"kubernetes,omitempty" toml:"kubernetes"`
}

// Slurm is a hardware's sbatch options.
type Slurm struct {
	Partition string `json:"partition" toml:"partition"`
	// Gres is "gpu:<type>" or "gpu:<type>:<n>"; the count is the
	// configuration's GPU count when it has one.
	Gres       string `json:"gres,omitempty" toml:"gres"`
	Constraint string `json:"constraint,omitempty" toml:"constraint"`
	Account    string `json:"account,omitempty" toml:"account"`
	QOS        string `json:"qos,omitempty" toml:"qos"`
	// Time is the array tasks' time limit in Slurm's syntax (MM, MM:SS,
	// HH:MM:SS, D-HH[:MM[:SS]]).
	Time string `json:"time,omitempty" toml:"time"`
}

// Kubernetes is a hardware's pod placement.
type Kubernetes struct {
	Namespace    string            `json:"namespace" toml:"namespace"`
	Image        string            `json:"image" toml:"image"`
	NodeSelector map[string]string `json:"node_selector,omitempty" toml:"node_selector"`
	// Resources are container limits (and requests), e.g. nvidia.com/gpu: "1".
	Resources   map[string]string `json:"resources,omitempty" toml:"resources"`
	Tolerations []Toleration      `json:"tolerations,omitempty" toml:"tolerations"`
	// Perfpilot is the path of the perfpilot binary inside the image; the
	// pod runs it as the task wrapper (default /usr/local/bin/perfpilot).
	Perfpilot string `json:"perfpilot,omitempty" toml:"perfpilot"`
}

// Toleration is a pod toleration.
type Toleration struct {
	Key               string `json:"key,omitempty" toml:"key"`
	Operator          string `json:"operator,omitempty" toml:"operator"`
	Value             string `json:"value,omitempty" toml:"value"`
	Effect            string `json:"effect,omitempty" toml:"effect"`
	TolerationSeconds *int64 `json:"toleration_seconds,omitempty" toml:"toleration_seconds"`
}

// DefaultPerfpilot is where the pod finds perfpilot when the placement
// does not say.
const DefaultPerfpilot = "/usr/local/bin/perfpilot"

// Load reads and checks a placement file (TOML when its name ends in
// .toml, JSON otherwise).
func Load(path string) (*File, error) {
	// Look before opening: opening a FIFO waits for a writer, and a device
	// or directory is no placement.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (a device, directory or pipe cannot be a placement)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxFile+1)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if buf.Len() > maxFile {
		return nil, fmt.Errorf("%s: larger than %d bytes; a placement file is a small map", path, maxFile)
	}
	return Parse(buf.Bytes(), path)
}

// Parse reads a placement file's content; name (its path) picks the format
// and names it in errors, which give the line and the field.
func Parse(data []byte, name string) (*File, error) {
	var f File
	if strings.EqualFold(filepath.Ext(name), ".toml") {
		md, err := toml.Decode(string(data), &f)
		if err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %s", name, pe.Position.Line, pe.Message)
			}
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			k := und[0]
			return nil, fmt.Errorf("%s:%d: unknown field %q", name, lineOf(data, k[len(k)-1]), k.String())
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, jsonError(data, name, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s: more than one JSON value", name)
		}
	}
	if err := f.check(data, name); err != nil {
		return nil, err
	}
	return &f, nil
}

func jsonError(data []byte, name string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s:%d: the file ends inside a value (a missing } or ]?)", name, lineAt(data, int64(len(data))))
	case errors.As(err, &se):
		return fmt.Errorf("%s:%d: %v", name, lineAt(data, se.Offset), se)
	case errors.As(err, &te):
		return fmt.Errorf("%s:%d: field %s: %s is not a %s", name, lineAt(data, te.Offset), te.Field, te.Value, te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return fmt.Errorf("%s:%d: unknown field %q (valid: placements.<hardware>.slurm.{partition,gres,constraint,account,qos,time}, .kubernetes.{namespace,image,node_selector,resources,tolerations,perfpilot})",
			name, lineOf(data, field), field)
	}
	return fmt.Errorf("%s: %v", name, err)
}

func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// lineOf is the line where key first appears (0 when it does not).
func lineOf(data []byte, key string) int {
	for _, q := range []string{`"` + key + `"`, key} {
		if i := bytes.Index(data, []byte(q)); i >= 0 {
			return lineAt(data, int64(i))
		}
	}
	return 0
}

var (
	slurmTime = regexp.MustCompile(`^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$`)
	gresRe    = regexp.MustCompile(`^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?(:\d+)?$`)
	dns1123   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	labelName = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`)
	dnsSub    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	quantity  = regexp.MustCompile(`^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$`)
)

// check validates every field: values go to sbatch and the Kubernetes API
// as single argv words and typed fields, but a typo should fail here, with
// the line, not at submission.
func (f *File) check(data []byte, name string) error {
	if len(f.Placements) == 0 {
		return fmt.Errorf("%s: no placements (expected {\"placements\": {\"<hardware id>\": {\"slurm\": {...}, \"kubernetes\": {...}}}})", name)
	}
	for _, hw := range f.Hardware() {
		p := f.Placements[hw]
		bad := func(field, val, why string) error {
			return fmt.Errorf("%s:%d: placements.%s.%s: %q %s", name, lineOf(data, hw), hw, field, truncate(val, 80), why)
		}
		if p.Slurm == nil && p.Kubernetes == nil {
			return fmt.Errorf("%s:%d: placements.%s: neither slurm nor kubernetes", name, lineOf(data, hw), hw)
		}
		if s := p.Slurm; s != nil {
			for field, v := range map[string]string{"partition": s.Partition, "gres": s.Gres, "constraint": s.Constraint,
				"account": s.Account, "qos": s.QOS, "time": s.Time} {
				if i := strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }); i >= 0 || len(v) > 256 {
					return bad("slurm."+field, v, "has blanks or control characters, or is too long")
				}
			}
			switch {
			case s.Partition == "":
				return bad("slurm.partition", "", "is required")
			case s.Gres != "" && !gresRe.MatchString(s.Gres):
				return bad("slurm.gres", s.Gres, "is not name[:type][:count], e.g. gpu:a100:1")
			case s.Time != "" && !slurmTime.MatchString(s.Time):
				return bad("slurm.time", s.Time, "is not a Slurm time (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS)")
			}
		}
		if k := p.Kubernetes; k != nil {
			switch {
			case !dns1123.MatchString(k.Namespace) || len(k.Namespace) > 63:
				return bad("kubernetes.namespace", k.Namespace, "is not a DNS-1123 label")
			case k.Image == "" || strings.IndexFunc(k.Image, unicode.IsSpace) >= 0 || strings.IndexFunc(k.Image, unicode.IsControl) >= 0:
				return bad("kubernetes.image", k.Image, "is not an image reference")
			case k.Perfpilot != "" && !strings.HasPrefix(k.Perfpilot, "/"):
				return bad("kubernetes.perfpilot", k.Perfpilot, "is not an absolute path")
			}
			for key, v := range k.NodeSelector {
				if !labelKey(key) {
					return bad("kubernetes.node_selector", key, "is not a label key")
				}
				if len(v) > 63 || !labelName.MatchString(v) {
					return bad("kubernetes.node_selector."+key, v, "is not a label value")
				}
			}
			for key, v := range k.Resources {
				if !labelKey(key) {
					return bad("kubernetes.resources", key, "is not a resource name")
				}
				if !quantity.MatchString(v) {
					return bad("kubernetes.resources."+key, v, "is not a quantity (e.g. 1, 500m, 16Gi)")
				}
			}
			for i, t := range k.Tolerations {
				field := fmt.Sprintf("kubernetes.tolerations[%d]", i)
				switch {
				case t.Key != "" && !labelKey(t.Key):
					return bad(field+".key", t.Key, "is not a taint key")
				case t.Operator != "" && t.Operator != "Exists" && t.Operator != "Equal":
					return bad(field+".operator", t.Operator, "is not Exists or Equal")
				case t.Operator == "Exists" && t.Value != "":
					return bad(field+".value", t.Value, "must be empty with operator Exists")
				case t.Value != "" && (len(t.Value) > 63 || !labelName.MatchString(t.Value)):
					return bad(field+".value", t.Value, "is not a taint value")
				case t.Effect != "" && t.Effect != "NoSchedule" && t.Effect != "PreferNoSchedule" && t.Effect != "NoExecute":
					return bad(field+".effect", t.Effect, "is not NoSchedule, PreferNoSchedule or NoExecute")
				}
			}
		}
	}
	return nil
}

// labelKey checks a Kubernetes label key: [prefix/]name.
func labelKey(k string) bool {
	prefix, name, found := strings.Cut(k, "/")
	if !found {
		name, prefix = prefix, ""
	}
	if found && (prefix == "" || len(prefix) > 253 || !dnsSub.MatchString(prefix)) {
		return false
	}
	return name != "" && len(name) <= 63 && labelName.MatchString(name)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Hardware lists the hardware ids with a placement, sorted.
func (f *File) Hardware() []string {
	out := make([]string, 0, len(f.Placements))
	for hw := range f.Placements {
		out = append(out, hw)
	}
	sort.Strings(out)
	return out
}

// CheckHardware refuses hardware ids the catalog does not know (a typo
// would leave that hardware without a placement).
func (f *File) CheckHardware(known func(string) bool, name string) error {
	var unknown []string
	for _, hw := range f.Hardware() {
		if !known(hw) {
			unknown = append(unknown, strconv.Quote(truncate(hw, 80)))
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%s: hardware %s not in the catalog (see `perfpilot catalog hardware`)", name, strings.Join(unknown, ", "))
	}
	return nil
}

// JSON is the file in canonical JSON, as stored with a session.
func (f *File) JSON() []byte {
	data, _ := json.Marshal(f)
	return data
}

// MissingError lists the configurations whose hardware has no placement
// for a scheduler.
type MissingError struct {
	Scheduler string
	Hardware  []string
	Configs   []string
}

func (m *MissingError) Error() string {
	return fmt.Sprintf("%d configurations have no %s placement for hardware %s (add them to the placement file): %s",
		len(m.Configs), m.Scheduler, strings.Join(m.Hardware, ", "), strings.Join(m.Configs, "; "))
}

// Check reports, before anything is submitted, every configuration whose
// hardware has no placement for the scheduler (a *MissingError).
func (f *File) Check(scheduler string, cfgs []engine.Config) error {
	hw := make([]string, len(cfgs))
	for i, c := range cfgs {
		hw[i] = c.Hardware
	}
	miss := f.Missing(scheduler, hw)
	if len(miss) == 0 {
		return nil
	}
	missing := map[string]bool{}
	for _, m := range miss {
		missing[m] = true
	}
	e := &MissingError{Scheduler: scheduler, Hardware: miss}
	for _, c := range cfgs {
		if missing[c.Hardware] {
			e.Configs = append(e.Configs, c.String())
		}
	}
	return e
}

// Missing lists, for the given hardware ids, those without a placement for
// the scheduler ("slurm" or "kubernetes"), sorted and without repeats.
func (f *File) Missing(scheduler string, hardware []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, hw := range hardware {
		if seen[hw] {
			continue
		}
		seen[hw] = true
		p, ok := f.Placements[hw]
		if !ok || (scheduler == "slurm" && p.Slurm == nil) || (scheduler == "kubernetes" && p.Kubernetes == nil) {
			out = append(out, hw)
		}
	}
	sort.Strings(out)
	return out
}
