package main

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/spf13/cobra"

	"perfpilot/engine"
	"perfpilot/safetext"
)

type predictOptions struct {
	Model, Hardware, Precision string
	BatchSize, SequenceLength  int
	Seed                       uint64
	Data                       string
	JSON                       bool
	Gen                        generationFlags
}

func newPredictCmd(g *globalOptions) *cobra.Command {
	o := &predictOptions{}
	cmd := &cobra.Command{
		Use:   "predict",
		Short: "Predict throughput, latency and memory of one configuration with 80% intervals",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), g) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "`MODEL` id (see perfpilot catalog models)")
	f.StringVar(&o.Hardware, "hardware", "", "`HARDWARE` id (see perfpilot catalog hardware)")
	f.IntVar(&o.BatchSize, "batch-size", 1, "batch size")
	f.StringVar(&o.Precision, "precision", "fp32", "precision: fp32, fp16, bf16, int8, int4 (weight-only) or fp8")
	f.IntVar(&o.SequenceLength, "sequence-length", 0, "sequence length in tokens (default: the model's)")
	o.Gen.add(f, true)
	f.Uint64Var(&o.Seed, "seed", 1, "random seed")
	withRange(f, "batch-size", 1, maxBatch)
	withRange(f, "sequence-length", 0, engine.MaxTokens)
	withRange(f, "seed", 0, math.MaxUint64)
	f.StringVar(&o.Data, "data", "", "results `FILE` to use instead of the database")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("model")
	cmd.MarkFlagRequired("hardware")
	return cmd
}

type predictJSON struct {
	engine.Config
	ModelType string                  `json:"model_type"`
	Feasible  bool                    `json:"feasible"`
	Reason    string                  `json:"reason,omitempty"`
	Predicted engine.PredictedMetrics `json:"predicted"`
	Roofline  engine.Roofline         `json:"roofline"`
	Sources   map[string]int          `json:"sources,omitempty"`
}

func (o *predictOptions) run(ctx context.Context, g *globalOptions) error {
	prec, err := parsePrecision(o.Precision)
	if err != nil {
		return err
	}
	ds, err := g.load(ctx, o.Data)
	if err != nil {
		return err
	}
	defer ds.Close()
	if err := checkModel(ds.cat, o.Model); err != nil {
		return err
	}
	if err := checkHardware(ds.cat, o.Hardware); err != nil {
		return err
	}
	p, err := engine.NewPredictor(ctx, ds.cat, ds.results, engine.PredictorOptions{Seed: o.Seed})
	if err != nil {
		return err
	}
	cfg, err := o.Gen.apply(engine.Config{Model: o.Model, Hardware: o.Hardware, BatchSize: o.BatchSize, Precision: prec, SequenceLength: o.SequenceLength},
		ds.cat.Model(o.Model), ds.cat.Hardware(o.Hardware))
	if err != nil {
		return err
	}
	pr, err := p.Predict(cfg)
	if err != nil {
		return err
	}
	out := predictJSON{Config: pr.Config, ModelType: pr.ModelType, Feasible: pr.Feasible, Reason: pr.Reason,
		Predicted: pr.Intervals(), Roofline: pr.Roofline, Sources: pr.Sources}
	if o.JSON || !g.io.TTY {
		return encodeJSON(g, out)
	}
	fmt.Fprintf(g.io.Out, "%s\n", safetext.Clean(pr.Config.String()))
	if !pr.Feasible {
		fmt.Fprintf(g.io.Out, "INFEASIBLE: %s\n", safetext.Clean(pr.Reason))
	}
	printMetricRows(g.io.Out, metricRows(pr.Config, out.Predicted))
	rf := pr.Roofline
	fmt.Fprintf(g.io.Out, "\nroofline prior: %.3g ms (compute %.3g ms, memory %.3g ms, overhead %.3g ms", rf.LatencyMS, rf.ComputeMS, rf.MemoryMS, rf.OverheadMS)
	if rf.CommMS > 0 {
		fmt.Fprintf(g.io.Out, ", between GPUs %.3g ms", rf.CommMS)
	}
	fmt.Fprintf(g.io.Out, "), %.4g GFLOP/item, %.0f MB\n", rf.GFLOPs, rf.MemoryMB)
	if len(pr.Sources) > 0 {
		fmt.Fprintf(g.io.Out, "measured by: %s\n", safetext.Clean(fmt.Sprint(pr.Sources)))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
