package formats

import (
	"bytes"
	"errors"
	"testing"

	"perfpilot/engine"
	"perfpilot/safetext"
	"perfpilot/store"
)

// fuzzCatalog is shared: parsing only reads the catalog, and building one
// per input would dominate the fuzzing time.
var fuzzCatalog = engine.MustBuiltinCatalog()

// checkParse is the property both fuzz targets hold ParseResults to: it
// never panics, rejects only with an *ImportError, and everything it accepts
// is a valid, catalog-normalised result.
func checkParse(t *testing.T, name string, data []byte) {
	cat := fuzzCatalog
	pf, err := ParseResults(name, bytes.NewReader(data), cat, ParseOptions{})
	if err != nil {
		var ie *ImportError
		if !errors.As(err, &ie) || len(ie.Rows) == 0 {
			t.Fatalf("error %v is not an *ImportError with rows", err)
		}
		return
	}
	if len(pf.Results) == 0 {
		t.Fatal("accepted a file with no results")
	}
	for i, r := range pf.Results {
		if err := store.ValidateResult(r); err != nil {
			t.Fatalf("result %d does not validate: %v (%+v)", i, err, r)
		}
		for _, id := range []string{r.Model, r.Hardware, r.Source} {
			if err := safetext.CheckID(id); err != nil {
				t.Fatalf("result %d holds an id that is not printable: %v", i, err)
			}
		}
		if r.Flag != "" {
			t.Fatalf("result %d was kept implausible without --allow-implausible: %s", i, r.Flag)
		}
		if cfg, err := cat.Normalize(r.Config); err != nil || cfg != r.Config {
			t.Fatalf("result %d is not normalised: %+v -> %+v, %v", i, r.Config, cfg, err)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("model_name,hardware,batch_size,throughput\nbert-base-uncased,cuda,8,100\n"))
	f.Add([]byte("model,hardware_platform,batch_size,latency_mean,memory_usage,category\ngpt2,cpu,1,5.5,300,text_generation\n"))
	f.Add([]byte(genCSV(20, "")))
	f.Add([]byte("model_name,hardware,batch_size,throughput\n\"gpt2\",cpu,\"1\n\",2\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, "fuzz.csv", data) })
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`[{"model_name": "gpt2", "hardware": "cpu", "batch_size": 1, "throughput": 10}]`))
	f.Add([]byte(`{"results": [{"model": "gpt2", "hardware_platform": "cuda", "batch_size": "2", "memory": 1e3, "timestamp": "2025-03-10"}]}`))
	f.Add([]byte(`{"benchmarks": [{"model_name": "t5-small", "hardware": "rocm", "batch_size": 4, "latency": 3.5, "x": [1, {"y": null}]}], "z": 1}`))
	f.Add([]byte("[\n  {\"model_name\": \"gpt2\",\n   \"hardware\": \"cpu\", \"batch_size\": -1}\n]"))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, "fuzz.json", data) })
}
