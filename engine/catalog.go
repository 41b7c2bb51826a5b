package engine

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"perfpilot/safetext"
)

//go:embed builtin
var builtinFS embed.FS

// Hardware is one device entry of a catalog.
type Hardware struct {
	ID                   string                `json:"id"`
	Backend              string                `json:"backend"`
	Name                 string                `json:"name"`
	PeakTFLOPS           map[Precision]float64 `json:"peak_tflops"`
	MemoryBandwidthGBps  float64               `json:"memory_bandwidth_gbps"`
	MemoryGB             float64               `json:"memory_gb"`
	UsableMemoryGB       float64               `json:"usable_memory_gb,omitempty"`
	TDPWatts             float64               `json:"tdp_watts"`
	Availability         float64               `json:"availability"`
	RelativeCost         float64               `json:"relative_cost"`
	DeploymentComplexity float64               `json:"deployment_complexity"`
	// Roofline knobs; zero takes the backend's default (see backendDefaults).
	ComputeEfficiency   float64 `json:"compute_efficiency,omitempty"`
	BandwidthEfficiency float64 `json:"bandwidth_efficiency,omitempty"`
	OverheadMS          float64 `json:"overhead_ms,omitempty"`
	LayerOverheadMS     float64 `json:"layer_overhead_ms,omitempty"`
	RuntimeMemoryMB     float64 `json:"runtime_memory_mb,omitempty"`
	// Slowdown divides achieved compute and bandwidth, e.g. browser runtimes.
	Slowdown float64 `json:"slowdown,omitempty"`
	// InterconnectGBps is the per-direction bandwidth between two of these
	// GPUs in one machine (NVLink ~300, PCIe 4.0 x16 ~25); MaxCount how many
	// one machine holds. Zero takes the backend's default.
	InterconnectGBps float64 `json:"interconnect_gbps,omitempty"`
	MaxCount         int     `json:"max_count,omitempty"`
	// Spec facts the predictor's device effect regresses on (all optional;
	// engine/features.go says how a missing one is treated).
	Vendor           string  `json:"vendor,omitempty"`              // nvidia, amd, apple, intel, qualcomm…
	Family           string  `json:"family,omitempty"`              // architecture generation: volta, ampere, ada, cdna2…
	ReleaseYear      int     `json:"release_year,omitempty"`        // year the device shipped
	MemoryType       string  `json:"memory_type,omitempty"`         // hbm2e, gddr6, lpddr5…
	LastLevelCacheMB float64 `json:"last_level_cache_mb,omitempty"` // GPU L2, CPU L3, Apple SLC
	FP32DualIssue    bool    `json:"fp32_dual_issue,omitempty"`     // fp32 peak counts units shared with int32 (GA10x, Ada)
	Sources          string  `json:"sources,omitempty"`             // where the spec figures come from
	Notes            string  `json:"notes,omitempty"`
}

// MemoryTypes is the vocabulary of memory_type.
var MemoryTypes = []string{"hbm", "hbm2", "hbm2e", "hbm3", "hbm3e", "gddr5", "gddr5x", "gddr6", "gddr6x", "gddr7",
	"lpddr4", "lpddr4x", "lpddr5", "lpddr5x", "ddr4", "ddr5"}

// memoryClass groups memory types into the three kinds the predictor
// distinguishes: stacked HBM, graphics GDDR, and system/unified DDR (-1:
// unknown).
func memoryClass(t string) int {
	switch {
	case t == "":
		return -1
	case strings.HasPrefix(t, "hbm"):
		return 0
	case strings.HasPrefix(t, "gddr"):
		return 1
	default:
		return 2
	}
}

// backendVendor is the vendor a backend implies when an entry names none.
var backendVendor = map[string]string{"cuda": "nvidia", "rocm": "amd", "mps": "apple", "qnn": "qualcomm"}

// VendorKey is the device's vendor, implied by the backend when not given;
// "" when unknown.
func (h *Hardware) VendorKey() string {
	if h.Vendor != "" {
		return h.Vendor
	}
	return backendVendor[h.Backend]
}

// FamilyKey is the device's architecture family within its vendor; a device
// without one is a family of its own (so it gets the family-level prior
// uncertainty in full).
func (h *Hardware) FamilyKey() string {
	if h.Family != "" {
		return h.VendorKey() + "/" + h.Family
	}
	return "device/" + h.ID
}

// UsableMemoryMB is the memory a model may occupy.
func (h *Hardware) UsableMemoryMB() float64 {
	if h.UsableMemoryGB > 0 {
		return h.UsableMemoryGB * 1024
	}
	return h.MemoryGB * 1024
}

