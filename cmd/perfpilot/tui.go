package main

import (
	"context"

	"perfpilot/engine"
	"perfpilot/runner/placement"
	"perfpilot/store"
	"perfpilot/tui"
)

// runTUI opens the dashboard on db until the user quits. asked says the
// user gave --read-only (else a read-only database could not be written).
func runTUI(ctx context.Context, db *store.DB, cat *engine.Catalog, o *tuiOptions, pl *placement.File, metric engine.Metric, asked bool) error {
	var readOnly string
	switch {
	case db.ReadOnly() && asked:
		readOnly = "opened with --read-only"
	case db.ReadOnly():
		readOnly = "this user cannot write " + db.Path() + " or its directory"
	}
	opts := tui.Options{Store: db, Runner: tui.StoreRunner(db), Catalog: cat, Metric: metric, Budget: o.Budget, Seed: o.Seed,
		RunTemplate: o.Template, NoMouse: o.NoMouse, ReadOnly: readOnly}
	if pl != nil {
		opts.Placement, opts.PlacementFile = pl.JSON(), o.Placement
	}
	return tui.Run(ctx, opts)
}
