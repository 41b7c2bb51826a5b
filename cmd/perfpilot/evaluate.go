package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"perfpilot/engine"
	"perfpilot/safetext"
)

type evaluateOptions struct {
	Splits   []string
	Metric   string
	Data     string
	JSON     bool
	Reveal   int
	Sources  string
	Folds    int
	Seed     uint64
	NoGroups bool
	Phases   []string
}

func newEvaluateCmd(g *globalOptions) *cobra.Command {
	o := &evaluateOptions{}
	cmd := &cobra.Command{
		Use:   "evaluate",
		Short: "Measure prediction accuracy and interval calibration on held-out measured data",
		Long: `Hold out measured configurations (k-fold, leave-one-hardware-out, leave-one-model-out),
predict them from the rest, and report MAPE, median APE, share within ±10% and ±25%,
Spearman correlation of the hardware order per (model, batch, precision), and the
coverage of the 80% intervals — for the learned predictor and, beside it, the plain
roofline prior.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("split") && len(o.Splits) == 0 {
				return usagef("--split: empty (valid: kfold, hardware, model)")
			}
			return o.run(cmd.Context(), g)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Splits, "split", nil, "kfold, hardware or model (repeatable; default all three)")
	f.StringVar(&o.Metric, "metric", "", "throughput, latency or memory (default: every metric with data)")
	f.StringVar(&o.Data, "data", "", "results file (CSV or JSON) to evaluate instead of the database")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	f.IntVar(&o.Reveal, "reveal", 0, "hardware/model splits: first measure this many actively chosen configurations of the held-out group")
	f.StringVar(&o.Sources, "sources", "latest", "latest: one measurement set per hardware (the source recorded last); all: every result")
	f.IntVar(&o.Folds, "folds", 5, "folds for k-fold")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed")
	withRange(f, "reveal", 0, 100_000)
	withRange(f, "folds", 2, 1000)
	withRange(f, "seed", 0, math.MaxUint64)
	f.BoolVar(&o.NoGroups, "no-groups", false, "omit the per-hardware / per-model rows")
	f.StringSliceVar(&o.Phases, "phase", nil, "score only held-out configurations of this phase: forward, prefill, decode or generate (repeatable; default all, each also on its own)")
	return cmd
}

// evalData loads results for evaluate and simulate-loop with a sources policy.
func evalData(ctx context.Context, g *globalOptions, data, sources string) (*dataset, string, error) {
	if sources != "latest" && sources != "all" {
		return nil, "", usagef("--sources: unknown %s (valid: latest, all)", safetext.Quote(sources))
	}
	ds, err := g.load(ctx, data)
	if err != nil {
		return nil, "", err
	}
	n := len(ds.results)
	if sources == "latest" {
		ds.results = engine.LatestSourcePerHardware(ds.results)
	}
	note := fmt.Sprintf("%d results", len(ds.results))
	if sources == "latest" && len(ds.results) != n {
		note = fmt.Sprintf("%d of %d results: the measurement set recorded last for each hardware (--sources all uses every one)", len(ds.results), n)
	}
	return ds, note, nil
}

func (o *evaluateOptions) run(ctx context.Context, g *globalOptions) error {
	splits := o.Splits
	if len(splits) == 0 {
		splits = engine.Splits
	}
	for _, s := range splits {
		if !slices.Contains(engine.Splits, s) {
			return usagef("--split: unknown split %s (valid: kfold, hardware, model)", safetext.Quote(s))
		}
	}
	var metrics []engine.Metric
	if o.Metric != "" {
		m, err := parseMetric(o.Metric)
		if err != nil {
			return err
		}
		metrics = []engine.Metric{m}
	}
	var phases []engine.Phase
	for _, s := range o.Phases {
		ph, err := engine.ParsePhase(s)
		if err != nil || strings.TrimSpace(s) == "" {
			return usagef("--phase: unknown phase %q (valid: forward, prefill, decode, generate)", s)
		}
		phases = append(phases, ph)
	}
	ds, note, err := evalData(ctx, g, o.Data, o.Sources)
	if err != nil {
		return err
	}
	defer ds.Close()
	var rows []engine.EvalRow
	for _, split := range splits {
		for _, baseline := range []bool{false, true} {
			pb := newProgress(fmt.Sprintf("evaluate %s %s", split, map[bool]string{false: "learned", true: "roofline"}[baseline]))
			rs, err := engine.Evaluate(ctx, ds.cat, ds.results, engine.EvalOptions{Split: split, Metrics: metrics, Folds: o.Folds,
				Reveal: o.Reveal, Seed: o.Seed, RooflineOnly: baseline, Phases: phases, Progress: pb.update})
			pb.finish()
			if err != nil {
				return err
			}
			for _, r := range rs {
				if o.NoGroups && r.Group != "" {
					continue
				}
				rows = append(rows, r)
			}
		}
	}
	if o.JSON || !g.io.TTY {
		return encodeJSON(g, struct {
			Results []engine.EvalRow `json:"results"`
		}{rows})
	}
	fmt.Fprintf(g.io.Out, "data: %s\n", note)
	printEval(g.io.Out, rows)
	return nil
}

func printEval(w io.Writer, rows []engine.EvalRow) {
	type key struct {
		split  string
		metric engine.Metric
		phase  string
	}
	var order []key
	by := map[key][]engine.EvalRow{}
	for _, r := range rows {
		k := key{r.Split, r.Metric, r.Phase}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], r)
	}
	for _, k := range order {
		title := fmt.Sprintf("%s — %s", k.split, k.metric)
		if k.phase != "" {
			title += " — " + k.phase
		}
		if rv := by[k][0].Revealed; rv > 0 {
			title += fmt.Sprintf(" (after %d actively chosen measurements of each held-out group)", rv)
		}
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "predictor\theld out\tn\tMAPE %\tmedian APE %\t≤10% \t≤25% \tspearman\tcover 80%\t80% width\t")
		for _, r := range by[k] {
			group := r.Group
			if group == "" {
				group = "all"
			}
			rho := "–"
			if !math.IsNaN(r.Spearman) {
				rho = fmt.Sprintf("%.3f", r.Spearman)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%.0f%%\t%.0f%%\t%s\t%.0f%%\t±%.0f%%\t\n", r.Predictor, group, r.N, r.MAPE, r.MedianAPE,
				r.Within10, r.Within25, rho, r.Coverage80*100, (math.Sqrt(r.Width80)-1)*100)
		}
		tw.Flush()
		printCalibration(w, by[k])
	}
	fmt.Fprintln(w, strings.TrimSpace(`
spearman: rank correlation of predicted vs measured hardware order per configuration (all but the hardware), averaged
over groups with ≥3 hardware; "–" when a held-out group has a single hardware. 80% width: median half-width of the
80% interval (±, geometric). calibration: share of held-out values inside the central interval of each nominal
level (calibrated: observed ≈ nominal).`))
}

// printCalibration writes the nominal-vs-observed coverage of each
// predictor's whole split (the rows without a group).
func printCalibration(w io.Writer, rows []engine.EvalRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "calibration\tnominal 50%\tnominal 80%\tnominal 95%\t")
	for _, r := range rows {
		if r.Group == "" {
			fmt.Fprintf(tw, "%s observed\t%.0f%%\t%.0f%%\t%.0f%%\t\n", r.Predictor, r.Coverage50*100, r.Coverage80*100, r.Coverage95*100)
		}
	}
	tw.Flush()
}
