package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"perfpilot/engine"
)

// testClock ticks one second per call from a fixed instant, so stored times
// are deterministic and strictly increasing.
func testClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// openDB opens a database at path with a test clock and closes it at the
// end of the test.
func openDB(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, WithSeed(func() []engine.Result { return engine.DemoHistory(engine.MustBuiltinCatalog()) }), WithClock(testClock()))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newDB opens a fresh database in the test's temp dir.
func newDB(t testing.TB) *DB {
	t.Helper()
	return openDB(t, filepath.Join(t.TempDir(), "perfpilot.db"))
}

func countResults(t testing.TB, db *DB) int {
	t.Helper()
	n, err := db.CountResults(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// genCSV builds an import file of n distinct valid rows over built-in
// models and hardware.
func genCSV(n int, source string) string {
	models := []string{"bert-base-uncased", "gpt2", "t5-small", "facebook/opt-125m"}
	hws := []string{"cpu", "cuda", "rocm", "mps", "openvino", "qnn"}
	precs := []string{"fp32", "fp16", "int8"}
	var b strings.Builder
	b.Grow(n * 80)
	b.WriteString("model_name,hardware,batch_size,precision,sequence_length,throughput,latency_ms,memory_mb,source\n")
	for i := 0; i < n; i++ {
		batch := 1 << (i % 7)
		thr := 10 + float64(i)*0.25
		hw, prec := hws[(i/4)%len(hws)], precs[(i/24)%len(precs)]
		if (hw == "mps" && prec == "int8") || (hw == "cpu" && prec == "fp16") {
			prec = "fp32" // the catalog says the hardware lacks it: the row would be implausible
		}
		fmt.Fprintf(&b, "%s,%s,%d,%s,128,%g,%g,%g,%s\n", models[i%len(models)], hw, batch,
			prec, thr, float64(batch)*1000/thr, 500+float64(i%1000), source)
	}
	return b.String()
}
