package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"perfpilot/cmdtmpl"
	"perfpilot/internal/hostile"
	"perfpilot/safetext"
)

// The hostile-input suites, one per surface (README "Safety"). Each value has one
// exact outcome: refused (usage errors exit 2, bad data exits 1) with a
// short message that names what is wrong and prints nothing raw, or
// accepted with nothing extra happening: the canary file never appears.

// canary is a file a hostile value would create if anything ran it.
func canary(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "CANARY")
}

func assertNoCanary(t *testing.T, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s: the canary exists (%v): a value ran as code", what, err)
	}
}

// assertSafeMessage checks a refusal: the status, one line when want1,
// nothing that can drive a terminal, and no line longer than a quoted value
// allows.
func assertSafeMessage(t *testing.T, what, stderr string, code, wantCode int, oneLine bool) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("%s: exit %d, want %d; stderr %s", what, code, wantCode, safetext.Quote(stderr))
	}
	msg := strings.TrimSuffix(stderr, "\n")
	if oneLine && strings.Contains(msg, "\n") {
		t.Fatalf("%s: message is not one line: %s", what, safetext.Quote(msg))
	}
	for _, r := range msg {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			t.Fatalf("%s: message holds raw %U: %s", what, r, safetext.Quote(msg))
		}
	}
	for _, line := range strings.Split(msg, "\n") {
		if len(line) > 600 {
			t.Fatalf("%s: a message line of %d bytes quotes too much: %.120q…", what, len(line), line)
		}
	}
}

// hostileCatalog writes a catalog whose model ids carry the storable
// injections (printable ids may hold shell syntax) and returns its path and
// the ids.
func hostileCatalog(t *testing.T, canaryPath string) (string, []string) {
	t.Helper()
	var models []map[string]any
	var ids []string
	for _, v := range hostile.Injections(canaryPath) {
		id := "m " + v
		if safetext.CheckID(id) != nil {
			continue
		}
		ids = append(ids, id)
		models = append(models, map[string]any{"id": id, "model_type": "text_embedding", "layers": 2, "hidden": 64, "heads": 2,
			"intermediate": 256, "vocab": 1000, "sequence_length": 16})
	}
	doc, _ := json.Marshal(map[string]any{"models": models, "hardware": []map[string]any{{"id": "hw $(touch " + canaryPath + ")",
		"backend": "cpu", "peak_tflops": map[string]float64{"fp32": 1}, "memory_bandwidth_gbps": 50, "memory_gb": 16,
		"tdp_watts": 65, "availability": 1, "relative_cost": 0.1, "deployment_complexity": 0.1}}})
	path := filepath.Join(t.TempDir(), "hostile-catalog.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(ids) < 20 {
		t.Fatalf("only %d storable hostile ids", len(ids))
	}
	return path, ids
}

// TestHostileExportScript: every hostile id reaches the exported script as
// one argument, and running the script creates nothing; every hostile
// template is refused with exit 2 and one line, or its script runs clean.
func TestHostileExportScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	db := newDB(t)
	can := canary(t)
	cat, ids := hostileCatalog(t, can)
	args := []string{"--catalog", cat}
	if _, errOut, code := cli(t, db, append(args, "import", "--catalog", cat)...); code != 0 {
		t.Fatalf("store catalog: %s", errOut)
	}
	modelFlags := []string{}
	for _, id := range ids {
		if !strings.ContainsAny(id, ",\"") { // --model takes a comma-separated list
			modelFlags = append(modelFlags, "--model", id)
		}
	}
	if _, errOut, code := cli(t, db, append([]string{"integrate", "--budget", "40", "--hardware", "cpu", "--save", "evil $(touch " + can + ")"}, modelFlags...)...); code != 0 {
		t.Fatalf("integrate: %s", errOut)
	}
	session := "evil $(touch " + can + ")"
	js, _, code := cli(t, db, "export", "--session", session, "--format", "json")
	var rep struct {
		Recommendations []struct {
			Model string `json:"model_name"`
		} `json:"recommendations"`
	}
	if err := json.Unmarshal([]byte(js), &rep); code != 0 || err != nil || len(rep.Recommendations) < 10 {
		t.Fatalf("session rows: exit %d, %v", code, err)
	}
	var templates []string
	for _, v := range hostile.Injections(can) {
		templates = append(templates,
			"printf '%s\\n' {model} "+v,                    // raw shell syntax in the template
			"printf '%s\\n' '"+v+"' {model}",               // quoted: a literal argument
			"printf '%s\\n' \"{model}\" "+cmdtmpl.Quote(v), // placeholder in quotes
		)
	}
	templates = append(templates, "sh -c {model}", "bash -c 'echo {hardware}'", "timeout 5 sh -c true {model}", "env -S {model}",
		"xargs sh -c x {model}", "python3 -c print({model})", "perl -e x {model}", "{model} --x", "awk {model}")
	dir := t.TempDir()
	accepted := 0
	for i, tmpl := range templates {
		out := filepath.Join(dir, fmt.Sprintf("s%d.sh", i))
		_, errOut, code := cli(t, db, "export", "--session", session, "--format", "sh", "--template", tmpl, "--output", out)
		if code != 0 {
			assertSafeMessage(t, "template "+safetext.Quote(tmpl), errOut, code, exitUsage, true)
			continue
		}
		accepted++
		cmd := exec.Command(bash, out)
		cmd.Dir = dir
		printed, err := cmd.Output()
		if err != nil {
			t.Fatalf("template %q: script failed: %v", tmpl, err)
		}
		assertNoCanary(t, can, "template "+safetext.Quote(tmpl))
		// Every row's model id came out whole, as one printf argument.
		for _, r := range rep.Recommendations {
			if !strings.Contains("\n"+string(printed), "\n"+r.Model+"\n") {
				t.Fatalf("template %s: id %s not printed whole", safetext.Quote(tmpl), safetext.Quote(r.Model))
			}
		}
	}
	if accepted == 0 || accepted == len(templates) || len(templates) < 30 {
		t.Fatalf("%d of %d templates accepted: the suite does not exercise both outcomes", accepted, len(templates))
	}
}

