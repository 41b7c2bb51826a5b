package store

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"perfpilot/engine"
	"perfpilot/formats"
)

// BenchmarkImport100k parses and stores a 100,000-row CSV file into a fresh
// database (target: at most 5 s per import).
func BenchmarkImport100k(b *testing.B) {
	data := genCSV(100_000, "")
	cat := engine.MustBuiltinCatalog()
	ctx := context.Background()
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := Open(ctx, filepath.Join(dir, "bench"+strconv.Itoa(i)+".db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		pf, err := formats.ParseResults("bench.csv", strings.NewReader(data), cat, formats.ParseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		added, _, err := db.InsertResults(ctx, pf.Results)
		if err != nil {
			b.Fatal(err)
		}
		if added != 100_000 {
			b.Fatalf("added %d", added)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}