// Model is one model entry: its identity and its architecture.
type Model struct {
	ID        string
	ModelType string
	Arch      Architecture
	// PromptTokens and OutputTokens are the default generation request of
	// a text-generation model.
	PromptTokens, OutputTokens int
	// raw is the self-contained entry (config inlined) so a catalog addition
	// can be stored and reloaded without the files it came from.
	raw json.RawMessage
}

// modelEntry is the JSON form of a model.
type modelEntry struct {
	ID             string          `json:"id"`
	ModelType      string          `json:"model_type"`
	Architecture   string          `json:"architecture,omitempty"`
	Config         string          `json:"config,omitempty"`
	HFConfig       json.RawMessage `json:"hf_config,omitempty"`
	Params         float64         `json:"params,omitempty"`
	Layers         int             `json:"layers,omitempty"`
	DecoderLayers  int             `json:"decoder_layers,omitempty"`
	Hidden         int             `json:"hidden,omitempty"`
	Heads          int             `json:"heads,omitempty"`
	Intermediate   int             `json:"intermediate,omitempty"`
	Vocab          int             `json:"vocab,omitempty"`
	SequenceLength int             `json:"sequence_length,omitempty"`
	PromptTokens   int             `json:"prompt_tokens,omitempty"`
	OutputTokens   int             `json:"output_tokens,omitempty"`
	ImageSize      int             `json:"image_size,omitempty"`
	PatchSize      int             `json:"patch_size,omitempty"`
}

type catalogFile struct {
	Hardware []json.RawMessage `json:"hardware"`
	Models   []json.RawMessage `json:"models"`
}

// Catalog holds the known hardware and models. Built-ins come first; entries
// from later files replace earlier ones with the same id.
type Catalog struct {
	hardware map[string]*Hardware
	models   map[string]*Model
	// DefaultHardware and DefaultModels span the default candidate space.
	DefaultHardware []string
	DefaultModels   []string
	// added records user additions in order, self-contained, for storage.
	addedHardware []string
	addedModels   []string
}

// CatalogError names the file, the entry and the field that are wrong.
type CatalogError struct {
	File  string
	Entry string // e.g. `hardware[2] "my-gpu"`
	Field string
	Err   error
}

func (e *CatalogError) Error() string {
	var b strings.Builder
	b.WriteString("catalog ")
	b.WriteString(e.File)
	if e.Entry != "" {
		b.WriteString(": ")
		b.WriteString(e.Entry)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *CatalogError) Unwrap() error { return e.Err }

// NewBuiltinCatalog returns the embedded catalog.
func NewBuiltinCatalog() (*Catalog, error) {
	c := &Catalog{hardware: map[string]*Hardware{}, models: map[string]*Model{}}
	sub, err := fs.Sub(builtinFS, "builtin")
	if err != nil {
		return nil, err
	}
	if err := c.load(sub, "catalog.json", "builtin/catalog.json", false); err != nil {
		return nil, err
	}
	c.DefaultHardware = slices.Clone(Backends)
	c.DefaultModels = []string{"bert-base-uncased", "bert-large-uncased", "t5-small", "facebook/opt-125m", "gpt2",
		"google/vit-base-patch16-224", "openai/whisper-tiny", "openai/clip-vit-base-patch32", "microsoft/resnet-50",
		"meta-llama/Llama-2-7b-hf"}
	for _, id := range c.DefaultHardware {
		if c.hardware[id] == nil {
			return nil, fmt.Errorf("builtin catalog lacks default hardware %q", id)
		}
	}
	for _, id := range c.DefaultModels {
		if c.models[id] == nil {
			return nil, fmt.Errorf("builtin catalog lacks default model %q", id)
		}
	}
	return c, nil
}

// MustBuiltinCatalog is NewBuiltinCatalog for callers (tests, demos) where a
// broken embedded catalog is a programming error.
func MustBuiltinCatalog() *Catalog {
	c, err := NewBuiltinCatalog()
	if err != nil {
		panic(err)
	}
	return c
}

// AddFile reads a user catalog file from disk. Relative config paths inside it
// are read relative to the file.
func (c *Catalog) AddFile(name string) error {
	abs, err := filepath.Abs(name)
	if err != nil {
		return &CatalogError{File: name, Err: err}
	}
	return c.load(os.DirFS(filepath.Dir(abs)), filepath.Base(abs), name, true)
}

// AddJSON adds a self-contained catalog document (as produced by
// Additions); label names it in errors.
func (c *Catalog) AddJSON(data []byte, label string) error {
	return c.loadBytes(nil, ".", data, label, true)
}

// Additions returns the user additions as one self-contained catalog JSON
// document (model configs inlined), or nil when there are none.
func (c *Catalog) Additions() []byte {
	if len(c.addedHardware) == 0 && len(c.addedModels) == 0 {
		return nil
	}
	var doc struct {
		Hardware []*Hardware       `json:"hardware,omitempty"`
		Models   []json.RawMessage `json:"models,omitempty"`
	}
	for _, id := range c.addedHardware {
		doc.Hardware = append(doc.Hardware, c.hardware[id])
	}
	for _, id := range c.addedModels {
		doc.Models = append(doc.Models, c.models[id].raw)
	}
	out, _ := json.Marshal(doc)
	return out
}

// Limits on what a catalog reads (issue 9): a config.json is a few KB and
// a catalog file rarely more than a few hundred; a path to /dev/zero or a
// FIFO must end in an error at once, not fill memory or hang.
const (
	maxCatalogBytes = 16 << 20
	maxConfigBytes  = 4 << 20
)

// readBounded reads a regular file of at most max bytes.
func readBounded(fsys fs.FS, name string, max int64) ([]byte, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file (a device, directory or pipe cannot be a catalog or config)")
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%d bytes is more than the %d allowed", st.Size(), max)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("more than the %d bytes allowed", max)
	}
	return data, nil
}

