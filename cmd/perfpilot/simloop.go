package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"perfpilot/engine"
	"perfpilot/safetext"
)

type simLoopOptions struct {
	Strategies []string
	Rounds     int
	Batch      int
	Initial    int
	Seed       uint64
	Seeds      int
	Target     float64
	Metric     string
	Data       string
	Sources    string
	JSON       bool
}

func newSimulateLoopCmd(g *globalOptions) *cobra.Command {
	o := &simLoopOptions{}
	cmd := &cobra.Command{
		Use:   "simulate-loop",
		Short: "Replay benchmarking: how fast each selection strategy drives the error down",
		Long: `Start from a small random seed set, "measure" batches chosen by each strategy by revealing
held-back true values, retrain, and report the median APE on the unrevealed rest after
every round, plus how many measurements each strategy needed to reach --target.
Without --data the truth is the simulated world over the default space.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), g) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Strategies, "strategy", nil, "active, random or uncertainty (repeatable; default all three)")
	f.IntVar(&o.Rounds, "rounds", 10, "measured batches")
	f.IntVar(&o.Batch, "batch", 5, "configurations measured per round")
	f.IntVar(&o.Initial, "initial", 5, "size of the random seed set")
	f.Uint64Var(&o.Seed, "seed", 1, "first random seed")
	f.IntVar(&o.Seeds, "seeds", 5, "number of seeds (seed, seed+1, ...); results are medians with min–max spread")
	f.Float64Var(&o.Target, "target", 10, "target median APE in percent")
	withRange(f, "rounds", 1, 1000)
	withRange(f, "batch", 1, 1000)
	withRange(f, "initial", 1, 10_000)
	withRange(f, "seed", 0, math.MaxUint64)
	withRange(f, "seeds", 1, 100)
	withRange(f, "target", 0.001, 1000)
	f.StringVar(&o.Metric, "metric", "latency", "throughput, latency or memory")
	f.StringVar(&o.Data, "data", "", "results file to replay instead of the simulated world")
	f.StringVar(&o.Sources, "sources", "latest", "with --data: latest (one measurement set per hardware) or all")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	return cmd
}

func (o *simLoopOptions) run(ctx context.Context, g *globalOptions) error {
	for _, s := range o.Strategies {
		if !slices.Contains(engine.LoopStrategies, s) {
			return usagef("--strategy: unknown %s (valid: active, random, uncertainty)", safetext.Quote(s))
		}
	}
	metric, err := parseMetric(o.Metric)
	if err != nil {
		return err
	}
	var cat *engine.Catalog
	var truth []engine.Result
	note := "simulated world over the default space (noise 5%)"
	if o.Data != "" {
		ds, n, err := evalData(ctx, g, o.Data, o.Sources)
		if err != nil {
			return err
		}
		ds.Close()
		cat, truth, note = ds.cat, ds.results, n
	} else {
		if cat, err = g.catalog(ctx, nil); err != nil {
			return err
		}
		truth = engine.SimulatedTruth(cat, engine.DemoWorld, engine.DefaultSpace(cat), o.Seed)
	}
	seeds := make([]uint64, o.Seeds)
	for i := range seeds {
		seeds[i] = o.Seed + uint64(i)
	}
	pb := newProgress("simulate-loop")
	rep, err := engine.SimulateLoop(ctx, cat, truth, engine.LoopOptions{Strategies: o.Strategies, Rounds: o.Rounds, Batch: o.Batch,
		Initial: o.Initial, Seeds: seeds, Metric: metric, Target: o.Target, Progress: pb.update})
	pb.finish()
	if err != nil {
		return err
	}
	if o.JSON || !g.io.TTY {
		return encodeJSON(g, rep)
	}
	fmt.Fprintf(g.io.Out, "truth: %s; pool %d configurations; %d seeds\n\n", note, rep.Pool, len(seeds))
	printLoop(g.io.Out, rep)
	return nil
}

func printLoop(w io.Writer, rep *engine.LoopReport) {
	fmt.Fprintf(w, "median APE %% of %s on the unrevealed rest (median over seeds, min–max):\n", rep.Metric)
	fmt.Fprintf(w, "%-9s", "measured")
	for _, s := range rep.Summaries {
		fmt.Fprintf(w, "  %-22s", s.Strategy)
	}
	fmt.Fprintln(w)
	for r := range rep.Summaries[0].Rounds {
		fmt.Fprintf(w, "%-9d", rep.Summaries[0].Rounds[r].Measured)
		for _, s := range rep.Summaries {
			st := s.Rounds[r]
			fmt.Fprintf(w, "  %-22s", fmt.Sprintf("%5.1f (%.1f–%.1f)", st.Median, st.Low, st.High))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nmeasurements needed to reach %.0f%% median APE (median over seeds; per seed):\n", rep.Target)
	for _, s := range rep.Summaries {
		need := "not reached"
		if s.NeededMedian >= 0 {
			need = fmt.Sprintf("%.0f", s.NeededMedian)
		}
		fmt.Fprintf(w, "  %-12s %-12s %v\n", s.Strategy, need, s.Needed)
	}
	fmt.Fprintln(w)
	drawCurves(w, rep)
}

// drawCurves plots the median curves as text: one letter per strategy.
func drawCurves(w io.Writer, rep *engine.LoopReport) {
	const height, colW = 12, 5
	hi, lo := 0.0, math.Inf(1)
	for _, s := range rep.Summaries {
		for _, r := range s.Rounds {
			hi, lo = math.Max(hi, r.Median), math.Min(lo, r.Median)
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	cols := len(rep.Summaries[0].Rounds)
	grid := make([][]rune, height)
	for i := range grid {
		grid[i] = []rune(strings.Repeat(" ", cols*colW))
	}
	for _, s := range rep.Summaries {
		mark := []rune(strings.ToUpper(s.Strategy[:1]))[0]
		for c, r := range s.Rounds {
			row := int(math.Round((hi - r.Median) / (hi - lo) * float64(height-1)))
			x := c*colW + 2
			if grid[row][x] != ' ' && grid[row][x] != mark {
				grid[row][x] = '*'
			} else {
				grid[row][x] = mark
			}
		}
	}
	for i, line := range grid {
		v := hi - (hi-lo)*float64(i)/float64(height-1)
		fmt.Fprintf(w, "%6.1f │%s\n", v, strings.TrimRight(string(line), " "))
	}
	fmt.Fprintf(w, "       └%s\n        ", strings.Repeat("─", cols*colW))
	for _, r := range rep.Summaries[0].Rounds {
		fmt.Fprintf(w, "%-*d", colW, r.Measured)
	}
	var legend []string
	for _, s := range rep.Summaries {
		legend = append(legend, fmt.Sprintf("%s = %s", strings.ToUpper(s.Strategy[:1]), s.Strategy))
	}
	fmt.Fprintf(w, "  measurements\n        %s, * = overlap\n", strings.Join(legend, ", "))
}
