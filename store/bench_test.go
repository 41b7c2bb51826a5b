package store

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"perfpilot/engine"
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
		sum, err := db.Import(ctx, "bench.csv", strings.NewReader(data), cat, "")
		if err != nil {
			b.Fatal(err)
		}
		if sum.Added != 100_000 {
			b.Fatalf("added %d", sum.Added)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

// BenchmarkParseJSON100k measures the streaming JSON reader alone.
func BenchmarkParseJSON100k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[\n")
	for i, line := range strings.Split(strings.TrimSpace(genCSV(100_000, "")), "\n")[1:] {
		f := strings.Split(line, ",")
		if i > 0 {
			sb.WriteString(",\n")
		}
		sb.WriteString(`  {"model_name": "` + f[0] + `", "hardware": "` + f[1] + `", "batch_size": ` + f[2] + `, "precision": "` + f[3] +
			`", "sequence_length": ` + f[4] + `, "throughput": ` + f[5] + `, "latency_ms": ` + f[6] + `, "memory_mb": ` + f[7] + `}`)
	}
	sb.WriteString("\n]\n")
	data := sb.String()
	cat := engine.MustBuiltinCatalog()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pf, err := ParseResults("bench.json", strings.NewReader(data), cat, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(pf.Results) != 100_000 {
			b.Fatalf("parsed %d", len(pf.Results))
		}
	}
}
