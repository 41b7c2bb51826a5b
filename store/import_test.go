package store

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"perfpilot/engine"
	"perfpilot/formats"
)

// importSummary is what the CLI's import reports.
type importSummary struct {
	Rows, Added, Duplicates int
	UnknownColumns          []string
}

// importData parses a file with the built-in catalog and stores it, as
// `perfpilot import` does.
func importData(t *testing.T, db *DB, name string, r io.Reader, source string) (*importSummary, error) {
	t.Helper()
	pf, err := formats.ParseResults(name, r, engine.MustBuiltinCatalog(), formats.ParseOptions{Source: source})
	if err != nil {
		return nil, err
	}
	added, dups, err := db.InsertResults(context.Background(), pf.Results)
	if err != nil {
		return nil, err
	}
	return &importSummary{Rows: len(pf.Results), Added: added, Duplicates: dups, UnknownColumns: pf.UnknownColumns}, nil
}

func TestRejectedImportLeavesDatabaseUnchanged(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	before, err := db.AllResults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"negative.csv": genCSV(500, "") + "gpt2,cpu,-4,fp32,128,1,1,1,x\n",
		"unknown.csv":  genCSV(10, "") + "nope,cpu,4,fp32,128,1,1,1,x\n",
		"garbage.csv":  "\x00\x01\x02\xff",
		"empty.csv":    "",
		"missing.json": `[{"model_name": "gpt2", "hardware": "cpu", "throughput": 1}]`,
	}
	for name, data := range bad {
		if _, err := importData(t, db, name, strings.NewReader(data), ""); err == nil {
			t.Fatalf("%s was accepted", name)
		}
	}
	// Results that slip past parsing are still checked before anything is
	// written, and the slice goes in whole or not at all.
	good := engine.Result{Config: engine.Config{Model: "gpt2", Hardware: "cpu", BatchSize: 1, Precision: engine.FP32, SequenceLength: 64},
		Throughput: 5, Source: "x"}
	invalid := good
	invalid.Throughput = -5
	if _, _, err := db.InsertResults(ctx, []engine.Result{good, invalid}); err == nil {
		t.Fatal("InsertResults accepted a negative throughput")
	}
	after, err := db.AllResults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("database changed: %d results before, %d after", len(before), len(after))
	}
}

func TestReimportSkipsExactDuplicates(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	data := genCSV(200, "")
	// The file repeats its first data row once more at the end.
	lines := strings.SplitAfter(data, "\n")
	data += lines[1]
	first, err := importData(t, db, "bench.csv", strings.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	if first.Added != 200 || first.Duplicates != 1 || first.Rows != 201 {
		t.Fatalf("first import %+v, want 200 added, 1 duplicate of 201 rows", first)
	}
	again, err := importData(t, db, "bench.csv", strings.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	if again.Added != 0 || again.Duplicates != 201 {
		t.Fatalf("re-import %+v, want 0 added, 201 duplicates", again)
	}
	// The same numbers under another source are another measurement set.
	other, err := importData(t, db, "bench.csv", strings.NewReader(data), "rerun")
	if err != nil {
		t.Fatal(err)
	}
	if other.Added != 200 || other.Duplicates != 1 {
		t.Fatalf("import under another source %+v, want 200 added, 1 duplicate", other)
	}
	n, err := db.DeleteSource(ctx, "import:bench.csv")
	if err != nil || n != 200 {
		t.Fatalf("DeleteSource = %d, %v; want 200", n, err)
	}
	stored, err := db.Results(ctx, ResultFilter{Source: "simulated"})
	if err != nil || len(stored) == 0 || stored[0].ID == 0 || stored[0].ImportedAt.IsZero() {
		t.Fatalf("simulated results after delete: %d, %v", len(stored), err)
	}
}

// TestImportPublishedTensorRTData imports the real measured data set the
// project keeps beside it (its GPUs are built-in catalog entries).
func TestImportPublishedTensorRTData(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "data", "tensorrt-bert.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("published data not present: %v", err)
	}
	db := newDB(t)
	sum, err := importData(t, db, "tensorrt-bert.csv", bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(firstLine(err))
	}
	if sum.Rows != 2955 || sum.Added != 2955 || !reflect.DeepEqual(sum.UnknownColumns, []string{"latency_p99_ms"}) {
		t.Fatalf("summary %+v", sum)
	}
}

func firstLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// TestImportPublishedFormat runs on a clean clone: a hand-made file in the
// published data's layout (testdata/published-format.csv: an extra column,
// sources naming a version and commit, one configuration under two
// versions), so the layout is covered even where ../shared is absent.
func TestImportPublishedFormat(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "published-format.csv"))
	if err != nil {
		t.Fatal(err)
	}
	db := newDB(t)
	sum, err := importData(t, db, "published-format.csv", bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 5 || sum.Added != 5 || !reflect.DeepEqual(sum.UnknownColumns, []string{"latency_p99_ms"}) {
		t.Fatalf("summary %+v", sum)
	}
	stored, err := db.Results(context.Background(), ResultFilter{Source: "trt-x.1@0000aaaa"})
	if err != nil || len(stored) != 3 || stored[2].SequenceLength != 384 || stored[2].LatencyMS != 9.6 || !stored[2].Timestamp.IsZero() {
		t.Fatalf("stored %+v, %v", stored, err)
	}
}
