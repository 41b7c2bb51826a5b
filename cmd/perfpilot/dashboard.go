package main

import (
	"context"
	"math"

	"github.com/spf13/cobra"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/runner/placement"
)

// tuiOptions are the dashboard's flags, shared by `perfpilot` and `perfpilot tui`.
type tuiOptions struct {
	Metric   string
	Budget   int
	Seed     uint64
	Template string
	NoMouse  bool
	// Placement is a placement file for x's scheduler runs.
	Placement string
}

func (o *tuiOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Metric, "metric", "throughput", "metric to start with: throughput, latency or memory")
	f.IntVar(&o.Budget, "budget", engine.DefaultBudget, "number of configurations to rank")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed")
	withRange(f, "budget", 1, maxBudget)
	withRange(f, "seed", 0, math.MaxUint64)
	f.BoolVar(&o.NoMouse, "no-mouse", false, "do not capture the mouse (leaves the terminal's own selection working)")
	f.StringVar(&o.Template, "template", cmdtmpl.Default, "benchmark command `TEMPLATE` that x runs (rules: README Safety); placeholders "+cmdtmpl.PlaceholderList())
	f.StringVar(&o.Placement, "placement", "", "placement `FILE` (JSON or TOML, as for run): x offers the Slurm or Kubernetes executors it serves; stored with a session when it runs")
}

func newTUICmd(g *globalOptions) *cobra.Command {
	o := &tuiOptions{}
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Open the dashboard (the same as running perfpilot with no arguments)",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), g) },
	}
	o.flags(cmd)
	return cmd
}

func (o *tuiOptions) run(ctx context.Context, g *globalOptions) error {
	metric, err := parseMetric(o.Metric)
	if err != nil {
		return err
	}
	// A bad template is a usage error now, not a surprise at x.
	if _, err := cmdtmpl.Parse(o.Template); err != nil {
		return templateUsage(err)
	}
	db, cat, err := g.openWithCatalog(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var pl *placement.File
	if o.Placement != "" {
		if pl, err = placement.Load(o.Placement); err != nil {
			return usagef("--placement: %v", err)
		}
		if err := pl.CheckHardware(func(id string) bool { return cat.Hardware(id) != nil }, o.Placement); err != nil {
			return usagef("--placement: %v", err)
		}
	}
	return runTUI(ctx, db, cat, o, pl, metric, g.ReadOnly)
}
