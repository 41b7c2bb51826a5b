package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/formats"
	"perfpilot/safetext"
	"perfpilot/store"
)

type importOptions struct {
	Source           string
	DryRun           bool
	AllowImplausible bool
}

func newImportCmd(g *globalOptions) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import [FILE]",
		Short: "Import measured benchmark results (CSV or JSON) and --catalog additions; a file with any bad row is rejected whole",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("import: want one FILE, got %d arguments", len(args))
			}
			if len(args) == 0 && len(g.Catalogs) == 0 {
				return usagef("import: want a results FILE, or --catalog FILE to store catalog additions")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			file := ""
			if len(args) == 1 {
				file = args[0]
			}
			return o.run(cmd.Context(), g, file)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Source, "source", "", "source `LABEL` for rows without one (default import:<file name>)")
	f.BoolVar(&o.DryRun, "dry-run", false, "check the file and report what would be added, writing nothing")
	f.BoolVar(&o.AllowImplausible, "allow-implausible", false, "keep rows that fail the plausibility checks, flagged, instead of rejecting the file")
	return cmd
}

// run parses the whole file first, then stores the catalog additions and
// the results: a bad file changes nothing.
func (o *importOptions) run(ctx context.Context, g *globalOptions, file string) error {
	if o.Source != "" {
		if err := safetext.CheckID(o.Source); err != nil {
			return usagef("--source: %v", err)
		}
	}
	db, cat, err := g.openWithCatalog(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var pf *formats.ParsedFile
	if file != "" {
		in, err := formats.OpenInput(ctx, file)
		if err != nil {
			return err
		}
		defer in.Close()
		if pf, err = formats.ParseResults(file, in, cat, formats.ParseOptions{Source: o.Source, AllowImplausible: o.AllowImplausible}); err != nil {
			return err
		}
		if len(pf.UnknownColumns) > 0 {
			fmt.Fprintf(g.io.Out, "ignored unknown columns: %s\n", safetext.Clean(strings.Join(pf.UnknownColumns, ", ")))
		}
	}
	if o.DryRun {
		if pf != nil {
			fmt.Fprintf(g.io.Out, "%s: %d valid %s rows; nothing written (--dry-run)\n", safetext.Clean(file), len(pf.Results), pf.Format)
		}
		return nil
	}
	if len(g.Catalogs) > 0 {
		// Store only what the --catalog files add, self-contained.
		fresh, err := g.catalog(ctx, nil)
		if err != nil {
			return err
		}
		if doc := fresh.Additions(); doc != nil {
			if err := db.SaveCatalogAdditions(ctx, strings.Join(g.Catalogs, ","), doc); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "stored catalog additions from %s\n", safetext.Clean(strings.Join(g.Catalogs, ", ")))
		}
	}
	if pf == nil {
		return nil
	}
	added, dups, err := db.InsertResults(ctx, pf.Results)
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	fmt.Fprintf(g.io.Out, "%s: added %d results, skipped %d exact duplicates (%d rows, %s)\n", safetext.Clean(file), added, dups, len(pf.Results), pf.Format)
	sources := engine.Summarize(pf.Results).Sources
	for _, src := range sortedKeys(sources) {
		fmt.Fprintf(g.io.Out, "  source %s: %d rows\n", safetext.Clean(src), sources[src])
	}
	flagged := 0
	for _, r := range pf.Results {
		if r.Flag != "" {
			flagged++
		}
	}
	if flagged > 0 {
		fmt.Fprintf(g.io.Out, "  %d rows kept flagged implausible (--allow-implausible)\n", flagged)
	}
	// Rows the model, fitted on everything now stored, finds far outside
	// what every other measurement predicts.
	anomalies, err := modelFlags(ctx, db, cat)
	if err != nil {
		return err
	}
	for i, r := range pf.Results {
		for _, f := range anomalies[r.Config] {
			if f.Deviates(r) {
				fmt.Fprintf(g.io.Out, "  line %d: %s: %s — check it\n", pf.Lines[i], safetext.Clean(r.Config.String()), f.WhyFor(r))
			}
		}
	}
	return nil
}

