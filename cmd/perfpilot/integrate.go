package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"perfpilot/engine"
	"perfpilot/formats"
	"perfpilot/safetext"
	"perfpilot/store"
)

// integrateOptions are the flags of `perfpilot integrate`.
type integrateOptions struct {
	Budget         int
	Metric         string
	Output         string
	Force          bool
	Seed           uint64
	Data           string
	JSON           bool
	Save           string
	Hardware       []string
	Models         []string
	MaxPerHardware int
	Availability   bool
	InfoWeight     float64
	DecisionWeight float64
	MaxPower       float64
	MinMemory      float64

	// saveSet says --save was given, even as "" (which is refused).
	saveSet bool
	Gen     generationFlags
}

func newIntegrateCmd(g *globalOptions) *cobra.Command {
	o := &integrateOptions{}
	cmd := &cobra.Command{
		Use:   "integrate",
		Short: "Rank the configurations to benchmark next, with hardware recommendations",
		Long: `Rank unmeasured configurations by combined score =
  info-weight × expected_information_gain + decision-weight × decision_value
and print the top --budget as the seed-compatible JSON (SPEC §4), or a table on a terminal.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.saveSet = cmd.Flags().Changed("save")
			return o.run(cmd.Context(), g)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Budget, "budget", engine.DefaultBudget, "number of configurations to recommend")
	f.StringVar(&o.Metric, "metric", "throughput", "metric to optimise: throughput, latency or memory")
	f.StringVar(&o.Output, "output", "", "write the JSON report to `FILE` (atomically)")
	f.BoolVar(&o.Force, "force", false, "overwrite --output if it exists")
	f.Uint64Var(&o.Seed, "seed", 1, "random seed (same data, flags and seed give the same output)")
	f.StringVar(&o.Data, "data", "", "results `FILE` (CSV or JSON) to use instead of the database")
	f.BoolVar(&o.JSON, "json", false, "print JSON even on a terminal")
	f.StringVar(&o.Save, "save", "", "save the ranking as a session called `NAME`")
	f.StringSliceVar(&o.Hardware, "hardware", nil, "candidate `HARDWARE` ids (default: the eight backends, catalog additions and measured hardware)")
	f.StringSliceVar(&o.Models, "model", nil, "candidate `MODEL` ids (default: the built-in models, catalog additions and measured models)")
	f.IntVar(&o.MaxPerHardware, "max-per-hardware", 0, "cap the picks per hardware (0: no cap)")
	f.BoolVar(&o.Availability, "availability-weighted", false, "weight candidates by their hardware's availability")
	f.Float64Var(&o.InfoWeight, "info-weight", engine.DefaultInfoWeight, "weight of expected information gain in the combined score")
	f.Float64Var(&o.DecisionWeight, "decision-weight", engine.DefaultDecisionWeight, "weight of decision value in the combined score")
	f.Float64Var(&o.MaxPower, "max-power", 0, "exclude hardware above this TDP in watts from recommendations")
	f.Float64Var(&o.MinMemory, "min-memory", 0, "exclude hardware with less memory (GB) from recommendations")
	withRange(f, "budget", 1, maxBudget)
	withRange(f, "seed", 0, math.MaxUint64)
	withRange(f, "max-per-hardware", 0, maxBudget)
	withRange(f, "info-weight", 0, maxWeight)
	withRange(f, "decision-weight", 0, maxWeight)
	withRange(f, "max-power", 0, maxPowerW)
	withRange(f, "min-memory", 0, maxMemoryGB)
	o.Gen.add(f, false)
	return cmd
}

// params turns the flags into ranking parameters, refusing bad values
// with a usage error that names the flag.
func (o *integrateOptions) params() (engine.RankParams, error) {
	metric, err := parseMetric(o.Metric)
	if err != nil {
		return engine.RankParams{}, err
	}
	if o.InfoWeight+o.DecisionWeight == 0 {
		return engine.RankParams{}, usagef("--info-weight/--decision-weight: both are zero (give at least one a positive weight)")
	}
	if o.saveSet {
		if err := safetext.CheckID(o.Save); err != nil {
			return engine.RankParams{}, usagef("--save: %v", err)
		}
	}
	if o.Save != "" && o.Data != "" {
		return engine.RankParams{}, usagef("--save: sessions live in the database; it cannot be combined with --data")
	}
	if err := o.Gen.check(); err != nil {
		return engine.RankParams{}, err
	}
	return engine.RankParams{Metric: metric, Budget: o.Budget, Seed: o.Seed, InfoWeight: o.InfoWeight, DecisionWeight: o.DecisionWeight,
		Models: o.Models, Hardware: o.Hardware, MaxPerHardware: o.MaxPerHardware, AvailabilityWeighted: o.Availability,
		Constraints:  engine.Constraints{MaxPowerW: o.MaxPower, MinMemoryGB: o.MinMemory},
		PromptTokens: o.Gen.PromptTokens, OutputTokens: o.Gen.OutputTokens, GPUCount: o.Gen.GPUCount}, nil
}

func (o *integrateOptions) run(ctx context.Context, g *globalOptions) error {
	params, err := o.params()
	if err != nil {
		return err
	}
	ds, err := g.load(ctx, o.Data)
	if err != nil {
		return err
	}
	defer ds.Close()
	if err := checkHardware(ds.cat, o.Hardware...); err != nil {
		return err
	}
	for _, id := range o.Models {
		if err := checkModel(ds.cat, id); err != nil {
			return err
		}
	}
	rep, _, err := engine.Plan(ctx, ds.cat, ds.results, params, g.now())
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	data = append(safetext.CleanJSON(data), '\n')
	if o.Save != "" {
		sess := store.Session{Name: o.Save, Params: store.SessionParams{RankParams: params}, Report: rep}
		if err := ds.db.SaveSession(ctx, sess); err != nil {
			return err
		}
		fmt.Fprintf(g.io.Err, "saved session %s (%d rows)\n", safetext.Quote(o.Save), len(rep.Recommendations))
	}
	if o.Output != "" {
		if err := formats.WriteFileAtomic(o.Output, data, o.Force); err != nil {
			return err
		}
		fmt.Fprintf(g.io.Err, "wrote %s (%d recommendations)\n", safetext.Clean(o.Output), len(rep.Recommendations))
		if g.io.TTY && !o.JSON {
			printReport(g.io.Out, rep)
		}
		return nil
	}
	if o.JSON || !g.io.TTY {
		_, err = g.io.Out.Write(data)
		return err
	}
	printReport(g.io.Out, rep)
	return nil
}

func printReport(w io.Writer, rep *engine.Report) {
	m := rep.OptimizationMetric
	fmt.Fprintf(w, "Top %d of %d candidates, optimising %s (data: %s)\n\n", rep.FinalRecommendations, rep.TotalCandidates, m, dataLine(rep.Data))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "#\tMODEL\tHARDWARE\tBATCH\tPREC\tTOKENS\t%s (80%%)\tINFO\tDECIDE\tRECOMMENDED\tSCORE\n", strings.ToUpper(string(m)))
	for _, r := range rep.Recommendations {
		iv := r.Predicted.Get(m)
		match := "="
		if !r.HardwareMatch {
			match = fmt.Sprintf("≠ %+.0f%%", r.ExpectedImprovementPct)
		}
		tokens := "–"
		if r.Phase != engine.Forward {
			tokens = fmt.Sprintf("%d+%d", r.PromptTokens, r.OutputTokens)
			if r.GPUCount > 1 {
				tokens += fmt.Sprintf(" ×%d", r.GPUCount)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.3f\t%.3f\t%s %s\t%.3f\n", rankText(r.Rank), safetext.Clean(r.ModelName), safetext.Clean(r.Hardware),
			r.BatchSize, safetext.Clean(string(r.Precision)), tokens, formatInterval(iv, r.Config().Unit(m)), r.ExpectedInformationGain, r.DecisionValue,
			safetext.Clean(r.RecommendedHardware), match, r.CombinedScore)
	}
	tw.Flush()
}

// rankText is a row's rank, or – for a row a saved session keeps after its
// ranking (selected, not in it: see store.Session).
func rankText(rank int) string {
	if rank <= 0 {
		return "–"
	}
	return fmt.Sprint(rank)
}

func dataLine(d engine.DataSummary) string {
	if d.Benchmarks == 0 {
		return "no measured results: roofline prior only"
	}
	var parts []string
	for _, src := range sortedKeys(d.Sources) {
		parts = append(parts, fmt.Sprintf("%d %s", d.Sources[src], safetext.Clean(src)))
	}
	return fmt.Sprintf("%d results: %s", d.Benchmarks, strings.Join(parts, ", "))
}

func formatInterval(iv engine.Interval, unit string) string {
	mark := ""
	if iv.Measured {
		mark = " measured"
	}
	return fmt.Sprintf("%s [%s–%s] %s%s", num(iv.Value), num(iv.Low), num(iv.High), unit, mark)
}

// num prints 3–4 significant digits without exponent noise.
func num(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 100:
		return fmt.Sprintf("%.1f", v)
	case v >= 10:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