func (c *Catalog) load(fsys fs.FS, name, label string, user bool) error {
	data, err := readBounded(fsys, name, maxCatalogBytes)
	if err != nil {
		return &CatalogError{File: label, Err: err}
	}
	return c.loadBytes(fsys, path.Dir(name), data, label, user)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (c *Catalog) loadBytes(fsys fs.FS, dir string, data []byte, label string, user bool) error {
	var f catalogFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return &CatalogError{File: label, Err: fmt.Errorf("not a catalog JSON object: %w", jsonErrorWithLine(data, err))}
	}
	// Validate everything first so a bad file changes nothing.
	var hws []*Hardware
	for i, raw := range f.Hardware {
		h, err := parseHardware(raw)
		entry := fmt.Sprintf("hardware[%d]", i)
		if h != nil && h.ID != "" {
			entry += " " + safetext.Quote(h.ID)
		}
		if err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				return &CatalogError{File: label, Entry: entry, Field: fe.field, Err: fe.err}
			}
			return &CatalogError{File: label, Entry: entry, Err: err}
		}
		hws = append(hws, h)
	}
	var models []*Model
	for i, raw := range f.Models {
		m, id, err := parseModel(fsys, dir, raw)
		entry := fmt.Sprintf("models[%d]", i)
		if id != "" {
			entry += " " + safetext.Quote(id)
		}
		if err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				return &CatalogError{File: label, Entry: entry, Field: fe.field, Err: fe.err}
			}
			return &CatalogError{File: label, Entry: entry, Err: err}
		}
		models = append(models, m)
	}
	for _, h := range hws {
		c.hardware[h.ID] = h
		if user && !slices.Contains(c.addedHardware, h.ID) {
			c.addedHardware = append(c.addedHardware, h.ID)
		}
	}
	for _, m := range models {
		c.models[m.ID] = m
		if user && !slices.Contains(c.addedModels, m.ID) {
			c.addedModels = append(c.addedModels, m.ID)
		}
	}
	return nil
}

// jsonErrorWithLine turns a JSON offset into a line number.
func jsonErrorWithLine(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	if errors.As(err, &se) {
		off = se.Offset
	} else if errors.As(err, &te) {
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	return fmt.Errorf("line %d: %w", line, err)
}

type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }

func fieldErr(field, format string, args ...any) error {
	return &fieldError{field: field, err: fmt.Errorf(format, args...)}
}