// modelFlags fits the predictor on every stored result and returns its
// flags per configuration (engine.Flag: measured far outside what the
// other measurements predict).
func modelFlags(ctx context.Context, db *store.DB, cat *engine.Catalog) (map[engine.Config][]engine.Flag, error) {
	stored, err := db.Results(ctx, store.ResultFilter{})
	if err != nil {
		return nil, err
	}
	rs := make([]engine.Result, len(stored))
	for i, r := range stored {
		rs[i] = r.Result
	}
	p, err := engine.NewPredictor(ctx, cat, rs, engine.PredictorOptions{})
	if err != nil {
		return nil, err
	}
	out := map[engine.Config][]engine.Flag{}
	for _, f := range p.Flags() {
		out[f.Config] = append(out[f.Config], f)
	}
	return out, nil
}

func newBenchmarksCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "benchmarks", Short: "List or delete measured results"}
	var source string
	var asJSON, check bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List measured results with their provenance",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := g.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			rs, err := db.Results(cmd.Context(), store.ResultFilter{Source: source, WithExcluded: true})
			if err != nil {
				return err
			}
			// Marking anomalies fits the model: on a terminal always, piped
			// with --check.
			anomalies := map[engine.Config][]engine.Flag{}
			if check || (g.io.TTY && !asJSON) {
				cat, err := g.catalog(cmd.Context(), db)
				if err != nil {
					return err
				}
				if anomalies, err = modelFlags(cmd.Context(), db, cat); err != nil {
					return err
				}
			}
			why := func(r engine.Result) string {
				var parts []string
				if r.Flag != "" {
					parts = append(parts, safetext.Clean(r.Flag))
				}
				for _, f := range anomalies[r.Config] {
					if f.Deviates(r) {
						parts = append(parts, "⚠ "+f.WhyFor(r))
					}
				}
				return strings.Join(parts, "; ")
			}
			if asJSON || !g.io.TTY {
				type row struct {
					ID int64 `json:"id"`
					engine.Result
					Excluded  bool          `json:"excluded,omitempty"`
					Anomalies []engine.Flag `json:"anomalies,omitempty"`
				}
				out := make([]row, len(rs))
				for i, r := range rs {
					out[i] = row{ID: r.ID, Result: r.Result, Excluded: r.Excluded}
					for _, f := range anomalies[r.Config] {
						if f.Deviates(r.Result) {
							out[i].Anomalies = append(out[i].Anomalies, f)
						}
					}
				}
				return encodeJSON(g, out)
			}
			tw := tabwriter.NewWriter(g.io.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMODEL\tHARDWARE\tBATCH\tPREC\tSEQ\tTHROUGHPUT\tLATENCY MS\tMEMORY MB\tMEASURED\tSOURCE\tFLAG")
			excluded := 0
			for _, r := range rs {
				when := "–" // the source did not say
				if !r.Timestamp.IsZero() {
					when = r.Timestamp.UTC().Format("2006-01-02 15:04")
				}
				flag := why(r.Result)
				if r.Excluded {
					excluded++
					flag = strings.TrimSuffix("excluded; "+flag, "; ")
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, safetext.Clean(r.Model), safetext.Clean(r.Hardware),
					r.BatchSize, safetext.Clean(string(r.Precision)), r.SequenceLength, opt(r.Throughput), opt(r.LatencyMS), opt(r.MemoryMB),
					when, safetext.Clean(r.Source), flag)
			}
			tw.Flush()
			fmt.Fprintf(g.io.Out, "%d results (%d excluded from learning: benchmarks include ID restores one)\n", len(rs), excluded)
			return nil
		},
	}
	list.Flags().StringVar(&source, "source", "", "only results from this source `LABEL`")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	list.Flags().BoolVar(&check, "check", false, "mark rows the model finds far outside what every other measurement predicts (always on a terminal)")
	var delSource string
	del := &cobra.Command{
		Use:   "delete --source LABEL",
		Short: "Delete every result from one source",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if delSource == "" {
				return usagef("benchmarks delete: --source is required (see `perfpilot benchmarks list`)")
			}
			db, err := g.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := db.DeleteSource(cmd.Context(), delSource)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "deleted %d results from source %s\n", n, safetext.Quote(delSource))
			return nil
		},
	}
	del.Flags().StringVar(&delSource, "source", "", "source `LABEL` whose results to delete")
	return group(cmd, list, del, newExcludeCmd(g, true), newExcludeCmd(g, false))
}