// TestHostileRunTemplates: `run` refuses hostile templates with exit 2 and
// one line before running anything; what it accepts runs without a shell,
// hostile ids included, and creates nothing.
func TestHostileRunTemplates(t *testing.T) {
	db := newDB(t)
	can := canary(t)
	cat, ids := hostileCatalog(t, can)
	if _, errOut, code := cli(t, db, "import", "--catalog", cat); code != 0 {
		t.Fatalf("store catalog: %s", errOut)
	}
	if _, errOut, code := cli(t, db, "integrate", "--budget", "2", "--hardware", "cpu", "--model", ids[0], "--model", ids[1], "--save", "s"); code != 0 {
		t.Fatalf("integrate: %s", errOut)
	}
	// Generated templates: the decision is cmdtmpl's (its own tests pin
	// the rules); here the CLI must act on it exactly — exit 2 and one line
	// before anything runs, or run as argv with nothing extra.
	var generated []string
	for _, v := range hostile.Injections(can) {
		generated = append(generated, "true {model} "+v, "true \"{model}\" "+cmdtmpl.Quote(v),
			"true '"+strings.ReplaceAll(v, "'", "")+"' {model} --hw={hardware}")
	}
	var refused, accepted []string
	for _, tmpl := range generated {
		if _, err := cmdtmpl.Parse(tmpl); err != nil {
			refused = append(refused, tmpl)
		} else {
			accepted = append(accepted, tmpl)
		}
	}
	refused = append(refused, "sh -c {model}", "timeout 10 sh -c \"true {model}\"", "env sh -c x {model}", "nice bash -c x {model}",
		"xargs sh -c x {model}", "busybox sh -c x {model}", "python3 -c x={model}", "perl -e x {model}", "ruby -e x {model}",
		"node --eval x {model}", "php -r x {model}", "env -S {model}", "{model}", "timeout 5 {model}", "ssh host {model}",
		"make X={model}", "awk {model}", "sh {model}", "bash -lc x {model}", "su -c x root {model}")
	dir := t.TempDir()
	for _, tmpl := range refused {
		_, errOut, code := cli(t, db, "run", "--session", "s", "--template", tmpl, "--output-dir", dir)
		assertSafeMessage(t, "template "+safetext.Quote(tmpl), errOut, code, exitUsage, true)
		assertNoCanary(t, can, tmpl)
	}
	for _, tmpl := range accepted[:8] { // each run retrains once: a sample keeps the suite quick
		// `true` prints no metric, so the run "fails" with exit 1; what
		// matters is that it ran as argv and nothing else happened.
		_, errOut, code := cli(t, db, "run", "--session", "s", "--template", tmpl, "--output-dir", dir, "--retry-failed")
		if code != exitFailure || !strings.Contains(errOut, "configurations failed") {
			t.Fatalf("template %q: exit %d, %q", tmpl, code, errOut)
		}
		assertNoCanary(t, can, tmpl)
	}
	if len(refused) < 30 {
		t.Fatalf("only %d refused templates", len(refused))
	}
}