func parseHardware(raw json.RawMessage) (*Hardware, error) {
	var h Hardware
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return &h, err
	}
	if err := safetext.CheckID(h.ID); err != nil {
		return &h, fieldErr("id", "%v", err)
	}
	if !slices.Contains(Backends, h.Backend) {
		return &h, fieldErr("backend", "unknown backend %s (valid: %s)", safetext.Quote(h.Backend), strings.Join(Backends, ", "))
	}
	if h.Name == "" {
		h.Name = h.ID
	}
	if len(h.PeakTFLOPS) == 0 {
		return &h, fieldErr("peak_tflops", "missing: give TFLOP/s for at least one precision")
	}
	for p, v := range h.PeakTFLOPS {
		if !slices.Contains(Precisions, p) {
			return &h, fieldErr("peak_tflops."+string(p), "unknown precision (valid: fp32, fp16, bf16, int8, int4)")
		}
		if lo, hi := hardwareBounds("peak_tflops"); !(v >= lo && v <= hi) {
			return &h, fieldErr("peak_tflops."+string(p), "%v is outside %g..%g", v, lo, hi)
		}
	}
	bounded := []struct {
		name string
		v    float64
	}{{"memory_bandwidth_gbps", h.MemoryBandwidthGBps}, {"memory_gb", h.MemoryGB}, {"tdp_watts", h.TDPWatts},
		{"relative_cost", h.RelativeCost}, {"overhead_ms", h.OverheadMS}, {"layer_overhead_ms", h.LayerOverheadMS},
		{"runtime_memory_mb", h.RuntimeMemoryMB}, {"slowdown", h.Slowdown}, {"interconnect_gbps", h.InterconnectGBps},
		{"last_level_cache_mb", h.LastLevelCacheMB}}
	for _, f := range bounded {
		if lo, hi := hardwareBounds(f.name); !(f.v >= lo && f.v <= hi) { // NaN fails too
			return &h, fieldErr(f.name, "%v is outside %g..%g", f.v, lo, hi)
		}
	}
	if h.UsableMemoryGB < 0 || h.UsableMemoryGB > h.MemoryGB {
		return &h, fieldErr("usable_memory_gb", "%v must lie in 0..memory_gb", h.UsableMemoryGB)
	}
	unit := []struct {
		name string
		v    float64
	}{{"availability", h.Availability}, {"deployment_complexity", h.DeploymentComplexity},
		{"compute_efficiency", h.ComputeEfficiency}, {"bandwidth_efficiency", h.BandwidthEfficiency}}
	for _, f := range unit {
		if f.v < 0 || f.v > 1 || math.IsNaN(f.v) {
			return &h, fieldErr(f.name, "%v is outside 0..1", f.v)
		}
	}
	if h.MaxCount < 0 || h.MaxCount > MaxGPUCount {
		return &h, fieldErr("max_count", "%d is outside 0..%d", h.MaxCount, MaxGPUCount)
	}
	return &h, validateSpecs(&h)
}

// hardwareBounds is the physically sensible range of a hardware number:
// the roofline divides by them, so a value like 5e-324 GB/s or 1e308
// TFLOP/s would put NaN or Inf into every prediction. Optional fields may
// be 0 (not given).
func hardwareBounds(field string) (lo, hi float64) {
	switch field {
	case "peak_tflops", "memory_bandwidth_gbps", "memory_gb", "tdp_watts":
		return 1e-6, 1e7
	case "runtime_memory_mb":
		return 0, 1e9
	}
	return 0, 1e7
}

// validateSpecs checks the optional spec facts and normalises their case.
func validateSpecs(h *Hardware) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"vendor", &h.Vendor}, {"family", &h.Family}} {
		*f.v = strings.ToLower(strings.TrimSpace(*f.v))
		if !validToken(*f.v) {
			return fieldErr(f.name, "%q is not a short name (letters, digits, '-', '_', '.'; at most 40)", clip(*f.v))
		}
	}
	h.MemoryType = strings.ToLower(strings.TrimSpace(h.MemoryType))
	if h.MemoryType != "" && !slices.Contains(MemoryTypes, h.MemoryType) {
		return fieldErr("memory_type", "unknown memory type %q (valid: %s)", clip(h.MemoryType), strings.Join(MemoryTypes, ", "))
	}
	if h.ReleaseYear != 0 && (h.ReleaseYear < 1990 || h.ReleaseYear > 2100) {
		return fieldErr("release_year", "%d is not a year between 1990 and 2100", h.ReleaseYear)
	}
	return nil
}

func validToken(s string) bool {
	if len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// clip shortens a bad value quoted in an error to about 80 characters.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:77] + "..."
}

