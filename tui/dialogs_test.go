package tui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
)

type exported struct {
	OptimizationMetric   engine.Metric           `json:"optimization_metric"`
	FinalRecommendations int                     `json:"final_recommendations"`
	Recommendations      []engine.Recommendation `json:"recommendations"`
}

func readExport(t *testing.T, path string) exported {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out exported
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func exportPath(e *testEnv, ext string) string {
	return filepath.Join(e.dir, "perfpilot-export-20260314-150926."+ext)
}

func TestExportSelectedRowsAsJSON(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "space", "j", "space")
	want := ids(m.recs.Selected())
	keys(t, m, "e")
	d, ok := m.dialog.(*exportDialog)
	if !ok {
		t.Fatal("e opened no export dialog")
	}
	if d.ti.Value() != exportPath(e, "json") || d.format != exportJSON {
		t.Fatalf("pre-filled %q format %v", d.ti.Value(), d.format)
	}
	mustContain(t, screen(m), "Export 2 selected rows", "JSON", "CSV", "shell script", "perfpilot-export-20260314-150926.json")
	keys(t, m, "enter")
	if m.dialog != nil {
		t.Fatal("dialog still open")
	}
	got := readExport(t, exportPath(e, "json"))
	if !slices.Equal(ids(got.Recommendations), want) || got.OptimizationMetric != engine.Throughput || got.FinalRecommendations != 2 {
		t.Fatalf("exported %v (%s), want %v", ids(got.Recommendations), got.OptimizationMetric, want)
	}
	mustContain(t, screen(m), "exported 2 row(s) as JSON")
}

func TestExportCursorRowWhenNothingSelected(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "j", "j")
	cur, _ := m.recs.Current()
	keys(t, m, "e", "enter")
	got := readExport(t, exportPath(e, "json"))
	if len(got.Recommendations) != 1 || recID(got.Recommendations[0]) != recID(cur) {
		t.Fatalf("exported %v, want the cursor row %s", ids(got.Recommendations), recID(cur))
	}
}

func TestExportFormatsCSVAndScript(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "e", "tab")
	d := m.dialog.(*exportDialog)
	if d.format != exportCSV || d.ti.Value() != exportPath(e, "csv") {
		t.Fatalf("tab: format %v path %q", d.format, d.ti.Value())
	}
	keys(t, m, "enter")
	csv, err := os.ReadFile(exportPath(e, "csv"))
	if err != nil || !strings.HasPrefix(string(csv), "rank,model_name") || strings.Count(string(csv), "\n") != 2 {
		t.Fatalf("csv %q, %v", csv, err)
	}
	keys(t, m, "e", "tab", "tab")
	if d := m.dialog.(*exportDialog); d.format != exportScript {
		t.Fatalf("format %v", d.format)
	}
	keys(t, m, "shift+tab", "shift+tab", "shift+tab") // wraps round to the script again
	keys(t, m, "enter")
	sh, err := os.ReadFile(exportPath(e, "sh"))
	if err != nil || !strings.Contains(string(sh), "python run_benchmark.py --model") {
		t.Fatalf("script %q, %v", sh, err)
	}
	// The path is editable.
	keys(t, m, "e")
	clearInput(t, m)
	typeText(t, m, filepath.Join(e.dir, "mine.json"))
	keys(t, m, "enter")
	if _, err := os.Stat(filepath.Join(e.dir, "mine.json")); err != nil {
		t.Fatal(err)
	}
}

func TestExportDialogCancel(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "e", "esc")
	if m.dialog != nil {
		t.Fatal("esc did not close the export dialog")
	}
	if _, err := os.Stat(exportPath(e, "json")); !os.IsNotExist(err) {
		t.Fatal("cancelled export wrote a file")
	}
	// Keys inside the dialog are text, not commands.
	keys(t, m, "e")
	typeText(t, m, "lq")
	if m.ctx.Metric != engine.Throughput || m.dialog == nil {
		t.Fatal("keys typed into the export path acted as commands")
	}
	keys(t, m, "esc")
	// Export outside views 1–2 explains itself.
	keys(t, m, "4", "e")
	if m.dialog != nil || !strings.Contains(m.status, "views 1 and 2") {
		t.Fatalf("export from Benchmarks: dialog %v status %q", m.dialog, m.status)
	}
}

func TestExportAsksBeforeOverwriting(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	path := exportPath(e, "json")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	keys(t, m, "e", "enter")
	if _, ok := m.dialog.(*confirmDialog); !ok {
		t.Fatal("no overwrite question")
	}
	mustContain(t, screen(m), "Overwrite?", "already exists")
	for _, k := range []string{"enter", "n", "esc"} {
		if k != "enter" {
			keys(t, m, "e", "enter")
		}
		keys(t, m, k)
		if b, _ := os.ReadFile(path); string(b) != "keep me" || m.dialog != nil {
			t.Fatalf("%s overwrote the file or left the dialog open", k)
		}
	}
	keys(t, m, "e", "enter", "y")
	if got := readExport(t, path); len(got.Recommendations) != 1 {
		t.Fatalf("y did not overwrite: %v", got)
	}
}

