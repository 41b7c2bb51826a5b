package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"perfpilot/engine"
	"perfpilot/safetext"
)

type recommendOptions struct {
	Model, Precision, Metric string
	BatchSize, Sequence      int
	MaxPower, MinMemory      float64
	MaxDeployment            float64
	Hardware                 []string
	Seed                     uint64
	Data                     string
	JSON                     bool
	Gen                      generationFlags
}

func newRecommendCmd(g *globalOptions) *cobra.Command {
	o := &recommendOptions{}
	cmd := &cobra.Command{
		Use:   "recommend-hardware",
		Short: "Rank hardware for a model with a score breakdown and alternatives",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), g) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "`MODEL` id (see perfpilot catalog models)")
	f.IntVar(&o.BatchSize, "batch-size", 1, "batch size")
	f.StringVar(&o.Precision, "precision", "fp32", "precision: fp32, fp16, bf16, int8, int4 (weight-only) or fp8")
	f.IntVar(&o.Sequence, "sequence-length", 0, "sequence length (default: the model's)")
	o.Gen.add(f, true)
	f.StringVar(&o.Metric, "metric", "throughput", "metric: throughput, latency or memory")
	f.Float64Var(&o.MaxPower, "max-power", 0, "only hardware with TDP at most this many watts")
	f.Float64Var(&o.MinMemory, "min-memory", 0, "only hardware with at least this many GB of memory")
	f.Float64Var(&o.MaxDeployment, "max-deployment", 0, "only hardware with deployment complexity at most this (0..1)")
	f.StringSliceVar(&o.Hardware, "hardware", nil, "`HARDWARE` ids to rank (default: the eight backends, catalog additions and measured hardware)")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed")
	withRange(f, "batch-size", 1, maxBatch)
	withRange(f, "sequence-length", 0, engine.MaxTokens)
	withRange(f, "max-power", 0, maxPowerW)
	withRange(f, "min-memory", 0, maxMemoryGB)
	withRange(f, "max-deployment", 0, 1)
	withRange(f, "seed", 0, math.MaxUint64)
	f.StringVar(&o.Data, "data", "", "results `FILE` to use instead of the database")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("model")
	return cmd
}

func (o *recommendOptions) run(ctx context.Context, g *globalOptions) error {
	metric, err := parseMetric(o.Metric)
	if err != nil {
		return err
	}
	prec, err := parsePrecision(o.Precision)
	if err != nil {
		return err
	}
	cons := engine.Constraints{MaxPowerW: o.MaxPower, MinMemoryGB: o.MinMemory, MaxDeployment: o.MaxDeployment}
	ds, err := g.load(ctx, o.Data)
	if err != nil {
		return err
	}
	defer ds.Close()
	if err := checkModel(ds.cat, o.Model); err != nil {
		return err
	}
	if err := checkHardware(ds.cat, o.Hardware...); err != nil {
		return err
	}
	p, err := engine.NewPredictor(ctx, ds.cat, ds.results, engine.PredictorOptions{Seed: o.Seed})
	if err != nil {
		return err
	}
	rec := engine.Recommender{Weights: engine.DefaultScoreWeights, Constraints: cons}
	cfg, err := o.Gen.apply(engine.Config{Model: o.Model, BatchSize: o.BatchSize, Precision: prec, SequenceLength: o.Sequence}, ds.cat.Model(o.Model), nil)
	if err != nil {
		return err
	}
	hr, err := p.RecommendHardware(ctx, cfg, metric, o.Hardware, rec)
	var none *engine.NoHardwareError
	if errors.As(err, &none) && (o.JSON || !g.io.TTY) {
		// Still print the ranking so scripts see why each was excluded.
		printRankingJSON(g, hr)
		return err
	}
	if err != nil {
		return err
	}
	if o.JSON || !g.io.TTY {
		return printRankingJSON(g, hr)
	}
	printRanking(g, hr)
	return nil
}

func printRankingJSON(g *globalOptions, hr *engine.HardwareRanking) error {
	return encodeJSON(g, hr)
}

func printRanking(g *globalOptions, hr *engine.HardwareRanking) {
	m := hr.Metric
	fmt.Fprintf(g.io.Out, "%s — optimising %s\n", safetext.Clean(hr.Config().String()), m)
	fmt.Fprintf(g.io.Out, "recommended: %s", safetext.Clean(hr.RecommendedHardware))
	if len(hr.Alternatives) > 0 {
		var alts []string
		for _, a := range hr.Alternatives {
			alts = append(alts, fmt.Sprintf("%s (%.3f)", safetext.Clean(a.Hardware), a.Score))
		}
		fmt.Fprintf(g.io.Out, "; alternatives: %s", strings.Join(alts, ", "))
	}
	fmt.Fprint(g.io.Out, "\n\n")
	tw := tabwriter.NewWriter(g.io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "HARDWARE\tSCORE\t%s (80%%)\tPERF\tPOWER\tHEADROOM\tAVAIL\tDEPLOY\tNOTE\n", strings.ToUpper(string(m)))
	for _, s := range hr.Ranking {
		iv := s.Predicted.Get(m)
		if !s.Eligible {
			fmt.Fprintf(tw, "%s\t-\t%s\t\t\t\t\t\t%s\n", safetext.Clean(s.Hardware), formatInterval(iv, hr.Config().Unit(m)), safetext.Clean(s.Reason))
			continue
		}
		parts := make([]string, len(s.Breakdown))
		for i, c := range s.Breakdown {
			parts[i] = fmt.Sprintf("%.2f", c.Value)
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%s\t%s\t\n", safetext.Clean(s.Hardware), s.Score, formatInterval(iv, hr.Config().Unit(m)), strings.Join(parts, "\t"))
	}
	tw.Flush()
	w := engine.DefaultScoreWeights
	fmt.Fprintf(g.io.Out, "\nscore = (%.2g×perf + %.2g×power + %.2g×headroom + %.2g×availability + %.2g×deployment) / %.2g\n",
		w.Performance, w.Power, w.Headroom, w.Availability, w.Deployment, w.Performance+w.Power+w.Headroom+w.Availability+w.Deployment)
}
