package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"perfpilot/engine"
	"perfpilot/formats"
	"perfpilot/safetext"
	"perfpilot/store"
)

// usageError marks bad flags or arguments: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// globalOptions are the flags every command shares.
type globalOptions struct {
	DB       string
	Catalogs []string
	// ReadOnly opens the database read-only; it is also chosen by itself
	// when the database or its directory cannot be written.
	ReadOnly bool
	io       IO
	// now is the report clock; SOURCE_DATE_EPOCH pins it for reproducible output.
	now func() time.Time
}

// newRootCmd builds the command tree. started reports whether a command's
// own code began (cobra validated the arguments and flags by then).
func newRootCmd(io IO) (*cobra.Command, *bool) {
	g := &globalOptions{io: io, now: clock()}
	started := new(bool)
	var tuiOpts tuiOptions
	root := &cobra.Command{
		Use:   "perfpilot",
		Short: "Decide which ML benchmarks to run next and which hardware each model belongs on",
		Long: `perfpilot predicts throughput, latency and memory of ML models on hardware
(cpu, cuda, rocm, mps, openvino, qnn, webnn, webgpu) with calibrated 80% intervals,
chooses the configurations whose measurement teaches it most, recommends hardware
with alternatives, and flags configurations on the wrong hardware.

Run with no arguments to open the dashboard.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Args:              noArgs,
		PersistentPreRunE: checkRanges,
		RunE: func(cmd *cobra.Command, args []string) error {
			return tuiOpts.run(cmd.Context(), g)
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%v (see %s --help)", err, cmd.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.DB, "db", "", "SQLite database `FILE` (default $PERFPILOT_DB, else $XDG_DATA_HOME/perfpilot/perfpilot.db)")
	pf.StringArrayVar(&g.Catalogs, "catalog", nil, "catalog JSON `FILE` adding or replacing hardware and models (repeatable)")
	pf.BoolVar(&g.ReadOnly, "read-only", false, "open the database read-only (chosen by itself when it cannot be written)")
	tuiOpts.flags(root)
	// Every command, in one list.
	root.AddCommand(
		newIntegrateCmd(g),
		newPredictCmd(g),
		newRecommendCmd(g),
		newCatalogCmd(g),
		newTUICmd(g),
		newImportCmd(g),
		newBenchmarksCmd(g),
		newSessionsCmd(g),
		newExportCmd(g),
		newRunCmd(g),
		newEvaluateCmd(g),
		newSimulateLoopCmd(g),
	)
	// cobra's own help and completion commands follow the exit contract
	// too: an unknown topic or shell is a usage error (they printed help
	// and exited 0).
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if cmd == nil || err != nil || len(rest) > 0 {
				return usagef("help: unknown command %s (see perfpilot --help)", safetext.Quote(strings.Join(args, " ")))
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		},
	})
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			group(c)
		}
	}
	markStart(root, started)
	return root, started
}

// markStart wraps every command's RunE to record that cobra accepted the
// command line (arguments, flags, required flags) and the command began.
func markStart(cmd *cobra.Command, started *bool) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			*started = true
			return run(c, args)
		}
	}
	for _, sub := range cmd.Commands() {
		markStart(sub, started)
	}
}

// noArgs refuses positional arguments with a usage error naming them.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %s (see %s --help)", cmd.CommandPath(), safetext.Quote(args[0]), cmd.CommandPath())
	}
	return nil
}

// group makes cmd a parent of subcommands: run alone, or with an unknown
// subcommand, it is a usage error naming the valid ones (cobra would print
// help and exit 0).
func group(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.AddCommand(subs...)
	var names []string
	for _, s := range cmd.Commands() {
		names = append(names, s.Name())
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usagef("%s: missing subcommand (valid: %s)", cmd.CommandPath(), strings.Join(names, ", "))
		}
		return usagef("%s: unknown subcommand %s (valid: %s)", cmd.CommandPath(), safetext.Quote(args[0]), strings.Join(names, ", "))
	}
	return cmd
}

func clock() func() time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			t := time.Unix(sec, 0).UTC()
			return func() time.Time { return t }
		}
	}
	return time.Now
}

// catalog builds the catalog: built-ins, additions stored in the database
// (when db is not nil), then --catalog files in order.
func (g *globalOptions) catalog(ctx context.Context, db *store.DB) (*engine.Catalog, error) {
	cat, err := engine.NewBuiltinCatalog()
	if err != nil {
		return nil, err
	}
	if db != nil {
		if err := db.LoadCatalog(ctx, cat); err != nil {
			return nil, err
		}
	}
	for _, f := range g.Catalogs {
		if err := cat.AddFile(f); err != nil {
			return nil, err
		}
	}
	return cat, nil
}

// openDB opens the database at --db / $PERFPILOT_DB / the default path:
// read-only with --read-only or when it cannot be written (then a command
// that writes fails with store.ErrReadOnly).
func (g *globalOptions) openDB(ctx context.Context) (*store.DB, error) {
	path, err := store.ResolvePath(g.DB)
	if err != nil {
		return nil, err
	}
	if g.ReadOnly || !writable(path) {
		return store.Open(ctx, path, store.ReadOnly())
	}
	return store.Open(ctx, path, store.WithSeed(demoSeed))
}

// demoSeed is what a new database starts with: the simulated demo history
// over the built-in catalog (user additions cannot be in a new database).
func demoSeed() []engine.Result { return engine.DemoHistory(engine.MustBuiltinCatalog()) }

// openWithCatalog opens the database and builds the catalog it extends.
func (g *globalOptions) openWithCatalog(ctx context.Context) (*store.DB, *engine.Catalog, error) {
	db, err := g.openDB(ctx)
	if err != nil {
		return nil, nil, err
	}
	cat, err := g.catalog(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, cat, nil
}

// dataset is what a command computes on.
type dataset struct {
	cat     *engine.Catalog
	results []engine.Result
	db      *store.DB // nil with --data
}

func (d *dataset) Close() {
	if d.db != nil {
		d.db.Close()
	}
}

// load returns the catalog and results: from --data FILE when given (the
// database is not touched), else from the database.
func (g *globalOptions) load(ctx context.Context, dataFile string) (*dataset, error) {
	if dataFile != "" {
		cat, err := g.catalog(ctx, nil)
		if err != nil {
			return nil, err
		}
		rs, err := parseDataFile(ctx, dataFile, cat)
		if err != nil {
			return nil, err
		}
		return &dataset{cat: cat, results: rs}, nil
	}
	db, cat, err := g.openWithCatalog(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := db.AllResults(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &dataset{cat: cat, results: rs, db: db}, nil
}

// parseDataFile reads --data FILE: opened like an import file (a regular
// file or a pipe; a device or directory is refused, Ctrl+C ends a wait).
func parseDataFile(ctx context.Context, name string, cat *engine.Catalog) ([]engine.Result, error) {
	f, err := formats.OpenInput(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pf, err := formats.ParseResults(name, f, cat, formats.ParseOptions{})
	if err != nil {
		return nil, err
	}
	return pf.Results, nil
}

// Flag parsing helpers: each returns a usage error naming the bad value and
// the valid ones.

func parseMetric(s string) (engine.Metric, error) {
	m, err := engine.ParseMetric(s)
	if err != nil {
		return "", usagef("--metric: %v", err)
	}
	return m, nil
}

func parsePrecision(s string) (engine.Precision, error) {
	p, err := engine.ParsePrecision(s)
	if err != nil {
		return "", usagef("--precision: %v", err)
	}
	return p, nil
}

func checkModel(cat *engine.Catalog, id string) error {
	if cat.Model(id) == nil {
		return usagef("--model: unknown model %s (valid: %s)", safetext.Quote(id), strings.Join(cat.ModelIDs(), ", "))
	}
	return nil
}

func checkHardware(cat *engine.Catalog, ids ...string) error {
	for _, id := range ids {
		if cat.Hardware(id) == nil {
			return usagef("--hardware: unknown hardware %s (valid: %s)", safetext.Quote(id), strings.Join(cat.HardwareIDs(), ", "))
		}
	}
	return nil
}

// templateUsage turns a cmdtmpl error into the --template usage error
// without saying "template" twice.
func templateUsage(err error) error {
	return usagef("--template: %s", strings.TrimPrefix(err.Error(), "template: "))
}
