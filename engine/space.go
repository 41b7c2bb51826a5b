package engine

import (
	"slices"
	"sort"
)

// Space is a candidate space: the cross product of its lists.
type Space struct {
	Models     []string
	Hardware   []string
	BatchSizes []int
	Precisions []Precision
}

// DefaultBatchSizes and DefaultPrecisions span SPEC §2's default space.
var (
	DefaultBatchSizes = []int{1, 2, 4, 8, 16, 32, 64}
	DefaultPrecisions = []Precision{FP32, FP16, INT8}
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
	out := Space{Models: slices.Clone(s.Models), Hardware: slices.Clone(s.Hardware),
		BatchSizes: slices.Clone(s.BatchSizes), Precisions: slices.Clone(s.Precisions)}
	for _, r := range results {
		out.Models = add(out.Models, r.Model)
		out.Hardware = add(out.Hardware, r.Hardware)
		if !slices.Contains(out.BatchSizes, r.BatchSize) {
			out.BatchSizes = append(out.BatchSizes, r.BatchSize)
		}
		if !slices.Contains(out.Precisions, r.Precision) {
			out.Precisions = append(out.Precisions, r.Precision)
		}
	}
	sort.Ints(out.BatchSizes)
	return out
}

// Configs enumerates the space in a fixed order, skipping ids the catalog
// does not know and precisions the hardware lacks. Text models run at their
// default sequence length.
func (s Space) Configs(cat *Catalog) []Config {
	var out []Config
	for _, mid := range s.Models {
		m := cat.Model(mid)
		if m == nil {
			continue
		}
		for _, hid := range s.Hardware {
			h := cat.Hardware(hid)
			if h == nil {
				continue
			}
			for _, p := range s.Precisions {
				if !h.Supports(p) {
					continue
				}
				for _, b := range s.BatchSizes {
					out = append(out, Config{Model: mid, Hardware: hid, BatchSize: b, Precision: p, SequenceLength: m.Arch.SequenceLength})
				}
			}
		}
	}
	return out
}