func TestSaveSession(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "l", "space", "space")
	keys(t, m, "ctrl+s")
	if _, ok := m.dialog.(*promptDialog); !ok {
		t.Fatal("ctrl+s opened no prompt")
	}
	mustContain(t, screen(m), "Save session as")
	typeText(t, m, "first look")
	keys(t, m, "enter")
	if m.sessionName != "first look" || m.dirty {
		t.Fatalf("session %q dirty %v; status %q", m.sessionName, m.dirty, m.status)
	}
	mustContain(t, screen(m), "session: first look")
	s, err := e.db.Session(t.Context(), "first look")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Selected) != 2 || s.Params.Metric != engine.Latency || s.Params.Budget != 20 || len(s.Report.Recommendations) != 20 {
		t.Fatalf("saved %+v", s.Params)
	}
	if !slices.Equal(m.sessionNames(), []string{"first look"}) {
		t.Fatalf("session list %v", m.sessionNames())
	}
	// Saving again under the same name replaces it without asking.
	keys(t, m, "space", "ctrl+s", "enter")
	if s, _ := e.db.Session(t.Context(), "first look"); len(s.Selected) != 3 {
		t.Fatalf("re-save kept %d selected", len(s.Selected))
	}
	// Cancel paths: esc, and an empty name.
	keys(t, m, "ctrl+s", "esc")
	keys(t, m, "ctrl+s")
	clearInput(t, m)
	keys(t, m, "enter")
	if m.dialog != nil || len(m.sessionNames()) != 1 {
		t.Fatalf("cancelled saves changed the sessions: %v", m.sessionNames())
	}
}

func TestSaveSessionUnderAnotherExistingNameAsks(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "space", "ctrl+s")
	typeText(t, m, "a")
	keys(t, m, "enter", "ctrl+s")
	clearInput(t, m)
	typeText(t, m, "b")
	keys(t, m, "enter", "space") // session b, now 2 selected
	for _, k := range []string{"enter", "n", "esc"} {
		keys(t, m, "ctrl+s")
		clearInput(t, m)
		typeText(t, m, "a")
		keys(t, m, "enter")
		if _, ok := m.dialog.(*confirmDialog); !ok {
			t.Fatal("no replace question")
		}
		keys(t, m, k)
		if s, _ := e.db.Session(t.Context(), "a"); len(s.Selected) != 1 {
			t.Fatalf("%s replaced session a", k)
		}
	}
	keys(t, m, "ctrl+s")
	clearInput(t, m)
	typeText(t, m, "a")
	keys(t, m, "enter", "y")
	if s, _ := e.db.Session(t.Context(), "a"); len(s.Selected) != 2 || m.sessionName != "a" {
		t.Fatal("y did not replace session a")
	}
}

func TestSessionsOpenRenameDelete(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "l", "j", "space", "space", "ctrl+s")
	typeText(t, m, "lat")
	keys(t, m, "enter")
	saved := ids(m.recs.Selected())
	// Move away: another metric and budget, no selection.
	keys(t, m, "m", "+", "esc")
	if len(m.sel) != 0 || m.report.OptimizationMetric != engine.Memory {
		t.Fatal("setup")
	}
	keys(t, m, "5")
	mustContain(t, screen(m), "1 saved session(s)", "lat", "latency")
	keys(t, m, "enter")
	if m.ctx.View != viewRecs || m.sessionName != "lat" || m.report.OptimizationMetric != engine.Latency || m.budget != 20 {
		t.Fatalf("open: view %v session %q metric %s budget %d", m.ctx.View, m.sessionName, m.report.OptimizationMetric, m.budget)
	}
	if !slices.Equal(ids(m.recs.Selected()), saved) {
		t.Fatalf("selection %v, saved %v", ids(m.recs.Selected()), saved)
	}
	mustContain(t, screen(m), "session: lat", "[Latency]", "2 selected")

	// Rename: esc cancels, enter renames.
	keys(t, m, "5", "n")
	if d, ok := m.dialog.(*promptDialog); !ok || d.ti.Value() != "lat" {
		t.Fatal("n opened no pre-filled prompt")
	}
	keys(t, m, "esc")
	if !slices.Equal(m.sessionNames(), []string{"lat"}) {
		t.Fatal("cancelled rename renamed")
	}
	keys(t, m, "n")
	typeText(t, m, "ency")
	keys(t, m, "enter")
	if !slices.Equal(m.sessionNames(), []string{"latency"}) || m.sessionName != "latency" {
		t.Fatalf("rename: %v, open %q", m.sessionNames(), m.sessionName)
	}

	// Delete: enter, n and esc all keep it; only y deletes.
	for _, k := range []string{"enter", "n", "esc"} {
		keys(t, m, "d")
		if _, ok := m.dialog.(*confirmDialog); !ok {
			t.Fatal("d asked nothing")
		}
		mustContain(t, screen(m), "Delete session?", "n/enter/esc no (default)")
		keys(t, m, k)
		if m.dialog != nil || len(m.sessionNames()) != 1 {
			t.Fatalf("%s deleted the session (or left the dialog open)", k)
		}
		if _, err := e.db.Session(t.Context(), "latency"); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	keys(t, m, "d", "y")
	if len(m.sessionNames()) != 0 || m.sessionName != "" {
		t.Fatalf("y: sessions %v, open %q", m.sessionNames(), m.sessionName)
	}
	if _, err := e.db.Session(t.Context(), "latency"); err == nil {
		t.Fatal("session still in the database")
	}
	mustContain(t, screen(m), "session: unsaved")
}

