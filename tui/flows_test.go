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
	"perfpilot/tui/common"
	"perfpilot/tui/dialog"
	"perfpilot/tui/overview"
)

func TestStartupShowsDemoDataLabelled(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	if got := len(m.report.Recommendations); got != engine.DefaultBudget {
		t.Fatalf("rows = %d, want %d", got, engine.DefaultBudget)
	}
	mustContain(t, screen(m), "session: unsaved", "96 measured results (simulated 96)", "SIMULATED DEMO DATA",
		"[Throughput]", "budget 20", "[1 Recs]", "ranked 20 of")
}

// TestEscLayering: esc closes the innermost thing first — dialog, help,
// log, detail pane, filter, selection — and q never quits from an overlay.
func TestEscLayering(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	keys(t, m, "space", "/")
	typeText(t, m, "cuda")
	keys(t, m, "enter", "enter") // filter kept, detail open
	keys(t, m, "?")
	if !m.showHelp || !m.detailOpen || m.recs.Table().Filter() != "cuda" || m.sel.Len() != 1 {
		t.Fatalf("setup: help %v detail %v filter %q sel %d", m.showHelp, m.detailOpen, m.recs.Table().Filter(), m.sel.Len())
	}
	if keys(t, m, "q") || m.showHelp {
		t.Fatal("q in help quit or left help open")
	}
	keys(t, m, "e") // export dialog over everything
	if keys(t, m, "esc") || m.dialog != nil {
		t.Fatal("esc did not close the dialog first")
	}
	steps := []struct {
		what string
		ok   func() bool
	}{
		{"detail pane", func() bool { return !m.detailOpen && m.recs.Table().Filter() == "cuda" }},
		{"filter", func() bool { return m.recs.Table().Filter() == "" && m.sel.Len() == 1 }},
		{"selection", func() bool { return m.sel.Len() == 0 }},
	}
	for _, s := range steps {
		if keys(t, m, "esc") || !s.ok() {
			t.Fatalf("esc did not close the %s next", s.what)
		}
	}
	keys(t, m, "space", "q") // unsaved selection: asks
	if _, ok := m.dialog.(*dialog.Confirm); !ok {
		t.Fatal("q with an unsaved selection did not ask")
	}
	if keys(t, m, "q") || m.dialog != nil {
		t.Fatal("q in the question quit instead of declining")
	}
	keys(t, m, "L")
	if keys(t, m, "q") || m.showLog {
		t.Fatal("q in the log panel quit or left it open")
	}
}

// TestSelectionSurvivesReranks: selection is a set of configurations; it
// survives t→m→t, budget changes and imports, and rows that left the
// ranking are shown with v.
func TestSelectionSurvivesReranks(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	keys(t, m, "space", "space", "j", "space")
	want := configs(m.recs.Selected())
	keys(t, m, "t", "m", "t")
	if got := configs(m.recs.Selected()); len(got) != 3 || !sameSet(got, want) {
		t.Fatalf("after t m t: %v, want %v", got, want)
	}
	csv := filepath.Join(m.opts.ExportDir, "lab.csv")
	os.WriteFile(csv, []byte("model_name,hardware,batch_size,precision,latency_ms\ngpt2,cuda,4,fp16,3.2\n"), 0o644)
	keys(t, m, "i")
	typeText(t, m, csv)
	keys(t, m, "enter")
	if len(m.results) != 97 || !sameSet(configs(m.recs.Selected()), want) {
		t.Fatalf("after an import: %d results, selection %v", len(m.results), configs(m.recs.Selected()))
	}
	m.budget = 2
	keys(t, m, "-")
	if len(m.report.Recommendations) != 1 {
		t.Fatalf("budget 1: %d rows", len(m.report.Recommendations))
	}
	off := m.recs.OffRanking()
	if off < 2 || m.sel.Len() != 3 {
		t.Fatalf("off-ranking %d, selected %d", off, m.sel.Len())
	}
	mustContain(t, screen(m), itoa(off)+" selected not in the top 1", "v shows them", "3 selected")
	keys(t, m, "v")
	if m.recs.Table().Len() != 3 {
		t.Fatalf("v shows %d rows", m.recs.Table().Len())
	}
	mustContain(t, screen(m), "showing the 3 selected row(s)")
	keys(t, m, "e", "enter")
	got := readExport(t, filepath.Join(m.opts.ExportDir, "perfpilot-export-20260314-150926.json"))
	if len(got.Recommendations) != 3 {
		t.Fatalf("export has %d rows, want the 3 selected", len(got.Recommendations))
	}
}

