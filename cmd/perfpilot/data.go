package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/formats"
	"perfpilot/store"
)

func init() {
	extraCommands = append(extraCommands, newImportCmd, newBenchmarksCmd, newSessionsCmd, newExportCmd)
}

type importOptions struct {
	Source string
	DryRun bool
}

func newImportCmd(g *globalOptions) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import measured benchmark results (CSV or JSON); a file with any bad row is rejected whole",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("import: want exactly one FILE, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), g, args[0]) },
	}
	cmd.Flags().StringVar(&o.Source, "source", "", "source label for rows without one (default import:<file name>)")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "check the file and report what would be added, writing nothing")
	return cmd
}

func (o *importOptions) run(ctx context.Context, g *globalOptions, file string) error {
	db, cat, err := g.openWithCatalog(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	pf, err := formats.ParseResults(file, f, cat, formats.ParseOptions{Source: o.Source})
	if err != nil {
		return err
	}
	if len(pf.UnknownColumns) > 0 {
		fmt.Fprintf(g.out, "ignored unknown columns: %s\n", strings.Join(pf.UnknownColumns, ", "))
	}
	if o.DryRun {
		fmt.Fprintf(g.out, "%s: %d valid %s rows; nothing written (--dry-run)\n", file, len(pf.Results), pf.Format)
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
			fmt.Fprintf(g.out, "stored catalog additions from %s\n", strings.Join(g.Catalogs, ", "))
		}
	}
	added, dups, err := db.InsertResults(ctx, pf.Results)
	if err != nil {
		return fmt.Errorf("import %s: %w", file, err)
	}
	fmt.Fprintf(g.out, "%s: added %d results, skipped %d exact duplicates (%d rows, %s)\n", file, added, dups, len(pf.Results), pf.Format)
	for _, src := range sortedKeys(engine.Summarize(pf.Results).Sources) {
		fmt.Fprintf(g.out, "  source %s: %d rows\n", src, engine.Summarize(pf.Results).Sources[src])
	}
	return nil
}

func newBenchmarksCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "benchmarks", Short: "List or delete measured results"}
	var source string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List measured results with their provenance",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := g.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			rs, err := db.Results(cmd.Context(), store.ResultFilter{Source: source})
			if err != nil {
				return err
			}
			if asJSON || !g.tty {
				type row struct {
					ID int64 `json:"id"`
					engine.Result
				}
				out := make([]row, len(rs))
				for i, r := range rs {
					out[i] = row{r.ID, r.Result}
				}
				return encodeJSON(g, out)
			}
			tw := tabwriter.NewWriter(g.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMODEL\tHARDWARE\tBATCH\tPREC\tSEQ\tTHROUGHPUT\tLATENCY MS\tMEMORY MB\tSOURCE")
			for _, r := range rs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\n", r.ID, r.Model, r.Hardware, r.BatchSize, r.Precision,
					r.SequenceLength, opt(r.Throughput), opt(r.LatencyMS), opt(r.MemoryMB), r.Source)
			}
			tw.Flush()
			fmt.Fprintf(g.out, "%d results\n", len(rs))
			return nil
		},
	}
	list.Flags().StringVar(&source, "source", "", "only results from this source")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var delSource string
	del := &cobra.Command{
		Use:   "delete --source S",
		Short: "Delete every result from one source",
		Args:  cobra.NoArgs,
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
			fmt.Fprintf(g.out, "deleted %d results from source %q\n", n, delSource)
			return nil
		},
	}
	del.Flags().StringVar(&delSource, "source", "", "source whose results to delete")
	cmd.AddCommand(list, del)
	return cmd
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
	list := &cobra.Command{Use: "list", Short: "List sessions", Args: cobra.NoArgs,
		RunE: withDB(func(ctx context.Context, db *store.DB, _ []string) error {
			ss, err := db.Sessions(ctx)
			if err != nil {
				return err
			}
			if asJSON || !g.tty {
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
			tw := tabwriter.NewWriter(g.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tMETRIC\tBUDGET\tROWS\tSELECTED\tUPDATED")
			for _, s := range ss {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", s.Name, s.Metric, s.Budget, s.Rows, s.Selected, s.UpdatedAt.Local().Format("2006-01-02 15:04"))
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
			if asJSON || !g.tty {
				return encodeJSON(g, struct {
					Name     string              `json:"name"`
					Params   store.SessionParams `json:"params"`
					Selected []int               `json:"selected"`
					Report   *engine.Report      `json:"report"`
				}{s.Name, s.Params, s.Selected, s.Report})
			}
			fmt.Fprintf(g.out, "session %q: metric %s, budget %d, seed %d, saved %s\n", s.Name, s.Params.Metric, s.Params.Budget, s.Params.Seed,
				s.UpdatedAt.Local().Format("2006-01-02 15:04"))
			sel := map[int]bool{}
			for _, i := range s.Selected {
				sel[i] = true
			}
			printReport(g.out, s.Report)
			if len(s.Selected) > 0 {
				var names []string
				for _, i := range s.Selected {
					names = append(names, fmt.Sprint(s.Report.Recommendations[i].Rank))
				}
				fmt.Fprintf(g.out, "\nselected ranks: %s\n", strings.Join(names, ", "))
			}
			return nil
		})}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rename := &cobra.Command{Use: "rename OLD NEW", Short: "Rename a session", Args: nargs(2, "rename: want OLD NEW"),
		RunE: withDB(func(ctx context.Context, db *store.DB, args []string) error {
			if err := db.RenameSession(ctx, args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(g.out, "renamed %q to %q\n", args[0], args[1])
			return nil
		})}
	del := &cobra.Command{Use: "delete NAME", Short: "Delete a session", Args: nargs(1, "delete: want NAME"),
		RunE: withDB(func(ctx context.Context, db *store.DB, args []string) error {
			if err := db.DeleteSession(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.out, "deleted session %q\n", args[0])
			return nil
		})}
	cmd.AddCommand(list, show, rename, del)
	return cmd
}

type exportOptions struct {
	Session, Format, Output, Template, OutputDir string
	Force                                        bool
}

func newExportCmd(g *globalOptions) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export --session NAME --format json|csv|sh",
		Short: "Export a session's selected rows (all rows when none are selected)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(cmd.Context(), g) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Session, "session", "", "session name")
	f.StringVar(&o.Format, "format", "json", "json, csv or sh (a shell script of benchmark commands)")
	f.StringVar(&o.Output, "output", "", "file to write (atomically); stdout when empty")
	f.BoolVar(&o.Force, "force", false, "overwrite --output if it exists")
	f.StringVar(&o.Template, "template", cmdtmpl.Default, "sh: benchmark command template; placeholders {model} {hardware} {batch_size} {precision} {sequence_length} {output_dir}")
	f.StringVar(&o.OutputDir, "output-dir", cmdtmpl.DefaultOutputDir, "sh: value of {output_dir}")
	return cmd
}

func (o *exportOptions) run(ctx context.Context, g *globalOptions) error {
	if o.Session == "" {
		return usagef("export: --session is required (see `perfpilot sessions list`)")
	}
	if o.Format != "json" && o.Format != "csv" && o.Format != "sh" {
		return usagef("--format: unknown %q (valid: json, csv, sh)", o.Format)
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
	}
	if err != nil {
		return err
	}
	if o.Output == "" {
		_, err = g.out.Write(data)
		return err
	}
	if o.Format == "sh" {
		err = formats.WriteScript(o.Output, string(data), o.Force)
	} else {
		err = formats.WriteFileAtomic(o.Output, data, o.Force)
	}
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists: refusing to overwrite (use --force)", o.Output)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.errOut, "wrote %d rows to %s\n", len(rows), o.Output)
	return nil
}