// TestHostileImport: hostile text in every field and hostile numbers in
// every metric, in CSV and JSON. A bad file exits 1 with FILE:LINE: FIELD
// messages and leaves the database unchanged; a source id that is
// printable is stored exactly.
func TestHostileImport(t *testing.T) {
	db := newDB(t)
	can := canary(t)
	dir := t.TempDir()
	count := func() int {
		out, _, _ := cli(t, db, "benchmarks", "list")
		var rs []json.RawMessage
		if err := json.Unmarshal([]byte(out), &rs); err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	before := count()
	type row map[string]any
	base := func() row {
		return row{"model_name": "gpt2", "hardware": "cpu", "batch_size": 4, "precision": "fp32", "latency_ms": 40, "source": "lab"}
	}
	cases := 0
	check := func(name string, r row, wantOK bool) {
		t.Helper()
		cases++
		if _, set := r["latency_ms"].(int); set {
			r["latency_ms"] = 40 + cases // every case is its own measurement
		}
		// JSON, and CSV with the same row (csv quoting handles any text).
		js, _ := json.Marshal([]row{r})
		jpath := filepath.Join(dir, fmt.Sprintf("c%d.json", cases))
		os.WriteFile(jpath, js, 0o644)
		cols := []string{"model_name", "hardware", "batch_size", "precision", "latency_ms", "source"}
		var vals []string
		for _, c := range cols {
			s := fmt.Sprint(r[c])
			if strings.ContainsAny(s, "\",\n\r") || strings.TrimSpace(s) != s {
				s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			}
			vals = append(vals, s)
		}
		// The CSV row is another measurement (batch 8), not a duplicate of the JSON one.
		vals[2] = "8"
		cpath := filepath.Join(dir, fmt.Sprintf("c%d.csv", cases))
		os.WriteFile(cpath, []byte(strings.Join(cols, ",")+"\n"+strings.Join(vals, ",")+"\n"), 0o644)
		for _, path := range []string{jpath, cpath} {
			n := count()
			_, errOut, code := cli(t, db, "import", path, "--source", "fallback")
			assertNoCanary(t, can, name)
			if wantOK {
				if code != 0 || count() != n+1 {
					t.Fatalf("%s (%s): exit %d, %q", name, filepath.Ext(path), code, errOut)
				}
				continue
			}
			assertSafeMessage(t, name+" "+filepath.Ext(path), errOut, code, exitFailure, false)
			if !strings.Contains(errOut, filepath.Base(path)+":") {
				t.Fatalf("%s: the message does not name the file and line: %q", name, errOut)
			}
			if count() != n {
				t.Fatalf("%s: a refused file changed the database", name)
			}
		}
	}
	for _, v := range hostile.All(can) {
		for _, field := range []string{"model_name", "hardware", "precision"} {
			r := base()
			r[field] = v
			// A blank precision means the default, fp32.
			check(field+"="+safetext.Quote(v), r, field == "precision" && strings.TrimSpace(v) == "")
		}
		r := base()
		r["source"] = v
		// Cells are trimmed; a blank source falls back to --source and any
		// other printable id is kept.
		check("source="+safetext.Quote(v), r, strings.TrimSpace(v) == "" || safetext.CheckID(strings.TrimSpace(v)) == nil)
	}
	for _, n := range hostile.Numbers() {
		r := base()
		r["latency_ms"] = n
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		check("latency_ms="+safetext.Quote(n), r, err == nil && f > 1e-3 && f < 1e9 && !math.IsInf(f, 0))
	}
	if count() == before {
		t.Fatal("no hostile-but-valid row was accepted")
	}
	if cases < 30 {
		t.Fatalf("only %d cases", cases)
	}
}

// TestHostileCatalog: hostile ids, texts and config paths in a --catalog
// file. Ids that are not printable are refused (exit 1) naming the entry,
// the field and the character; everything accepted prints clean.
func TestHostileCatalog(t *testing.T) {
	db := newDB(t)
	can := canary(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Logf("no FIFO: %v", err)
		fifo = ""
	}
	write := func(doc map[string]any) string {
		b, _ := json.Marshal(doc)
		p := filepath.Join(dir, fmt.Sprintf("cat%d.json", len(b)))
		os.WriteFile(p, b, 0o644)
		return p
	}
	hw := func(id, name string) map[string]any {
		return map[string]any{"hardware": []map[string]any{{"id": id, "name": name, "backend": "cpu", "peak_tflops": map[string]float64{"fp32": 1},
			"memory_bandwidth_gbps": 50, "memory_gb": 16, "tdp_watts": 65, "availability": 1, "relative_cost": 0.1, "deployment_complexity": 0.1}}}
	}
	cases := 0
	for _, v := range hostile.All(can) {
		for _, useName := range []bool{false, true} {
			id, name := v, "n"
			if useName {
				id, name = "dev-gpu", v
			}
			path := write(hw(id, name))
			cases++
			out, errOut, code := cli(t, db, "--catalog", path, "catalog", "hardware")
			assertNoCanary(t, can, "catalog "+safetext.Quote(v))
			if !useName && safetext.CheckID(v) != nil {
				assertSafeMessage(t, "catalog id "+safetext.Quote(v), errOut, code, exitFailure, true)
				if !strings.Contains(errOut, `hardware[0]`) || !strings.Contains(errOut, ": id: ") {
					t.Fatalf("catalog id %q: the message does not name the entry and field: %q", v, errOut)
				}
				continue
			}
			if code != 0 {
				t.Fatalf("catalog %q (name %v): exit %d %q", v, useName, code, errOut)
			}
			for _, r := range out {
				if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					t.Fatalf("catalog %q: output holds raw %U", v, r)
				}
			}
		}
	}
	for _, cfg := range []string{"/dev/zero", dir, fifo, filepath.Join(dir, "missing.json"), "/dev/stdin"} {
		if cfg == "" {
			continue
		}
		cases++
		path := write(map[string]any{"models": []map[string]any{{"id": "m", "model_type": "text_generation", "config": cfg}}})
		_, errOut, code := cli(t, db, "--catalog", path, "catalog", "models")
		assertSafeMessage(t, "config "+cfg, errOut, code, exitFailure, true)
		if !strings.Contains(errOut, `models[0] "m": config:`) {
			t.Fatalf("config %s: %q does not name the entry and field", cfg, errOut)
		}
	}
	if cases < 30 {
		t.Fatalf("only %d cases", cases)
	}
}