func sameSet(a, b []engine.Config) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// TestKeysDuringRerank: keys pressed while a re-rank runs act on the table
// on screen, and the cursor stays on its configuration when the new
// ranking lands.
func TestKeysDuringRerank(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	_, cmd := m.Update(press("l"))
	keys(t, m, "j", "j", "space")
	cur, _ := m.recs.Current()
	sel := configs(m.recs.Selected())
	drive(t, m, cmd)
	if m.report.OptimizationMetric != engine.Latency {
		t.Fatal("re-rank lost")
	}
	if after, _ := m.recs.Current(); after.Config() != cur.Config() && slices.Contains(configs(m.report.Recommendations), cur.Config()) {
		t.Fatalf("cursor moved from %s to %s", cur.Config(), after.Config())
	}
	if !sameSet(configs(m.recs.Selected()), sel) {
		t.Fatal("selection made during the re-rank was lost")
	}
}

func TestFilterMatchesPrecisionBatchBackend(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	// Batch and hardware of a ranked row, so the filters match whatever the
	// predictor ranks first.
	top := m.report.Recommendations[0]
	for _, tc := range []struct {
		q  string
		ok func(rec) bool
	}{
		{"int8", func(r rec) bool { return r.Precision == engine.INT8 }},
		{"b:" + itoa(top.BatchSize), func(r rec) bool { return r.BatchSize == top.BatchSize }},
		{"hw:" + top.Hardware + " b:" + itoa(top.BatchSize), func(r rec) bool { return r.Hardware == top.Hardware && r.BatchSize == top.BatchSize }},
	} {
		keys(t, m, "/")
		clearInput(t, m)
		typeText(t, m, tc.q)
		keys(t, m, "enter")
		rows := m.recs.Table().(interface{ Visible() []rec }).Visible()
		if len(rows) == 0 {
			t.Fatalf("%q matched nothing", tc.q)
		}
		for _, r := range rows {
			if !tc.ok(r) {
				t.Fatalf("%q let %s through", tc.q, r.Config())
			}
		}
		mustContain(t, screen(m), "1/"+itoa(len(rows))+" of 20")
		keys(t, m, "esc")
	}
}

func TestMismatchesInPlainWords(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	keys(t, m, "2")
	r, ok := m.mism.Current()
	if !ok {
		t.Fatal("no mismatches in the demo ranking")
	}
	s := screen(m)
	mustContain(t, s, "Improve", common.Improvement(r.ExpectedImprovementPct, engine.Throughput), "slower there, yet it scores higher")
	for _, tc := range []struct {
		pct    float64
		metric engine.Metric
		want   string
	}{{11800, engine.Throughput, "119× faster"}, {9900, engine.Latency, "−99% latency"}, {-20, engine.Throughput, "−20% slower"}, {25, engine.Memory, "−20% memory"}} {
		if got := common.Improvement(tc.pct, tc.metric); got != tc.want {
			t.Errorf("Improvement(%v, %s) = %q, want %q", tc.pct, tc.metric, got, tc.want)
		}
	}
}

