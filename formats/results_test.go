package formats

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"perfpilot/engine"
	"perfpilot/store"
)

func seqOf(t *testing.T, model string) int {
	t.Helper()
	m := engine.MustBuiltinCatalog().Model(model)
	if m == nil {
		t.Fatalf("no built-in model %q", model)
	}
	return m.Arch.SequenceLength
}

func TestParseResultsAcceptsGoodFiles(t *testing.T) {
	ts := time.Date(2025, 3, 10, 15, 30, 45, 0, time.UTC)
	day := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	bert := engine.Result{
		Config:    engine.Config{Model: "bert-base-uncased", Hardware: "cuda", BatchSize: 8, Precision: engine.FP16, SequenceLength: 128},
		ModelType: "text_embedding", Throughput: 1200.5, LatencyMS: 6.66, MemoryMB: 900, Source: "lab-a", Timestamp: ts, Stack: "torch 2.3",
	}
	gpt2 := func(source string) engine.Result {
		return engine.Result{
			Config:    engine.Config{Model: "gpt2", Hardware: "cpu", BatchSize: 1, Precision: engine.FP32, SequenceLength: seqOf(t, "gpt2")},
			ModelType: "text_generation", MemoryMB: 12.5, Source: source, Timestamp: day,
		}
	}
	tests := []struct {
		name, file, source, data string
		format                   string
		want                     []engine.Result
		unknown                  []string
	}{
		{
			name: "our CSV with defaults and extras", file: "good.csv", format: "csv",
			data: "\ufeffmodel_name,hardware,batch_size,precision,sequence_length,throughput,latency_ms,memory_mb,model_type,timestamp,source,stack,latency_p99_ms,Notes\n" +
				"bert-base-uncased,cuda,8,fp16,128,1200.5,6.66,900,text_embedding,2025-03-10T15:30:45Z,lab-a,torch 2.3,7,x\n" +
				"gpt2,cpu,1,,,,,12.5,,2025-03-10,,,,\n",
			want:    []engine.Result{bert, gpt2("import:good.csv")},
			unknown: []string{"latency_p99_ms", "Notes"},
		},
		{
			name: "seed CSV column names and --source label", file: "seed.csv", source: "nightly", format: "csv",
			data: "model,hardware_platform,batch_size,precision,latency_mean,memory_usage,category,timestamp\r\n" +
				"gpt2,cpu,1,fp32,,12.5,text_generation,2025-03-10\r\n",
			want: []engine.Result{gpt2("nightly")},
		},
		{
			name: "JSON array with our keys", file: "good.json", format: "json",
			data: `[
  {"model_name": "bert-base-uncased", "hardware": "cuda", "batch_size": 8, "precision": "fp16",
   "sequence_length": 128, "throughput": 1200.5, "latency_ms": 6.66, "memory_mb": 900,
   "timestamp": "2025-03-10 15:30:45", "source": "lab-a", "stack": "torch 2.3", "gpu_clock": {"mhz": 1410}},
  {"model_name": "gpt2", "hardware": "cpu", "batch_size": "1", "memory_mb": "12.5", "throughput": null, "timestamp": "2025-03-10"}
]`,
			want:    []engine.Result{bert, gpt2("import:good.json")},
			unknown: []string{"gpu_clock"},
		},
		{
			name: "seed result JSON object", file: "seed.json", format: "json",
			data: `{"strategy": "integrated_active_learning", "results": [
  {"model": "gpt2", "hardware_platform": "cpu", "batch_size": 1, "memory": 12.5, "category": "text_generation",
   "timestamp": "2025-03-10T00:00:00"}
], "timestamp": "2025-03-10T15:30:45.123456"}`,
			want: []engine.Result{gpt2("import:seed.json")},
		},
		{
			name: "benchmarks key", file: "b.json", format: "json",
			data: `{"benchmarks": [{"model_name": "gpt2", "hardware": "cpu", "batch_size": 1, "memory_usage": 12.5, "timestamp": "2025-03-10"}]}`,
			want: []engine.Result{gpt2("import:b.json")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, err := ParseResults(tt.file, strings.NewReader(tt.data), engine.MustBuiltinCatalog(), ParseOptions{Source: tt.source})
			if err != nil {
				t.Fatalf("ParseResults: %v", err)
			}
			if pf.Format != tt.format {
				t.Errorf("format %q, want %q", pf.Format, tt.format)
			}
			if !reflect.DeepEqual(pf.Results, tt.want) {
				t.Errorf("results\n got %+v\nwant %+v", pf.Results, tt.want)
			}
			if !reflect.DeepEqual(pf.UnknownColumns, tt.unknown) {
				t.Errorf("unknown columns %q, want %q", pf.UnknownColumns, tt.unknown)
			}
			for _, r := range pf.Results {
				if err := store.ValidateResult(r); err != nil {
					t.Errorf("accepted result does not validate: %v", err)
				}
			}
		})
	}
}

func TestParseResultsRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name, file, data string
		want             []string // the error's lines, exactly
	}{
		{
			name: "missing required column", file: "bad.csv",
			data: "model_name,hardware,throughput\nbert-base-uncased,cuda,100\n",
			want: []string{"bad.csv:1: batch_size: missing required column"},
		},
		{
			name: "every bad row is listed", file: "bad.csv",
			data: "model_name,hardware,batch_size,throughput\n" +
				"bert-base-uncased,cuda,8,100\n" +
				"bert-base-uncased,cuda,-4,100\n" +
				"no-such-model,cuda,8,100\n" +
				"bert-base-uncased,cuda,8,fast\n" +
				"bert-base-uncased,tpu,0,100\n" +
				"bert-base-uncased,cuda,8,-1e3\n" +
				"bert-base-uncased,cuda,2.5,1e999\n",
			want: []string{
				"bad.csv:3: batch_size: -4 is not positive",
				`bad.csv:4: model_name: unknown model "no-such-model": add it to a catalog file (--catalog)`,
				`bad.csv:5: throughput: "fast" is not a number`,
				`bad.csv:6: hardware: unknown hardware "tpu": add it to a catalog file (--catalog)`,
				"bad.csv:6: batch_size: 0 is not positive",
				"bad.csv:7: throughput: -1e3 is not positive",
				`bad.csv:8: batch_size: "2.5" is not a whole number in range`,
				`bad.csv:8: throughput: "1e999" is not a finite number`,
			},
		},
		{
			name: "line numbers are physical lines across quoted newlines", file: "multi.csv",
			data: "model_name,hardware,batch_size,throughput,notes\n" +
				"bert-base-uncased,cuda,8,100,\"line one\nline two\"\n" +
				"\n" +
				"bert-base-uncased,cuda,x,100,ok\n",
			want: []string{`multi.csv:5: batch_size: "x" is not a number`},
		},
		{
			name: "a record too long to read names its line", file: "long.csv",
			data: "model_name,hardware,batch_size,latency_ms\ngpt2,cpu,1,3\ngpt2,cpu,1,\"3\n\"\ngpt2,cpu,2," + strings.Repeat("9", 2*MaxRecord) + "\n",
			want: []string{fmt.Sprintf("long.csv:5: a record is longer than %d bytes (is this a results file?)", MaxRecord)},
		},
		{
			name: "a JSON element too long to read names its line", file: "long.json",
			data: "{\"results\": [{\"model_name\": \"gpt2\", \"hardware\": \"cpu\", \"batch_size\": 1, \"latency_ms\": 3},\n\n  {\"model_name\": \"" +
				strings.Repeat("a", 2*MaxRecord) + "\"}]}",
			want: []string{fmt.Sprintf("long.json:3: a record is longer than %d bytes (is this a results file?)", MaxRecord)},
		},
		{name: "empty file", file: "empty.csv", data: "", want: []string{"empty.csv: empty file"}},
		{name: "blank file", file: "blank.json", data: "\n  \n\t\n", want: []string{"blank.json: empty file"}},
		{name: "header only", file: "h.csv", data: "model_name,hardware,batch_size,throughput\n", want: []string{"h.csv: no rows"}},
		{
			name: "binary garbage", file: "bin.csv",
			data: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
			want: []string{"bin.csv: not CSV or JSON (binary data)"},
		},
		{
			name: "duplicated and aliased header", file: "dup.csv",
			data: "model_name,hardware,batch_size,throughput,throughput,latency,latency_ms\n",
			want: []string{
				"dup.csv:1: throughput: duplicated column",
				`dup.csv:1: latency_ms: columns "latency" and "latency_ms" both give latency_ms`,
			},
		},
		{
			name: "no metric column", file: "m.csv",
			data: "model_name,hardware,batch_size\ngpt2,cpu,1\n",
			want: []string{"m.csv:1: no metric column: give at least one of throughput, latency_ms (or latency, latency_mean), memory_mb (or memory, memory_usage), tokens_per_s"},
		},
		{
			name: "row problems", file: "r.csv",
			data: "model_name,hardware,batch_size,precision,throughput,timestamp,model_type\n" +
				"gpt2,cpu,1,fp32,,,\n" +
				"gpt2,cpu,1,fp6,5,yesterday,\n" +
				"gpt2,cpu,1\n" +
				"gpt2,cpu,1,fp32,5,,robotics\n" +
				"gpt2,cpu,2,fp32,5,0001-01-01,\n" +
				"gpt2,cpu,3,fp32,5,2300-01-01T00:00:00Z,\n",
			want: []string{
				"r.csv:2: no metric: give at least one of throughput, latency_ms (or latency, latency_mean), memory_mb (or memory, memory_usage), tokens_per_s",
				`r.csv:3: precision: unknown precision "fp6" (valid: fp32, fp16, bf16, int8, int4, fp8)`,
				`r.csv:3: timestamp: "yesterday" is not a time (use RFC 3339, "2006-01-02 15:04:05" or a date)`,
				"r.csv:4: has 3 fields, the header has 7",
				`r.csv:5: model_type: unknown model type "robotics" (valid: text_embedding, text_generation, vision, audio, multimodal)`,
				`r.csv:6: timestamp: "0001-01-01" is not a plausible time for a measurement (years 1970–2200)`,
				`r.csv:7: timestamp: "2300-01-01T00:00:00Z" is not a plausible time for a measurement (years 1970–2200)`,
			},
		},
		{
			name: "CSV quoting error stops at its line", file: "q.csv",
			data: "model_name,hardware,batch_size,throughput\ngpt2,cpu,0,1\ngpt2,cpu,1,\"5\n",
			want: []string{"q.csv:2: batch_size: 0 is not positive", `q.csv:3: invalid CSV: extraneous or missing " in quoted-field`},
		},
		{
			name: "JSON rows report the line their object starts on", file: "bad.json",
			data: `[
  {"model_name": "bert-base-uncased",
   "hardware": "cuda", "batch_size": 8, "throughput": 100},
  {"model_name": "bert-base-uncased", "hardware": "cuda", "batch_size": -1, "throughput": 100},
  {"model_name": "bert-base-uncased", "hardware": "cuda",
   "batch_size": 2, "throughput": "abc"},
  7,
  {"hardware": "cuda", "batch_size": 2, "throughput": 1},
  {"model_name": ["gpt2"], "hardware": "cpu", "batch_size": 1, "throughput": true, "memory": 3},
  [1, [2]], {"model_name": "gpt2", "model": "gpt2", "hardware": "cpu", "batch_size": 1, "memory": 3}
]`,
			want: []string{
				"bad.json:4: batch_size: -1 is not positive",
				`bad.json:5: throughput: "abc" is not a number`,
				"bad.json:7: expected an object with a result",
				"bad.json:8: model_name: missing",
				"bad.json:9: model_name: expected a string or a number",
				"bad.json:9: throughput: expected a string or a number",
				"bad.json:10: expected an object with a result",
				`bad.json:10: model_name: given twice (as "model" and "model_name")`,
			},
		},
		{
			name: "JSON syntax error", file: "s.json",
			data: "[{\"model_name\": \"gpt2\",\n \"hardware\": }]",
			want: []string{"s.json:2: invalid JSON: invalid character '}' looking for beginning of value"},
		},
		{name: "truncated JSON", file: "t.json", data: "[{\"model_name\": \"gpt2\",\n", want: []string{"t.json:2: invalid JSON: unexpected end of file"}},
		{name: "JSON without results", file: "o.json", data: `{"foo": [1]}`, want: []string{`o.json:1: JSON object has no "results", "benchmarks" or "recommendations" array`}},
		{name: "JSON results not an array", file: "o.json", data: `{"results": {"a": 1}}`, want: []string{"o.json:1: results: expected an array of result objects"}},
		{name: "empty JSON array", file: "e.json", data: "[]", want: []string{"e.json: no rows"}},
		{name: "trailing data", file: "x.json", data: "[{\"model_name\": \"gpt2\", \"hardware\": \"cpu\", \"batch_size\": 1, \"memory\": 3}]\n]", want: []string{"x.json:2: invalid JSON: unexpected data after the top-level value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, err := ParseResults(tt.file, strings.NewReader(tt.data), engine.MustBuiltinCatalog(), ParseOptions{})
			if err == nil {
				t.Fatalf("accepted: %+v", pf.Results)
			}
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *ImportError", err)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("error lines\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
