package main

import (
	"context"

	"perfpilot/engine"
	"perfpilot/store"
	"perfpilot/tui"
)

// runTUI opens the dashboard on db until the user quits.
func runTUI(ctx context.Context, db *store.DB, cat *engine.Catalog, metric engine.Metric, budget int, seed uint64) error {
	return tui.Run(ctx, tui.Options{DB: db, Catalog: cat, Metric: metric, Budget: budget, Seed: seed})
}
