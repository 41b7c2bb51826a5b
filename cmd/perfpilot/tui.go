package main

import (
	"context"

	"perfpilot/engine"
	"perfpilot/store"
	"perfpilot/tui"
)

// runTUI opens the dashboard on db until the user quits.
func runTUI(ctx context.Context, db *store.DB, cat *engine.Catalog, o *tuiOptions, metric engine.Metric) error {
	var readOnly string
	if db.ReadOnly() {
		readOnly = db.Path() + " is open read-only"
	}
	return tui.Run(ctx, tui.Options{Store: db, Runner: tui.StoreRunner(db), Catalog: cat, Metric: metric, Budget: o.Budget, Seed: o.Seed,
		RunTemplate: o.Template, NoMouse: o.NoMouse, ReadOnly: readOnly})
}
