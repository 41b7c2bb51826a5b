package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"perfpilot/engine"
)

// cli runs perfpilot against a temp database and returns stdout, stderr
// and the exit status. Output goes to a pipe, so commands print JSON.
func cli(t *testing.T, db string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"--db", db}, args...), IO{Out: &out, Err: &errOut})
	return out.String(), errOut.String(), code
}

func newDB(t *testing.T) string {
	t.Setenv("SOURCE_DATE_EPOCH", "1795000000")
	return filepath.Join(t.TempDir(), "pp.db")
}

func TestIntegrateJSONAndDeterminism(t *testing.T) {
	db := newDB(t)
	out, errOut, code := cli(t, db, "integrate", "--budget", "4", "--metric", "latency")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep engine.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(rep.Recommendations) != 4 || rep.OptimizationMetric != engine.Latency || rep.Data.Sources["simulated"] != rep.Data.Benchmarks ||
		rep.Data.Benchmarks == 0 || rep.Timestamp != time.Unix(1795000000, 0).UTC().Format(time.RFC3339) {
		t.Errorf("report top level: %d rows, metric %s, data %+v, timestamp %s", len(rep.Recommendations), rep.OptimizationMetric, rep.Data, rep.Timestamp)
	}
	// Seed-compatible keys are all present.
	var raw map[string]any
	json.Unmarshal([]byte(out), &raw)
	row := raw["recommendations"].([]any)[0].(map[string]any)
	for _, k := range []string{"model_name", "model_type", "hardware", "batch_size", "expected_information_gain", "uncertainty", "diversity",
		"recommended_hardware", "hardware_match", "hardware_score", "combined_score", "alternatives", "precision", "sequence_length",
		"decision_value", "expected_improvement_pct", "rank", "predicted"} {
		if _, ok := row[k]; !ok {
			t.Errorf("recommendation lacks %q", k)
		}
	}
	for _, k := range []string{"recommendations", "total_candidates", "enhanced_candidates", "final_recommendations", "optimization_metric", "strategy", "timestamp", "data", "seed"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	again, _, _ := cli(t, db, "integrate", "--budget", "4", "--metric", "latency")
	if again != out {
		t.Error("same data, flags and seed gave different output")
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	db := newDB(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"integrate", "--budget", "0"}, "--budget: 0 is outside 1..1000000"},
		{[]string{"integrate", "--metric", "speed"}, `unknown metric "speed" (valid: throughput, latency, memory)`},
		{[]string{"predict", "--model", "gpt-9", "--hardware", "cuda"}, `unknown model "gpt-9" (valid: `},
		{[]string{"predict", "--model", "gpt2", "--hardware", "tpu"}, `unknown hardware "tpu" (valid: `},
		{[]string{"recommend-hardware", "--model", "gpt2", "--precision", "fp6"}, `unknown precision "fp6"`},
		{[]string{"integrate", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"evaluate", "--split", "random"}, `unknown split "random"`},
	}
	for _, c := range cases {
		_, errOut, code := cli(t, db, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, errOut, c.want)
		}
	}
}

func TestRecommendHardwareJSON(t *testing.T) {
	db := newDB(t)
	out, errOut, code := cli(t, db, "recommend-hardware", "--model", "meta-llama/Llama-2-7b-hf", "--batch-size", "8", "--precision", "fp16")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var hr struct {
		Recommended  string `json:"recommended_hardware"`
		Alternatives []struct {
			Hardware string  `json:"hardware"`
			Score    float64 `json:"score"`
		} `json:"alternatives"`
		Ranking []struct {
			Hardware  string          `json:"hardware"`
			Score     float64         `json:"score"`
			Feasible  bool            `json:"feasible"`
			Predicted json.RawMessage `json:"predicted"`
			Breakdown []any           `json:"breakdown"`
		} `json:"ranking"`
	}
	if err := json.Unmarshal([]byte(out), &hr); err != nil {
		t.Fatal(err)
	}
	if hr.Recommended != "cuda" || len(hr.Ranking) != 8 || len(hr.Ranking[0].Breakdown) != 5 {
		t.Errorf("recommend-hardware: %+v", hr)
	}
	infeasible := false
	for _, r := range hr.Ranking {
		infeasible = infeasible || !r.Feasible
	}
	if !infeasible {
		t.Error("cpu has no fp16 yet every hardware is feasible")
	}
	_, errOut, code = cli(t, db, "recommend-hardware", "--model", "gpt2", "--max-power", "10")
	if code != 1 || !strings.Contains(errOut, "no hardware satisfies the constraints") {
		t.Errorf("impossible constraints: exit %d, %q", code, errOut)
	}
}

