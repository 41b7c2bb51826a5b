package store

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"perfpilot/engine"
)

// TestGenerationResultsRoundTrip stores text-generation results and reads
// them back field for field; results that differ only in a generation
// field are different measurements.
func TestGenerationResultsRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	before := countResults(t, db)
	base := engine.Result{Config: engine.Config{Model: "meta-llama/Llama-2-7b-hf", Hardware: "cuda", BatchSize: 4, Precision: engine.INT4,
		SequenceLength: 1, Phase: engine.Decode, PromptTokens: 494, OutputTokens: 1024, ContextTokens: 385, ContextSize: 512,
		PrecisionLabel: "q4_0", WeightBits: 4.53, KVCache: engine.FP8},
		ModelType: "text_generation", LatencyMS: 12.5, Throughput: 320, Source: "lab", Stack: "llama.cpp build 1691 (7082d24)"}
	two := base
	two.GPUCount, two.Parallelism = 2, engine.Row
	pre := base
	pre.Phase, pre.SequenceLength, pre.ContextTokens = engine.Prefill, 494, 0
	added, dups, err := db.InsertResults(ctx, []engine.Result{base, two, pre, base})
	if err != nil || added != 3 || dups != 1 {
		t.Fatalf("insert: %d added, %d duplicates, %v; want 3 and 1", added, dups, err)
	}
	stored, err := db.Results(ctx, ResultFilter{Source: "lab"})
	if err != nil || len(stored) != 3 {
		t.Fatalf("read back %d, %v", len(stored), err)
	}
	for i, want := range []engine.Result{base, two, pre} {
		if got := stored[i].Result; !reflect.DeepEqual(got, want) {
			t.Errorf("result %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if n := countResults(t, db); n != before+3 {
		t.Errorf("%d results, want %d", n, before+3)
	}
}

// TestSchema1ForwardKeysSurvive: forward passes stored before schema 4 keep
// their dedup keys, so importing them again finds them.
func TestSchema1ForwardKeysSurvive(t *testing.T) {
	data, err := os.ReadFile("testdata/schema1.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	ctx := context.Background()
	old, err := db.AllResults(ctx)
	if err != nil || len(old) == 0 {
		t.Fatalf("%d results, %v", len(old), err)
	}
	added, dups, err := db.InsertResults(ctx, old)
	if err != nil || added != 0 || dups != len(old) {
		t.Fatalf("re-inserting the stored rows: %d added, %d duplicates, %v; want 0 and %d", added, dups, err, len(old))
	}
}