func parseModel(fsys fs.FS, dir string, raw json.RawMessage) (*Model, string, error) {
	var e modelEntry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, e.ID, err
	}
	if err := safetext.CheckID(e.ID); err != nil {
		return nil, "", fieldErr("id", "%v", err)
	}
	if !slices.Contains(ModelTypes, e.ModelType) {
		return nil, e.ID, fieldErr("model_type", "unknown model type %s (valid: %s)", safetext.Quote(e.ModelType), strings.Join(ModelTypes, ", "))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"sequence_length", e.SequenceLength}, {"prompt_tokens", e.PromptTokens}, {"output_tokens", e.OutputTokens}} {
		if f.v < 0 || f.v > MaxTokens {
			return nil, e.ID, fieldErr(f.name, "%d is outside 0..%d", f.v, MaxTokens)
		}
	}
	var arch Architecture
	switch {
	case e.Config != "" || len(e.HFConfig) > 0:
		cfg := []byte(e.HFConfig)
		if e.Config != "" {
			if fsys == nil {
				return nil, e.ID, fieldErr("config", "%s: a stored catalog entry cannot refer to a file", safetext.Quote(e.Config))
			}
			p := e.Config
			from := fsys
			if !path.IsAbs(filepath.ToSlash(p)) {
				p = path.Join(dir, filepath.ToSlash(p))
			} else {
				// Absolute paths leave the catalog folder.
				from, p = os.DirFS(filepath.Dir(p)), filepath.Base(p)
			}
			data, err := readBounded(from, p, maxConfigBytes)
			if err != nil {
				return nil, e.ID, fieldErr("config", "%s: %v", safetext.Quote(e.Config), err)
			}
			cfg = data
		}
		a, err := ArchitectureFromHFConfig(cfg, e.ModelType)
		if err != nil {
			return nil, e.ID, fieldErr("config", "%s: %v", safetext.Quote(e.Config), err)
		}
		arch = a
		e.HFConfig = compactJSON(cfg)
		e.Config = ""
	default:
		a, err := explicitArchitecture(&e)
		if err != nil {
			return nil, e.ID, err
		}
		arch = a
	}
	if e.SequenceLength > 0 && !arch.FixedInput {
		arch.SequenceLength = e.SequenceLength
	}
	if e.Params > 0 {
		arch.Params = e.Params
	}
	if arch.SequenceLength <= 0 {
		arch.SequenceLength = 128
	}
	self, _ := json.Marshal(e)
	return &Model{ID: e.ID, ModelType: e.ModelType, Arch: arch, raw: self,
		PromptTokens: firstPositive(e.PromptTokens, DefaultPromptTokens), OutputTokens: firstPositive(e.OutputTokens, DefaultOutputTokens)}, e.ID, nil
}

func compactJSON(b []byte) json.RawMessage {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return b
	}
	return out.Bytes()
}

// Hardware returns the device with the id, or nil.
func (c *Catalog) Hardware(id string) *Hardware { return c.hardware[id] }

// Model returns the model with the id, or nil.
func (c *Catalog) Model(id string) *Model { return c.models[id] }

// HardwareIDs lists every hardware id, sorted.
func (c *Catalog) HardwareIDs() []string { return sortedKeys(c.hardware) }

// ModelIDs lists every model id, sorted.
func (c *Catalog) ModelIDs() []string { return sortedKeys(c.models) }

// AddedHardware and AddedModels list user additions in the order added.
func (c *Catalog) AddedHardware() []string { return slices.Clone(c.addedHardware) }
func (c *Catalog) AddedModels() []string   { return slices.Clone(c.addedModels) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ResolveSequenceLength returns the sequence length a configuration of the
// model runs at: the model's fixed input for image/audio models, the given
// length for text models, or the model's default when zero.
func (m *Model) ResolveSequenceLength(seq int) int {
	if m.Arch.FixedInput || seq <= 0 {
		return m.Arch.SequenceLength
	}
	return seq
}

// Normalize checks that a configuration's model, hardware and precision
// are known and puts it in canonical form: the sequence length filled, and
// for text generation the token counts, GPU split and weight format
// resolved (see normalizeGeneration), so equal configurations compare equal.
func (c *Catalog) Normalize(cfg Config) (Config, error) {
	m := c.Model(cfg.Model)
	if m == nil {
		return cfg, fmt.Errorf("unknown model %s (add it with --catalog; known: %s)", safetext.Quote(cfg.Model), strings.Join(c.ModelIDs(), ", "))
	}
	h := c.Hardware(cfg.Hardware)
	if h == nil {
		return cfg, fmt.Errorf("unknown hardware %s (known: %s)", safetext.Quote(cfg.Hardware), strings.Join(c.HardwareIDs(), ", "))
	}
	if cfg.BatchSize <= 0 {
		return cfg, fmt.Errorf("batch size %d is not positive", cfg.BatchSize)
	}
	if _, err := ParsePrecision(string(cfg.Precision)); err != nil {
		return cfg, err
	}
	if cfg.SequenceLength < 0 {
		return cfg, fmt.Errorf("sequence length %d is negative", cfg.SequenceLength)
	}
	return normalizeGeneration(cfg, m, h)
}
