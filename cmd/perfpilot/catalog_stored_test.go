package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"perfpilot/store"
)

// TestStoredAdditionThatNoLongerValidates: validation tightens between
// versions, so a catalog addition stored by an older perfpilot can fail to
// load. Every command that builds the catalog then fails, naming the
// addition and how to remove it; catalog additions and catalog forget work
// without loading it; forgetting it warns about the results measured on its
// hardware, and importing a valid catalog describes them again.
func TestStoredAdditionThatNoLongerValidates(t *testing.T) {
	db := newDB(t)
	dir := t.TempDir()
	good := `{"hardware": [{"id": "my-gpu", "backend": "cuda", "name": "My GPU", "peak_tflops": {"fp32": 30, "fp16": 120},
		"memory_bandwidth_gbps": 900, "memory_gb": 24, "tdp_watts": 250}]}`
	catFile := filepath.Join(dir, "cat.json")
	csv := filepath.Join(dir, "r.csv")
	os.WriteFile(catFile, []byte(good), 0o644)
	os.WriteFile(csv, []byte("model_name,hardware,batch_size,precision,sequence_length,latency_ms\ngpt2,my-gpu,1,fp16,128,3.2\n"), 0o644)
	if _, errOut, code := cli(t, db, "import", "--catalog", catFile, csv); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	// What an older version let through and this one refuses.
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCatalogAdditions(context.Background(), "old", []byte(strings.Replace(good, "900", "1e308", 1))); err != nil {
		t.Fatal(err)
	}
	s.Close()

	for _, args := range [][]string{{"integrate", "--budget", "2"}, {"catalog", "hardware"}, {"predict", "--model", "gpt2", "--hardware", "cuda"}} {
		_, errOut, code := cli(t, db, args...)
		if code != exitFailure || !strings.Contains(errOut, "stored catalog addition 2") || !strings.Contains(errOut, "memory_bandwidth_gbps") ||
			!strings.Contains(errOut, "perfpilot catalog forget 2") {
			t.Errorf("%v: exit %d, %q; want the addition's id, field and the way out", args, code, errOut)
		}
	}
	out, errOut, code := cli(t, db, "catalog", "additions")
	var adds []additionJSON
	if code != 0 || json.Unmarshal([]byte(out), &adds) != nil || len(adds) != 2 {
		t.Fatalf("catalog additions: exit %d, %s %s", code, out, errOut)
	}
	if adds[0].Error != "" || adds[1].Error == "" || adds[1].Label != "old" || len(adds[1].Hardware) != 1 || adds[1].Hardware[0] != "my-gpu" {
		t.Errorf("catalog additions: %+v; want the first valid, the second invalid on my-gpu", adds)
	}

	for _, tc := range []struct {
		id       string
		code     int
		contains string
	}{
		{"9", exitUsage, "no such stored catalog addition"},
		{"0", exitUsage, "not a positive integer"},
		{"x", exitUsage, "not a positive integer"},
		{"2", 0, "deleted stored catalog addition 2"},
		{"2", exitUsage, "no such stored catalog addition"},
	} {
		_, errOut, code := cli(t, db, "catalog", "forget", tc.id)
		if code != tc.code || !strings.Contains(errOut, tc.contains) {
			t.Errorf("catalog forget %s: exit %d, %q; want %d with %q", tc.id, code, errOut, tc.code, tc.contains)
		}
	}
	if _, errOut, code := cli(t, db, "integrate", "--budget", "2"); code != 0 {
		t.Fatalf("integrate after forgetting the invalid addition: exit %d: %s", code, errOut)
	}

	// Forgetting the valid one leaves a result on undescribed hardware: say so.
	_, errOut, code = cli(t, db, "catalog", "forget", "1")
	if code != 0 || !strings.Contains(errOut, `1 stored results were measured on "my-gpu"`) {
		t.Fatalf("catalog forget 1: exit %d, %q; want a warning about my-gpu's result", code, errOut)
	}
	if _, errOut, code := cli(t, db, "import", "--catalog", catFile); code != 0 {
		t.Fatalf("import --catalog again: exit %d: %s", code, errOut)
	}
	if _, errOut, code := cli(t, db, "integrate", "--budget", "2"); code != 0 {
		t.Fatalf("integrate once my-gpu is described again: exit %d: %s", code, errOut)
	}
}
