package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"perfpilot/engine"
	"perfpilot/store"
)

// BenchmarkOpenAndIntegrate100k: open a database holding 100,000 results and
// run integrate through the CLI path (target ≤ 3 s).
func BenchmarkOpenAndIntegrate100k(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "big.db")
	cat := engine.MustBuiltinCatalog()
	db, err := store.Open(ctx, path, store.WithSeed(func() []engine.Result { return engine.DemoHistory(cat) }))
	if err != nil {
		b.Fatal(err)
	}
	space := engine.DefaultSpace(cat)
	var rs []engine.Result
	for round := uint64(0); len(rs) < 100_000; round++ {
		batch := engine.SimulateHistory(cat, engine.DemoWorld, space, 1000, round+100)
		for i := range batch {
			batch[i].Source = fmt.Sprintf("bench-%d", round)
		}
		rs = append(rs, batch...)
	}
	rs = rs[:100_000]
	if _, _, err := db.InsertResults(ctx, rs); err != nil {
		b.Fatal(err)
	}
	n, _ := db.CountResults(ctx)
	db.Close()
	if n < 100_000 {
		b.Fatalf("database holds %d results", n)
	}
	b.ResetTimer()
	for b.Loop() {
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"--db", path, "integrate", "--budget", "10", "--json"}, IO{Out: &out, Err: &errOut}); code != 0 {
			b.Fatalf("integrate: %s", errOut.String())
		}
	}
}