func TestImportSessionsExportFlow(t *testing.T) {
	db := newDB(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("model_name,hardware,batch_size,precision,latency_ms,notes\ngpt2,cuda,4,fp16,3.5,x\nbert-base-uncased,cpu,1,fp32,40,y\n"), 0o644)
	out, errOut, code := cli(t, db, "import", good, "--source", "lab")
	if code != 0 || !strings.Contains(out, "added 2 results") || !strings.Contains(out, "notes") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	count := func() int {
		out, _, _ := cli(t, db, "benchmarks", "list")
		var rs []map[string]any
		if err := json.Unmarshal([]byte(out), &rs); err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	before := count()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("model_name,hardware,batch_size,latency_ms\ngpt2,cuda,4,3\ngpt2,cuda,-4,3\nnope,cuda,1,2\n"), 0o644)
	_, errOut, code = cli(t, db, "import", bad)
	if code != 1 || !strings.Contains(errOut, ":3:") || !strings.Contains(errOut, ":4:") || count() != before {
		t.Errorf("bad import: exit %d, %q, %d→%d rows", code, errOut, before, count())
	}
	if _, errOut, code = cli(t, db, "integrate", "--budget", "3", "--save", "s1"); code != 0 {
		t.Fatalf("save: %s", errOut)
	}
	out, _, _ = cli(t, db, "sessions", "list")
	if !strings.Contains(out, `"name": "s1"`) {
		t.Errorf("sessions list: %s", out)
	}
	script := filepath.Join(dir, "run.sh")
	if _, errOut, code = cli(t, db, "export", "--session", "s1", "--format", "sh", "--output", script); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	body, _ := os.ReadFile(script)
	if !strings.HasPrefix(string(body), "#!/usr/bin/env bash\n") || !strings.Contains(string(body), "\nset -euo pipefail\n") || strings.Count(string(body), "python run_benchmark.py") != 3 {
		t.Errorf("script:\n%s", body)
	}
	if _, errOut, code = cli(t, db, "export", "--session", "s1", "--format", "sh", "--output", script); code != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("overwrite without --force: exit %d %q", code, errOut)
	}
	if _, _, code = cli(t, db, "export", "--session", "s1", "--format", "sh", "--output", script, "--force"); code != 0 {
		t.Error("--force did not overwrite")
	}
	if _, _, code = cli(t, db, "sessions", "rename", "s1", "s2"); code != 0 {
		t.Error("rename failed")
	}
	if _, errOut, code = cli(t, db, "sessions", "show", "s1"); code != 2 || !strings.Contains(errOut, "not found") {
		t.Errorf("show renamed-away session: exit %d %q", code, errOut)
	}
	out, _, _ = cli(t, db, "benchmarks", "delete", "--source", "lab")
	if !strings.Contains(out, "deleted 2 results") {
		t.Errorf("delete: %s", out)
	}
}

func TestEvaluateJSONShape(t *testing.T) {
	db := newDB(t)
	out, errOut, code := cli(t, db, "evaluate", "--split", "kfold", "--metric", "latency")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("evaluate JSON: %v\n%s", err, out)
	}
	// One row per predictor over every phase, then one per phase the demo
	// history holds (forward passes, and prefills and decode steps of LLMs).
	phases := map[string]int{}
	for _, r := range res.Results {
		ph, _ := r["phase"].(string)
		phases[ph]++
	}
	if phases[""] != 2 || phases["forward"] != 2 || phases["prefill"] != 2 || phases["decode"] != 2 {
		t.Fatalf("evaluate rows by phase %v, want 2 each of all, forward, prefill, decode\n%s", phases, out)
	}
	for _, k := range []string{"split", "metric", "n", "mape", "median_ape", "within_10", "within_25", "spearman", "coverage_80"} {
		if _, ok := res.Results[0][k]; !ok {
			t.Errorf("evaluate row lacks %q", k)
		}
	}
	if cov := res.Results[0]["coverage_80"].(float64); cov <= 0 || cov > 1 {
		t.Errorf("coverage %v not in 0..1", cov)
	}
}

