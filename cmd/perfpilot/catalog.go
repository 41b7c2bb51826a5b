package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"perfpilot/engine"
	"perfpilot/safetext"
)

func newCatalogCmd(g *globalOptions) *cobra.Command {
	list := func(what, short string) *cobra.Command {
		var asJSON bool
		cmd := &cobra.Command{
			Use:   what,
			Short: short,
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				return runCatalog(cmd.Context(), g, what, asJSON)
			},
		}
		cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		return cmd
	}
	return group(&cobra.Command{
		Use:   "catalog",
		Short: "List the known hardware or models, or the catalog additions stored in the database",
	}, list("hardware", "List the known hardware (built-in, stored additions, --catalog files)"),
		list("models", "List the known models (built-in, stored additions, --catalog files)"),
		newCatalogAdditionsCmd(g), newCatalogForgetCmd(g))
}

type modelJSON struct {
	ID             string  `json:"id"`
	ModelType      string  `json:"model_type"`
	Architecture   string  `json:"architecture"`
	Params         float64 `json:"params"`
	SequenceLength int     `json:"sequence_length"`
	GFLOPsPerItem  float64 `json:"gflops_per_item"`
	Default        bool    `json:"default"`
}

func runCatalog(ctx context.Context, g *globalOptions, what string, asJSON bool) error {
	db, cat, err := g.openWithCatalog(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if what == "hardware" {
		var hws []*engine.Hardware
		for _, id := range cat.HardwareIDs() {
			hws = append(hws, cat.Hardware(id))
		}
		if asJSON || !g.io.TTY {
			return encodeJSON(g, hws)
		}
		tw := tabwriter.NewWriter(g.io.Out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tBACKEND\tNAME\tTFLOP/S fp32/fp16/int8\tGB/S\tGB\tW\tDEFAULT")
		for _, h := range hws {
			def := ""
			if slices.Contains(cat.DefaultHardware, h.ID) {
				def = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s/%s\t%.0f\t%.0f\t%.0f\t%s\n", safetext.Clean(h.ID), h.Backend, safetext.Clean(h.Name),
				peak(h, engine.FP32), peak(h, engine.FP16), peak(h, engine.INT8), h.MemoryBandwidthGBps, h.MemoryGB, h.TDPWatts, def)
		}
		return tw.Flush()
	}
	var ms []modelJSON
	for _, id := range cat.ModelIDs() {
		m := cat.Model(id)
		c := m.Arch.Cost(0, engine.FP32)
		ms = append(ms, modelJSON{ID: id, ModelType: m.ModelType, Architecture: m.Arch.Family, Params: m.Arch.Params,
			SequenceLength: m.Arch.SequenceLength, GFLOPsPerItem: c.FLOPs / 1e9, Default: slices.Contains(cat.DefaultModels, id)})
	}
	if asJSON || !g.io.TTY {
		return encodeJSON(g, ms)
	}
	tw := tabwriter.NewWriter(g.io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tARCH\tPARAMS\tSEQ\tGFLOP/ITEM\tDEFAULT")
	for _, m := range ms {
		def := ""
		if m.Default {
			def = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fM\t%d\t%.2f\t%s\n", safetext.Clean(m.ID), m.ModelType, m.Architecture, m.Params/1e6, m.SequenceLength, m.GFLOPsPerItem, def)
	}
	return tw.Flush()
}

func peak(h *engine.Hardware, p engine.Precision) string {
	if v := h.PeakTFLOPS[p]; v > 0 {
		return strings.TrimSuffix(fmt.Sprintf("%g", v), ".0")
	}
	return "–"
}

// encodeJSON prints v as indented JSON, terminal-safe (safetext.CleanJSON).
func encodeJSON(g *globalOptions, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = g.io.Out.Write(append(safetext.CleanJSON(data), '\n'))
	return err
}