func TestEnterNeverConfirmsADestructiveQuestion(t *testing.T) {
	// Every y/N the dashboard asks defaults to No.
	e := newEnv(t)
	m := newModel(t, e)
	ran := false
	m.dialog = &confirmDialog{title: "Delete?", body: "x", onYes: func() tea.Cmd { ran = true; return nil }}
	keys(t, m, "enter")
	if ran || m.dialog != nil {
		t.Fatal("enter confirmed")
	}
}

func TestOpenSessionAsksWhenSelectionUnsaved(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	keys(t, m, "ctrl+s")
	typeText(t, m, "empty")
	keys(t, m, "enter")
	m.sessionName = ""
	keys(t, m, "space", "5", "enter")
	if _, ok := m.dialog.(*confirmDialog); !ok {
		t.Fatal("opening over an unsaved selection did not ask")
	}
	keys(t, m, "enter")
	if m.sessionName != "" || len(m.sel) != 1 {
		t.Fatal("enter opened the session")
	}
	keys(t, m, "enter", "y")
	if m.sessionName != "empty" || len(m.sel) != 0 {
		t.Fatalf("y: session %q, %d selected", m.sessionName, len(m.sel))
	}
}

func TestImportResults(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	good := filepath.Join(e.dir, "lab.csv")
	os.WriteFile(good, []byte("model_name,hardware,batch_size,precision,latency_ms,memory_mb,extra\n"+
		"gpt2,cuda,4,fp16,3.2,900,x\nbert-base-uncased,cpu,2,fp32,40,700,y\n"), 0o644)
	keys(t, m, "i")
	if _, ok := m.dialog.(*promptDialog); !ok {
		t.Fatal("i opened no prompt")
	}
	mustContain(t, screen(m), "Import results")
	typeText(t, m, good)
	keys(t, m, "enter")
	if len(m.results) != 98 {
		t.Fatalf("%d results after import; status %q", len(m.results), m.status)
	}
	mustContain(t, screen(m), "98 measured results (simulated 96, import:lab.csv 2)")
	if !strings.Contains(m.status, "ranked") {
		t.Fatalf("no re-rank after import: %q", m.status)
	}

	bad := filepath.Join(e.dir, "bad.csv")
	os.WriteFile(bad, []byte("model_name,hardware,batch_size,latency_ms\n"+
		"gpt2,cuda,4,3.2\ngpt2,cuda,-4,3.2\nnot-a-model,cuda,1,2\n"), 0o644)
	keys(t, m, "i")
	typeText(t, m, bad)
	keys(t, m, "enter")
	d, ok := m.dialog.(*messageDialog)
	if !ok {
		t.Fatalf("no error dialog; status %q", m.status)
	}
	s := screen(m)
	mustContain(t, s, "Import failed: nothing was imported", "bad.csv:3", "bad.csv:4")
	if n, _ := e.db.CountResults(t.Context()); n != 98 {
		t.Fatalf("half-imported: %d results", n)
	}
	_ = d
	keys(t, m, "enter")
	if m.dialog != nil {
		t.Fatal("enter did not close the error")
	}
	// A missing file, and the cancel path.
	keys(t, m, "i")
	typeText(t, m, filepath.Join(e.dir, "nope.csv"))
	keys(t, m, "enter")
	mustContain(t, screen(m), "nope.csv")
	keys(t, m, "esc", "i", "esc")
	if m.dialog != nil {
		t.Fatal("esc did not cancel the import prompt")
	}
	if n, _ := e.db.CountResults(t.Context()); n != 98 {
		t.Fatalf("%d results", n)
	}
}
