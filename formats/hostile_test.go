package formats

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"perfpilot/engine"
	"perfpilot/internal/hostile"
)

// Every hostile value, control characters included (they can reach an
// export from an old database), comes out of the script as exactly one
// argument and runs nothing.
func TestExportScriptHostileValues(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	dir := t.TempDir()
	canary := filepath.Join(dir, "CANARY")
	var rows []engine.Recommendation
	var want []string
	for i, v := range hostile.All(canary) {
		if strings.ContainsRune(v, 0) {
			continue // argv cannot carry NUL; the script still must not run it (checked below via the canary)
		}
		rows = append(rows, engine.Recommendation{Rank: i + 1, ModelName: v, Hardware: "cpu", BatchSize: 1, Precision: engine.FP32})
		want = append(want, v)
	}
	script, err := ExportScript(rows, `printf '%s\0' {model}`, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "run.sh")
	if err := WriteScript(path, script, false); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, path)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("script failed: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(got) != len(want) {
		t.Fatalf("%d arguments printed, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: printed %.80q, want %.80q", i, got[i], want[i])
		}
	}
	if _, err := os.Stat(canary); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a hostile value ran a command")
	}
	if len(want) < 30 {
		t.Fatalf("only %d values", len(want))
	}
}

// Spreadsheet-safe CSV (OWASP): text cells that a spreadsheet would run
// start with an apostrophe — a formula character first, after leading
// blanks, or in its full-width form, and a leading tab, CR or LF; numbers,
// negative and tiny ones included, stay numbers.
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	var values []string
	for _, trigger := range []string{"=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"} {
		for _, prefix := range []string{"", " ", "   ", "\u00a0", "\u3000", "\t", "\r", "\n", " \t"} {
			values = append(values, prefix+trigger+"1+1", prefix+trigger+"cmd|' /C calc'!A0")
		}
	}
	values = append(values, hostile.Spreadsheet()...)
	values = append(values, "\t", "\r", "\n", "\tplain", "\rplain")
	safe := []string{"plain", "a=b", "x-1", "gpt2@cpu", "1+1", "模型=1"}
	var rows []engine.Recommendation
	for _, v := range append(values, safe...) {
		rows = append(rows, engine.Recommendation{Rank: 1, ModelName: v, Hardware: v, RecommendedHardware: v, BatchSize: 2,
			Precision: engine.FP16, ExpectedImprovementPct: -3.5, DecisionValue: 1e-5, HardwareScore: -0.25})
	}
	data, err := ExportCSV(rows, engine.Throughput)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for i, rec := range recs[1:] {
		orig := rows[i].ModelName
		for _, c := range []string{"model_name", "hardware", "recommended_hardware"} {
			cell := rec[col[c]]
			if i < len(values) {
				if cell != "'"+orig {
					t.Errorf("%s %q exported as %q, want it neutralised", c, orig, cell)
				}
			} else if cell != orig {
				t.Errorf("%s %q exported as %q, want it unchanged", c, orig, cell)
			}
		}
		if rec[col["expected_improvement_pct"]] != "-3.5" || rec[col["decision_value"]] != "0.00001" ||
			rec[col["hardware_score"]] != "-0.25" || rec[col["batch_size"]] != "2" {
			t.Errorf("numbers changed: %q, %q, %q, %q", rec[col["expected_improvement_pct"]], rec[col["decision_value"]],
				rec[col["hardware_score"]], rec[col["batch_size"]])
		}
	}
}