// newExcludeCmd is benchmarks exclude (or include): results stay stored
// and listed, but nothing learns from an excluded one until it is included
// again.
func newExcludeCmd(g *globalOptions, exclude bool) *cobra.Command {
	name, short := "include", "Learn from excluded results again"
	if exclude {
		name, short = "exclude", "Stop learning from results (e.g. ones flagged ⚠ in benchmarks list); reversible with include"
	}
	return &cobra.Command{
		Use:   name + " ID...",
		Short: short,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("benchmarks %s: want result IDs (see `perfpilot benchmarks list`)", name)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := make([]int64, len(args))
			for i, a := range args {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil || id <= 0 {
					return usagef("benchmarks %s: %s is not a result ID", name, safetext.Quote(a))
				}
				ids[i] = id
			}
			db, err := g.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := db.SetExcluded(cmd.Context(), ids, exclude)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "%sd %d results (%d already were)\n", name, n, len(ids)-n)
			return nil
		},
	}
}

func opt(v float64) string {
	if v == 0 {
		return "–"
	}
	return num(v)
}

func newSessionsCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "sessions", Short: "List, show, rename or delete saved sessions"}
	var asJSON bool
	withDB := func(fn func(ctx context.Context, db *store.DB, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			db, err := g.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			return fn(cmd.Context(), db, args)
		}
	}
	nargs := func(n int, use string) cobra.PositionalArgs {
		return func(cmd *cobra.Command, args []string) error {
			if len(args) != n {
				return usagef("sessions %s", use)
			}
			return nil
		}
	}
	list := &cobra.Command{Use: "list", Short: "List sessions", Args: noArgs,
		RunE: withDB(func(ctx context.Context, db *store.DB, _ []string) error {
			ss, err := db.Sessions(ctx)
			if err != nil {
				return err
			}
			if asJSON || !g.io.TTY {
				type row struct {
					Name     string        `json:"name"`
					Metric   engine.Metric `json:"metric"`
					Budget   int           `json:"budget"`
					Rows     int           `json:"rows"`
					Selected int           `json:"selected"`
					Created  string        `json:"created_at"`
					Updated  string        `json:"updated_at"`
				}
				out := make([]row, len(ss))
				for i, s := range ss {
					out[i] = row{s.Name, s.Metric, s.Budget, s.Rows, s.Selected, engine.FormatTimestamp(s.CreatedAt), engine.FormatTimestamp(s.UpdatedAt)}
				}
				return encodeJSON(g, out)
			}
			tw := tabwriter.NewWriter(g.io.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tMETRIC\tBUDGET\tROWS\tSELECTED\tUPDATED")
			for _, s := range ss {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", safetext.Clean(s.Name), safetext.Clean(string(s.Metric)), s.Budget, s.Rows, s.Selected,
					s.UpdatedAt.Local().Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		})}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show := &cobra.Command{Use: "show NAME", Short: "Show a session's parameters and ranked rows", Args: nargs(1, "show: want NAME"),
		RunE: withDB(func(ctx context.Context, db *store.DB, args []string) error {
			s, err := db.Session(ctx, args[0])
			if err != nil {
				return err
			}
			if asJSON || !g.io.TTY {
				return encodeJSON(g, struct {
					Name     string              `json:"name"`
					Params   store.SessionParams `json:"params"`
					Selected []int               `json:"selected"`
					Report   *engine.Report      `json:"report"`
				}{s.Name, s.Params, s.Selected, s.Report})
			}
			fmt.Fprintf(g.io.Out, "session %s: metric %s, budget %d, seed %d, saved %s\n", safetext.Quote(s.Name), safetext.Clean(string(s.Params.Metric)),
				s.Params.Budget, s.Params.Seed,
				s.UpdatedAt.Local().Format("2006-01-02 15:04"))
			sel := map[int]bool{}
			for _, i := range s.Selected {
				sel[i] = true
			}
			printReport(g.io.Out, s.Report)
			if len(s.Selected) > 0 {
				var names []string
				for _, i := range s.Selected {
					names = append(names, rankText(s.Report.Recommendations[i].Rank))
				}
				fmt.Fprintf(g.io.Out, "\nselected ranks: %s\n", strings.Join(names, ", "))
			}
			return nil
		})}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rename := &cobra.Command{Use: "rename OLD NEW", Short: "Rename a session",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := nargs(2, "rename: want OLD NEW")(cmd, args); err != nil {
				return err
			}
			if err := safetext.CheckID(args[1]); err != nil { // a bad name on the command line is a usage error, as for --save
				return usagef("rename: new session name: %v", err)
			}
			return nil
		},
		RunE: withDB(func(ctx context.Context, db *store.DB, args []string) error {
			if err := db.RenameSession(ctx, args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "renamed %s to %s\n", safetext.Quote(args[0]), safetext.Quote(args[1]))
			return nil
		})}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a session", Args: nargs(1, "delete: want NAME"),
		RunE: withDB(func(ctx context.Context, db *store.DB, args []string) error {
			if err := db.DeleteSession(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "deleted session %s\n", safetext.Quote(args[0]))
			return nil
		})}
	return group(cmd, list, show, rename, del)
}

