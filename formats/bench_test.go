package formats

import (
	"strings"
	"testing"

	"perfpilot/engine"
)

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
		pf, err := ParseResults("bench.json", strings.NewReader(data), cat, ParseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(pf.Results) != 100_000 {
			b.Fatalf("parsed %d", len(pf.Results))
		}
	}
}