// TestOverviewMatchesRecommendHardware: each overview cell is the value
// `perfpilot recommend-hardware --json` prints (the same engine call, with
// the CLI's recommender), for every model and hardware.
func TestOverviewMatchesRecommendHardware(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	keys(t, m, "3")
	rows := m.overview.Rows()
	if len(rows) != len(m.space.Models) || len(rows) == 0 {
		t.Fatalf("%d rows for %d models", len(rows), len(m.space.Models))
	}
	s := screen(m)
	for _, row := range rows {
		hr, err := m.pred.RecommendHardware(t.Context(), engine.Config{Model: row.Model, BatchSize: 1, Precision: engine.FP32}, engine.Throughput, nil,
			engine.Recommender{Weights: engine.DefaultScoreWeights})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(hr)
		var cli engine.HardwareRanking
		json.Unmarshal(data, &cli)
		if cli.RecommendedHardware != row.Ranking.RecommendedHardware {
			t.Fatalf("%s: overview recommends %s, CLI %s", row.Model, row.Ranking.RecommendedHardware, cli.RecommendedHardware)
		}
		for _, hw := range m.overview.Hardware() {
			got, _, _ := overview.Cell(row.Ranking, hw, engine.Throughput)
			want, _, _ := overview.Cell(&cli, hw, engine.Throughput)
			if got != want {
				t.Fatalf("%s on %s: overview %s, CLI %s", row.Model, hw, got, want)
			}
		}
		mustContain(t, s, row.Model)
	}
	mustContain(t, s, "★", "OOM", "on cpu", "(80%:")
	keys(t, m, "/")
	typeText(t, m, "resnet")
	if r, _ := m.overview.Cursor(); rows[r].Model != "microsoft/resnet-50" {
		t.Fatalf("/resnet jumped to %s", rows[r].Model)
	}
	keys(t, m, "esc", "p")
	if rows := m.overview.Rows(); len(rows) == 0 || rows[0].Ranking.Precision != engine.FP16 {
		t.Fatal("p did not re-rank the overview at the next precision")
	}
}

func TestParetoViewMarksFront(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	r, _ := m.recs.Current()
	keys(t, m, "5")
	pts := m.pareto.Points()
	if len(pts) < 10 {
		t.Fatalf("%d points", len(pts))
	}
	for _, p := range pts {
		if p.Config.Model != r.ModelName {
			t.Fatalf("point for %s, cursor row is %s", p.Config.Model, r.ModelName)
		}
	}
	mustContain(t, screen(m), r.ModelName, "on the Pareto front", "● Pareto front")
	before := m.pareto.Cursor()
	keys(t, m, "left")
	if m.pareto.Cursor() != before-1 {
		t.Fatal("← did not move to the previous point")
	}
}

func TestExportErrorStaysInDialog(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	keys(t, m, "e")
	clearInput(t, m)
	typeText(t, m, filepath.Join(m.opts.ExportDir, "no-such-dir", "x.json"))
	keys(t, m, "enter")
	if _, ok := m.dialog.(*dialog.Export); !ok {
		t.Fatal("the export dialog closed on an error")
	}
	mustContain(t, screen(m), "export failed", "no-such-dir")
	path := filepath.Join(m.opts.ExportDir, "keep.json")
	os.WriteFile(path, []byte("keep me"), 0o644)
	clearInput(t, m)
	typeText(t, m, path)
	keys(t, m, "enter")
	mustContain(t, screen(m), "already", "Overwrite it?", "y overwrite")
	keys(t, m, "n")
	if b, _ := os.ReadFile(path); string(b) != "keep me" || m.dialog == nil {
		t.Fatal("n overwrote or closed")
	}
	keys(t, m, "enter", "y")
	if m.dialog != nil || len(readExport(t, path).Recommendations) != 1 {
		t.Fatal("y did not overwrite and close")
	}
	keys(t, m, "L")
	mustContain(t, screen(m), "export failed", "exported 1 row(s) as JSON")
}

func TestReadOnlyBannerAndRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	opts := e.options()
	opts.ReadOnly = "database is read-only (permission denied)"
	m := sizedModel(t, opts, 120, 35)
	mustContain(t, screen(m), "READ-ONLY", "permission denied")
	for _, k := range []string{"ctrl+s", "i", "x"} {
		keys(t, m, k)
		if m.dialog != nil {
			t.Fatalf("%s opened a dialog in read-only mode", k)
		}
		mustContain(t, screen(m), "read-only: cannot")
	}
}

// TestStoredTextIsNeverRaw: ids holding escape sequences and bidi
// overrides are shown escaped, never written to the terminal.
func TestStoredTextIsNeverRaw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.st.results[0].Source = "evil\x1b]0;pwned\x07\u202egnp.exe"
	m := newModel(t, e)
	keys(t, m, "6")
	out := m.Render() // NoColor: no escape sequence at all is ours
	if strings.ContainsAny(out, "\x07\u202e") || strings.Contains(out, "\x1b]") {
		t.Fatalf("raw control characters on screen: %q", out)
	}
	mustContain(t, out, `evil\x1b]0;pwned\x07\u202egnp.exe`)
}

func TestWideTerminalShowsOtherMetrics(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	mustNotContain(t, screen(m), "Lat ms", "Mem MB")
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	mustContain(t, screen(m), "Thr/s", "Lat ms", "Mem MB")
}

func TestSortArrowVisibleWhenNarrow(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 20})
	keys(t, m, "s", "s") // by Model: a flex column squeezed to its minimum
	header := strings.Split(screen(m), "\n")[3]
	if !strings.Contains(header, "▲") {
		t.Fatalf("no sort arrow in %q", header)
	}
}

func TestMouseWheelClickAndTabs(t *testing.T) {
	t.Parallel()
	m := newModel(t, newEnv(t))
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown, Y: 10})
	if m.recs.Table().Cursor() != 3 {
		t.Fatalf("wheel: cursor %d", m.recs.Table().Cursor())
	}
	m.Update(tea.MouseClickMsg{Button: tea.MouseLeft, X: 10, Y: headerLines + 1 + 5}) // table header, then row 6
	if m.recs.Table().Cursor() != 5 {
		t.Fatalf("click: cursor %d, want 5", m.recs.Table().Cursor())
	}
	x := strings.Index(strings.Split(screen(m), "\n")[2], "6 Bench")
	_, cmd := m.Update(tea.MouseClickMsg{Button: tea.MouseLeft, X: x + 1, Y: headerLines - 1})
	drive(t, m, cmd)
	if m.view != viewBenchmarks {
		t.Fatalf("click on the Bench tab: view %v", m.view)
	}
}

func TestEmptyStatesSayWhatToDo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.st.results = nil
	opts := e.options()
	m := newTestModel(t, opts)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
	drive(t, m, m.Init())
	keys(t, m, "6")
	mustContain(t, screen(m), "No results yet — press i to import")
	keys(t, m, "7")
	mustContain(t, screen(m), "No saved sessions yet — ctrl+s saves")
}

// TestImportRefusesDevices: i on a device or a directory fails at once
// with a message naming what it is (formats.OpenInput, as the CLI's import)
// and imports nothing.
func TestImportRefusesDevices(t *testing.T) {
	m := newModel(t, newEnv(t))
	before := len(m.results)
	cases := map[string]string{t.TempDir(): "a directory"}
	if _, err := os.Stat("/dev/zero"); err == nil {
		cases["/dev/zero"] = "a device"
	}
	for path, want := range cases {
		keys(t, m, "i")
		typeText(t, m, path)
		keys(t, m, "enter")
		if len(m.results) != before || m.dialog == nil {
			t.Fatalf("%s: %d results (was %d), dialog %v", path, len(m.results), before, m.dialog)
		}
		mustContain(t, screen(m), "Import failed", want)
		keys(t, m, "esc")
	}
}