type exportOptions struct {
	Session, Format, Output, Template, OutputDir, Placement string
	Force                                                   bool
}

func newExportCmd(g *globalOptions) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export --session NAME --format json|csv|sh|k8s",
		Short: "Export a session's selected rows (all rows when none are selected)",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), g) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Session, "session", "", "session `NAME`")
	f.StringVar(&o.Format, "format", "json", "`FORMAT`: json, csv, sh (a shell script of benchmark commands) or k8s (Kubernetes Indexed Job manifests, YAML)")
	f.StringVar(&o.Placement, "placement", "", "k8s: placement `FILE` (default: the one stored with the session by `run --placement`)")
	f.StringVar(&o.Output, "output", "", "`FILE` to write (atomically); stdout when empty")
	f.BoolVar(&o.Force, "force", false, "overwrite --output if it exists")
	f.StringVar(&o.Template, "template", cmdtmpl.Default, "sh: benchmark command `TEMPLATE` (rules: README Safety); placeholders "+cmdtmpl.PlaceholderList())
	f.StringVar(&o.OutputDir, "output-dir", cmdtmpl.DefaultOutputDir, "sh: `DIR` substituted for {output_dir}")
	return cmd
}

func (o *exportOptions) run(ctx context.Context, g *globalOptions) error {
	if o.Session == "" {
		return usagef("export: --session is required (see `perfpilot sessions list`)")
	}
	if o.Format != "json" && o.Format != "csv" && o.Format != "sh" && o.Format != "k8s" {
		return usagef("--format: unknown %s (valid: json, csv, sh, k8s)", safetext.Quote(o.Format))
	}
	if o.Format == "sh" || o.Format == "k8s" {
		if _, err := cmdtmpl.Parse(o.Template); err != nil {
			return templateUsage(err)
		}
	}
	db, err := g.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := db.Session(ctx, o.Session)
	if err != nil {
		return err
	}
	rows := s.Report.Recommendations
	if len(s.Selected) > 0 {
		rows = nil
		for _, i := range s.Selected {
			rows = append(rows, s.Report.Recommendations[i])
		}
	}
	var data []byte
	switch o.Format {
	case "json":
		data, err = formats.ExportJSON(s.Report, rows)
	case "csv":
		data, err = formats.ExportCSV(rows, s.Report.OptimizationMetric)
	case "sh":
		var script string
		script, err = formats.ExportScript(rows, o.Template, o.OutputDir)
		data = []byte(script)
	case "k8s":
		data, err = o.k8s(s, rows)
	}
	if err != nil {
		return err
	}
	if o.Output == "" {
		if g.io.TTY { // a CSV cell from an old database may hold controls: show them, do not obey them
			data = []byte(safetext.CleanLines(string(data)))
		}
		_, err = g.io.Out.Write(data)
		return err
	}
	if o.Format == "sh" {
		err = formats.WriteScript(o.Output, string(data), o.Force)
	} else {
		err = formats.WriteFileAtomic(o.Output, data, o.Force)
	}
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists: refusing to overwrite (use --force)", safetext.Quote(o.Output))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.io.Err, "wrote %d rows to %s\n", len(rows), safetext.Clean(o.Output))
	return nil
}