func TestImportAndListShowAnomalies(t *testing.T) {
	// Thirty results from the demo's simulated world, one of them 5× too
	// fast: import names its line and why; benchmarks list marks it.
	db := newDB(t)
	cat := engine.MustBuiltinCatalog()
	space := engine.DefaultSpace(cat)
	// One forward pass per row: the CSV below names no generation fields.
	space.Models = []string{"bert-base-uncased", "bert-large-uncased", "google/vit-base-patch16-224", "microsoft/resnet-50"}
	rs := engine.SimulateHistory(cat, engine.DemoWorld, space, 30, 77)
	var b strings.Builder
	b.WriteString("model_name,hardware,batch_size,precision,latency_ms,memory_mb,source\n")
	const bad = 9 // 10th data row: line 11
	for i, r := range rs {
		lat := r.LatencyMS
		if i == bad {
			lat /= 5
		}
		fmt.Fprintf(&b, "%s,%s,%d,%s,%g,%g,lab\n", r.Model, r.Hardware, r.BatchSize, r.Precision, lat, r.MemoryMB)
	}
	file := filepath.Join(t.TempDir(), "lab.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, db, "import", file)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "line 11: "+rs[bad].Config.String()+": measured") || !strings.Contains(out, "faster than similar configurations predict") {
		t.Fatalf("import did not name the anomalous row:\n%s", out)
	}
	if n := strings.Count(out, "— check it"); n != 1 {
		t.Errorf("%d rows reported as anomalies, want 1:\n%s", n, out)
	}
	out, errOut, code = cli(t, db, "benchmarks", "list", "--source", "lab", "--check")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	type listedRow struct {
		ID int64 `json:"id"`
		engine.Result
		Excluded  bool          `json:"excluded"`
		Anomalies []engine.Flag `json:"anomalies"`
	}
	var listed []listedRow
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatal(err)
	}
	marked, badID := 0, int64(0)
	for _, r := range listed {
		if len(r.Anomalies) > 0 {
			marked++
			badID = r.ID
			if r.BatchSize != rs[bad].BatchSize || r.Model != rs[bad].Model || r.Hardware != rs[bad].Hardware {
				t.Errorf("marked %s, want %s", r.Config, rs[bad].Config)
			}
		}
	}
	if marked != 1 {
		t.Fatalf("list marks %d rows, want 1", marked)
	}

	// Excluding it: still listed, no longer learned from; include undoes it.
	learned := func() int {
		out, errOut, code := cli(t, db, "integrate", "--budget", "1")
		if code != 0 {
			t.Fatalf("integrate: exit %d: %s", code, errOut)
		}
		var rep engine.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		return rep.Data.Benchmarks
	}
	before := learned()
	id := fmt.Sprint(badID)
	if out, errOut, code := cli(t, db, "benchmarks", "exclude", id); code != 0 || !strings.Contains(out, "excluded 1 results") {
		t.Fatalf("exclude: exit %d: %s %s", code, out, errOut)
	}
	if n := learned(); n != before-1 {
		t.Errorf("after exclude the model learns from %d results, want %d", n, before-1)
	}
	out, _, _ = cli(t, db, "benchmarks", "list", "--source", "lab")
	listed = nil
	json.Unmarshal([]byte(out), &listed)
	if len(listed) != len(rs) {
		t.Fatalf("excluded row left the listing: %d rows", len(listed))
	}
	for _, r := range listed {
		if r.Excluded != (r.ID == badID) {
			t.Errorf("row %d excluded %v", r.ID, r.Excluded)
		}
	}
	if _, errOut, code := cli(t, db, "benchmarks", "include", id); code != 0 || learned() != before {
		t.Fatalf("include: exit %d %s; learns from %d, want %d", code, errOut, learned(), before)
	}
	if _, errOut, code := cli(t, db, "benchmarks", "exclude", "999999"); code != 1 || !strings.Contains(errOut, "no result with id 999999") {
		t.Errorf("unknown id: exit %d %q", code, errOut)
	}
	if _, errOut, code := cli(t, db, "benchmarks", "exclude", "x7"); code != 2 || !strings.Contains(errOut, "not a result ID") {
		t.Errorf("bad id: exit %d %q", code, errOut)
	}
}