// TestHostileFlags: hostile numbers and names in every flag that takes
// one exit 2 with one line, before anything is opened or run.
func TestHostileFlags(t *testing.T) {
	db := newDB(t)
	type flagCase struct {
		cmd  []string
		flag string
		ok   func(string) bool
	}
	nonNeg := func(s string) bool {
		f, err := strconv.ParseFloat(s, 64)
		return err == nil && f >= 0 && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	// pflag reads integers with base prefixes and underscores (0x10, 1_000).
	positiveInt := func(s string) bool { n, err := strconv.ParseInt(s, 0, 0); return err == nil && n > 0 }
	nonNegInt := func(s string) bool { n, err := strconv.ParseInt(s, 0, 0); return err == nil && n >= 0 }
	flags := []flagCase{
		{[]string{"integrate"}, "--budget", positiveInt},
		{[]string{"integrate"}, "--info-weight", nonNeg},
		{[]string{"integrate"}, "--decision-weight", nonNeg},
		{[]string{"integrate"}, "--max-power", nonNeg},
		{[]string{"integrate"}, "--min-memory", nonNeg},
		{[]string{"integrate"}, "--max-per-hardware", nonNegInt},
		{[]string{"recommend-hardware", "--model", "gpt2"}, "--batch-size", positiveInt},
		{[]string{"recommend-hardware", "--model", "gpt2"}, "--max-power", nonNeg},
		{[]string{"recommend-hardware", "--model", "gpt2"}, "--min-memory", nonNeg},
		{[]string{"recommend-hardware", "--model", "gpt2"}, "--max-deployment", func(s string) bool { f, err := strconv.ParseFloat(s, 64); return err == nil && f >= 0 && f <= 1 }},
		{[]string{"predict", "--model", "gpt2", "--hardware", "cpu"}, "--batch-size", positiveInt},
		{[]string{"predict", "--model", "gpt2", "--hardware", "cpu"}, "--sequence-length", nonNegInt},
		{[]string{"simulate-loop"}, "--target", func(s string) bool { return nonNeg(s) && s != "0" }},
		{[]string{"run", "--session", "s"}, "--parallel", positiveInt},
	}
	cases := 0
	for _, f := range flags {
		for _, v := range hostile.Numbers() {
			if f.ok(strings.TrimSpace(v)) {
				continue
			}
			cases++
			args := append(append([]string{}, f.cmd...), f.flag+"="+v)
			_, errOut, code := cli(t, db, args...)
			assertSafeMessage(t, strings.Join(args, " "), errOut, code, exitUsage, true)
		}
	}
	can := canary(t)
	for _, v := range hostile.All(can) {
		for _, args := range [][]string{{"integrate", "--metric", v}, {"predict", "--model", "gpt2", "--hardware", "cpu", "--precision", v},
			{"export", "--session", "s", "--format", v}, {"evaluate", "--split", v}, {"integrate", "--save", v, "--budget", "1"},
			{"benchmarks", v}, {"sessions", v}, {"catalog", v}, {"sessions", "rename", "s", v}} {
			if ((args[1] == "--save" || args[1] == "rename") && safetext.CheckID(v) == nil) || v == "--help" {
				continue
			}
			cases++
			_, errOut, code := cli(t, db, args...)
			assertSafeMessage(t, safetext.Quote(strings.Join(args, " ")), errOut, code, exitUsage, true)
			assertNoCanary(t, can, strings.Join(args, " "))
		}
	}
	if cases < 30 {
		t.Fatalf("only %d cases", cases)
	}
}
