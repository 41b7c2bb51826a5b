package engine

import (
	"slices"
	"sort"
)

// Space is a candidate space: the cross product of its lists. A
// text-generation model's candidates are whole requests (Generate) of
// PromptTokens and OutputTokens (0: the model's defaults), at the
// precisions plus the weight formats LLMs are served in, on GPUCount
// devices (0: one, and more where the weights need them; see gpuCounts).
type Space struct {
	Models       []string
	Hardware     []string
	BatchSizes   []int
	Precisions   []Precision
	PromptTokens int
	OutputTokens int
	GPUCount     int
}

// DefaultBatchSizes and DefaultPrecisions span SPEC §2's default space;
// text-generation models add GenerationPrecisions.
var (
	DefaultBatchSizes    = []int{1, 2, 4, 8, 16, 32, 64}
	DefaultPrecisions    = []Precision{FP32, FP16, INT8}
	GenerationPrecisions = []Precision{INT4, FP8}
)

// DefaultSpace is the built-in models × the eight backends × default batches
// and precisions, plus user-added catalog entries.
func DefaultSpace(cat *Catalog) Space {
	s := Space{
		Models:     slices.Clone(cat.DefaultModels),
		Hardware:   slices.Clone(cat.DefaultHardware),
		BatchSizes: slices.Clone(DefaultBatchSizes),
		Precisions: slices.Clone(DefaultPrecisions),
	}
	for _, id := range cat.AddedModels() {
		if !slices.Contains(s.Models, id) {
			s.Models = append(s.Models, id)
		}
	}
	for _, id := range cat.AddedHardware() {
		if !slices.Contains(s.Hardware, id) {
			s.Hardware = append(s.Hardware, id)
		}
	}
	return s
}

// WithMeasured widens the space with every model, hardware, batch size and
// precision that has measured results: what was measured is what people run.
func (s Space) WithMeasured(results []Result) Space {
	add := func(list []string, v string) []string {
		if !slices.Contains(list, v) {
			return append(list, v)
		}
		return list
	}
	out := s
	out.Models, out.Hardware = slices.Clone(s.Models), slices.Clone(s.Hardware)
	out.BatchSizes, out.Precisions = slices.Clone(s.BatchSizes), slices.Clone(s.Precisions)
	for _, r := range results {
		out.Models = add(out.Models, r.Model)
		out.Hardware = add(out.Hardware, r.Hardware)
		if !slices.Contains(out.BatchSizes, r.BatchSize) {
			out.BatchSizes = append(out.BatchSizes, r.BatchSize)
		}
		// A text-generation model's candidates already span the formats
		// LLMs run in; one measured in int4 says nothing about encoders.
		if !slices.Contains(out.Precisions, r.Precision) && !(r.Generative() && slices.Contains(GenerationPrecisions, r.Precision)) {
			out.Precisions = append(out.Precisions, r.Precision)
		}
	}
	sort.Ints(out.BatchSizes)
	return out
}

// Configs enumerates the space in a fixed order, skipping ids the catalog
// does not know and precisions the hardware lacks. Text models run at their
// default sequence length; text-generation models as whole requests.
func (s Space) Configs(cat *Catalog) []Config {
	// Counted first: a space can hold 100,000 configurations, and growing
	// the slice copies them several times.
	n := 0
	s.each(cat, func(Config) { n++ })
	out := make([]Config, 0, n)
	s.each(cat, func(c Config) { out = append(out, c) })
	return out
}

// each calls f with every configuration of the space, in order.
func (s Space) each(cat *Catalog, f func(Config)) {
	for _, mid := range s.Models {
		m := cat.Model(mid)
		if m == nil {
			continue
		}
		gen := m.ModelType == "text_generation" && m.Arch.Generates()
		precisions := s.Precisions
		if gen {
			precisions = slices.Clone(precisions)
			for _, p := range GenerationPrecisions {
				if !slices.Contains(precisions, p) {
					precisions = append(precisions, p)
				}
			}
		}
		for _, hid := range s.Hardware {
			h := cat.Hardware(hid)
			if h == nil {
				continue
			}
			for _, p := range precisions {
				if !h.Supports(p) {
					continue
				}
				base := Config{Model: mid, Hardware: hid, Precision: p, SequenceLength: m.Arch.SequenceLength}
				gpus := []int{0}
				if gen {
					base.Phase, base.PromptTokens, base.OutputTokens = Generate, firstPositive(s.PromptTokens, m.PromptTokens), firstPositive(s.OutputTokens, m.OutputTokens)
					gpus = s.gpuCounts(m, h, base)
				}
				for _, g := range gpus {
					for _, b := range s.BatchSizes {
						c := base
						c.BatchSize, c.GPUCount = b, g
						if g > 1 {
							c.Parallelism = Tensor
						}
						f(c.Canonical())
					}
				}
			}
		}
	}
}

// gpuCounts are the GPU counts of a text-generation model's candidates on
// a device: the space's, when it names one the machine holds; otherwise one
// GPU, and 2, 4 and 8 while the weights fill more than half of the devices
// one step fewer would have (more GPUs than that buy little but cost).
func (s Space) gpuCounts(m *Model, h *Hardware, c Config) []int {
	if s.GPUCount > 0 {
		if s.GPUCount > h.MaxGPUs() {
			return nil
		}
		return []int{s.GPUCount}
	}
	weightsMB := m.Arch.Params * c.weightBits() / 8 / (1 << 20)
	out := []int{0}
	for g := 2; g <= h.MaxGPUs() && weightsMB > 0.5*float64(g/2)*h.UsableMemoryMB(); g *= 2 {
		out = append(out, g)
	}
	return out
}
