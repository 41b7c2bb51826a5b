package tui

import (
	"image/color"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
)

func TestStartupShowsDemoDataLabelled(t *testing.T) {
	m := newModel(t, newEnv(t))
	if got := len(m.report.Recommendations); got != engine.DefaultBudget {
		t.Fatalf("rows = %d, want the default budget %d", got, engine.DefaultBudget)
	}
	s := screen(m)
	mustContain(t, s, "perfpilot", "session: unsaved", "96 measured results (simulated 96)", "SIMULATED DEMO DATA",
		"[Throughput]", " Latency ", " Memory ", "budget 20", "[1 Recommendations]")
}

func TestViewKeysAndTabCycle(t *testing.T) {
	m := newModel(t, newEnv(t))
	for i, k := range []string{"1", "2", "3", "4", "5"} {
		keys(t, m, k)
		if m.ctx.View != viewID(i) {
			t.Fatalf("key %s: view %v", k, m.ctx.View)
		}
		mustContain(t, screen(m), "["+k+" "+viewID(i).String()+"]")
	}
	keys(t, m, "tab")
	if m.ctx.View != viewRecs {
		t.Fatalf("tab from Sessions: view %v, want Recommendations", m.ctx.View)
	}
	keys(t, m, "tab", "tab")
	if m.ctx.View != viewHardware {
		t.Fatalf("tab tab: view %v", m.ctx.View)
	}
	keys(t, m, "shift+tab")
	if m.ctx.View != viewMismatches {
		t.Fatalf("shift+tab: view %v", m.ctx.View)
	}
}

func TestMetricKeysRerankInBackground(t *testing.T) {
	m := newModel(t, newEnv(t))
	for _, tc := range []struct {
		key    string
		metric engine.Metric
		tab    string
		unit   string
	}{{"l", engine.Latency, "[Latency]", "Lat ms"}, {"m", engine.Memory, "[Memory]", "Mem MB"}, {"t", engine.Throughput, "[Throughput]", "Thr/s"}} {
		_, cmd := m.Update(press(tc.key))
		// The key returns at once; the ranking runs in a command, with a spinner.
		if !m.isPending(jobRank) || m.ctx.Metric != tc.metric {
			t.Fatalf("%s: rank pending %v, metric %s", tc.key, m.isPending(jobRank), m.ctx.Metric)
		}
		mustContain(t, screen(m), "ranking…", tc.tab)
		drive(t, m, cmd)
		if m.report.OptimizationMetric != tc.metric {
			t.Fatalf("%s: report metric %s", tc.key, m.report.OptimizationMetric)
		}
		mustContain(t, screen(m), tc.unit, "ranked 20 of")
	}
}

func TestThroughputAndLatencyRankAlike(t *testing.T) {
	// One forward pass: throughput = batch×1000/latency, so for a fixed
	// batch both metrics order hardware the same way; only values change.
	m := newModel(t, newEnv(t))
	thr := m.report.Recommendations[0]
	keys(t, m, "l")
	for _, r := range m.report.Recommendations {
		if recID(r) == recID(thr) {
			want := float64(r.BatchSize) * 1000 / r.Predicted.LatencyMS.Value
			if d := want/r.Predicted.Throughput.Value - 1; d > 0.01 || d < -0.01 {
				t.Fatalf("throughput %v vs batch×1000/latency %v", r.Predicted.Throughput.Value, want)
			}
		}
	}
}

func TestStaleRankingIsDropped(t *testing.T) {
	m := newModel(t, newEnv(t))
	_, cmdL := m.Update(press("l"))
	_, cmdM := m.Update(press("m"))
	drive(t, m, cmdM)
	if m.report.OptimizationMetric != engine.Memory {
		t.Fatalf("metric %s, want memory", m.report.OptimizationMetric)
	}
	want := ids(m.report.Recommendations)
	drive(t, m, cmdL) // the superseded latency ranking arrives late
	if m.report.OptimizationMetric != engine.Memory || strings.Join(ids(m.report.Recommendations), ",") != strings.Join(want, ",") {
		t.Fatalf("stale ranking replaced the current one: metric %s", m.report.OptimizationMetric)
	}
	if m.statusErr {
		t.Fatalf("stale ranking surfaced an error: %s", m.status)
	}
	// A forged answer to an old request is dropped too.
	m.Update(rankedMsg{id: 1, report: &engine.Report{OptimizationMetric: engine.Latency}})
	if m.report.OptimizationMetric != engine.Memory {
		t.Fatal("answer to request 1 was applied")
	}
}

func TestBudgetKeys(t *testing.T) {
	m := newModel(t, newEnv(t))
	keys(t, m, "+")
	if m.budget != 21 || len(m.report.Recommendations) != 21 {
		t.Fatalf("after +: budget %d, rows %d", m.budget, len(m.report.Recommendations))
	}
	mustContain(t, screen(m), "budget 21")
	keys(t, m, "-", "-")
	if m.budget != 19 || len(m.report.Recommendations) != 19 {
		t.Fatalf("after - -: budget %d, rows %d", m.budget, len(m.report.Recommendations))
	}
	m.budget = 1
	keys(t, m, "-")
	if m.budget != 1 {
		t.Fatalf("budget went below 1: %d", m.budget)
	}
}

func TestFilterIncrementalAndEsc(t *testing.T) {
	m := newModel(t, newEnv(t))
	total := m.recs.Len()
	keys(t, m, "/")
	if !m.filtering {
		t.Fatal("/ did not focus the filter")
	}
	typeText(t, m, "cu")
	afterTwo := m.recs.Len()
	typeText(t, m, "da")
	if m.recs.Len() > afterTwo || m.recs.Filter() != "cuda" {
		t.Fatalf("filter not incremental: %d then %d rows, filter %q", afterTwo, m.recs.Len(), m.recs.Filter())
	}
	for _, r := range m.recs.rowsForTest() {
		if !strings.Contains(recSearch(r), "cuda") {
			t.Fatalf("row %s does not match cuda", recID(r))
		}
	}
	// Keys typed into the filter are text, not commands.
	if m.ctx.Metric != engine.Throughput {
		t.Fatal("a key typed into the filter changed the metric")
	}
	keys(t, m, "enter")
	if m.filtering || m.recs.Filter() != "cuda" {
		t.Fatalf("enter: filtering %v filter %q", m.filtering, m.recs.Filter())
	}
	mustContain(t, screen(m), `filter "cuda"`)
	keys(t, m, "esc")
	if m.recs.Filter() != "" || m.recs.Len() != total {
		t.Fatalf("esc did not clear the filter: %q, %d rows", m.recs.Filter(), m.recs.Len())
	}
	// By type, then esc while typing clears at once.
	keys(t, m, "/")
	typeText(t, m, "text_gen")
	for _, r := range m.recs.rowsForTest() {
		if r.ModelType != "text_generation" {
			t.Fatalf("type filter let %s through", r.ModelType)
		}
	}
	keys(t, m, "esc")
	if m.filtering || m.recs.Filter() != "" {
		t.Fatal("esc in the filter input did not clear it")
	}
}

func TestSortCyclesAndReverses(t *testing.T) {
	m := newModel(t, newEnv(t))
	keys(t, m, "j", "j", "j")
	id, _ := m.recs.CurrentID()
	keys(t, m, "s") // #
	keys(t, m, "s") // Model
	if col, desc := m.recs.SortState(); col != "Model" || desc {
		t.Fatalf("sort %q desc %v", col, desc)
	}
	rows := m.recs.rowsForTest()
	for i := 1; i < len(rows); i++ {
		if rows[i-1].ModelName > rows[i].ModelName {
			t.Fatalf("not sorted by model at %d", i)
		}
	}
	if cur, _ := m.recs.CurrentID(); cur != id {
		t.Fatalf("cursor left its row after the sort: %s, want %s", cur, id)
	}
	keys(t, m, "S")
	rows = m.recs.rowsForTest()
	if _, desc := m.recs.SortState(); !desc || rows[0].ModelName < rows[len(rows)-1].ModelName {
		t.Fatal("S did not reverse the sort")
	}
	if cur, _ := m.recs.CurrentID(); cur != id {
		t.Fatal("cursor left its row after reversing")
	}
	mustContain(t, screen(m), "sort Model▼")
	back := false
	for range len(recColumns(engine.Throughput, nil)) {
		keys(t, m, "s")
		if col, _ := m.recs.SortState(); col == "" {
			back = true
			break
		}
	}
	if !back {
		t.Fatal("cycling never returned to rank order")
	}
}

func TestSelectionKeys(t *testing.T) {
	m := newModel(t, newEnv(t))
	keys(t, m, "space")
	if m.recs.Cursor() != 1 || len(m.sel) != 1 {
		t.Fatalf("space: cursor %d, %d selected", m.recs.Cursor(), len(m.sel))
	}
	keys(t, m, "k", "space")
	if len(m.sel) != 0 {
		t.Fatal("space did not toggle the selection off")
	}
	keys(t, m, "/")
	typeText(t, m, "rocm")
	keys(t, m, "enter", "ctrl+a")
	if len(m.sel) != m.recs.Len() || m.recs.Len() == 0 || m.recs.Len() == m.recs.Total() {
		t.Fatalf("ctrl+a selected %d of %d visible (%d total)", len(m.sel), m.recs.Len(), m.recs.Total())
	}
	mustContain(t, screen(m), itoa(len(m.sel))+" selected")
	keys(t, m, "esc") // clears the filter first
	if len(m.sel) == 0 {
		t.Fatal("first esc cleared the selection instead of the filter")
	}
	keys(t, m, "esc")
	if len(m.sel) != 0 {
		t.Fatal("esc did not clear the selection")
	}
}

func TestNavigationKeys(t *testing.T) {
	e := newEnv(t)
	m := New(t.Context(), e.options())
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 20})
	m.budget = 60
	drive(t, m, m.Init())
	n := m.recs.Len()
	page := m.recs.PageSize()
	for _, tc := range []struct {
		key  string
		want int
	}{{"j", 1}, {"down", 2}, {"k", 1}, {"up", 0}, {"up", 0}, {"G", n - 1}, {"g", 0}, {"end", n - 1}, {"home", 0},
		{"pgdown", page}, {"pgdown", 2 * page}, {"pgup", page}} {
		keys(t, m, tc.key)
		if m.recs.Cursor() != tc.want {
			t.Fatalf("%s: cursor %d, want %d", tc.key, m.recs.Cursor(), tc.want)
		}
	}
	keys(t, m, "G")
	s := screen(m)
	mustContain(t, s, "› "+itoa(n)[:0]) // cursor mark drawn
	if !strings.Contains(s, "› ") || !strings.Contains(s, itoa(n)+"/"+itoa(n)) {
		t.Fatalf("bottom row not in view:\n%s", s)
	}
}

func TestHelpScreen(t *testing.T) {
	m := newModel(t, newEnv(t))
	mustContain(t, screen(m), "? help", "q quit") // the one-line help bar
	keys(t, m, "?")
	s := screen(m)
	mustContain(t, s, "reverse sort", "select all", "import results", "save session", "recompute", "budget +1", "page down")
	keys(t, m, "j") // ignored while help is open
	if m.recs.Cursor() != 0 || !m.showHelp {
		t.Fatal("help did not stay modal")
	}
	keys(t, m, "?")
	if m.showHelp {
		t.Fatal("? did not close help")
	}
	keys(t, m, "?", "esc")
	if m.showHelp {
		t.Fatal("esc did not close help")
	}
}

func TestQuitAsksOnlyWithUnsavedSelection(t *testing.T) {
	m := newModel(t, newEnv(t))
	if !keys(t, m, "q") {
		t.Fatal("q without a selection did not quit")
	}
	m = newModel(t, newEnv(t))
	keys(t, m, "space")
	for _, k := range []string{"q", "ctrl+c"} {
		if keys(t, m, k) {
			t.Fatalf("%s quit with an unsaved selection", k)
		}
		if _, ok := m.dialog.(*confirmDialog); !ok {
			t.Fatalf("%s: no confirmation", k)
		}
		mustContain(t, screen(m), "Quit?", "not saved")
		if keys(t, m, "enter") {
			t.Fatal("enter confirmed quitting")
		}
		if m.dialog != nil {
			t.Fatal("enter did not close the dialog")
		}
	}
	keys(t, m, "q")
	if keys(t, m, "n") || m.dialog != nil {
		t.Fatal("n did not decline")
	}
	keys(t, m, "q")
	if keys(t, m, "esc") {
		t.Fatal("esc confirmed quitting")
	}
	keys(t, m, "q")
	if !keys(t, m, "y") {
		t.Fatal("y did not quit")
	}
}

func TestRecomputeReloadsTheDatabase(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	rs := engine.DemoHistory(e.cat)[:1]
	rs[0].Source = "bench-lab"
	rs[0].LatencyMS *= 1.1
	if _, _, err := e.db.InsertResults(t.Context(), rs); err != nil {
		t.Fatal(err)
	}
	_, cmd := m.Update(press("r"))
	if !m.isPending(jobRank) {
		t.Fatal("r started no ranking")
	}
	drive(t, m, cmd)
	if len(m.results) != 97 || m.bench.Total() != 97 {
		t.Fatalf("results %d, benchmarks %d, want 97", len(m.results), m.bench.Total())
	}
	mustContain(t, screen(m), "97 measured results (simulated 96, bench-lab 1)")
}

func TestResizeRelayouts(t *testing.T) {
	m := newModel(t, newEnv(t))
	mustContain(t, screen(m), "Type", "80% interval", "Decis", "HWsc")
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	s := screen(m)
	mustNotContain(t, s, "80% interval", "Decis", "HWsc")
	mustContain(t, s, "Model", "Hardware", "Gain", "Rec HW", "Score")
	for i, l := range strings.Split(s, "\n") {
		if w := len([]rune(l)); w > 80 {
			t.Fatalf("line %d is %d wide at 80 columns: %q", i, w, l)
		}
	}
	if got := strings.Count(s, "\n") + 1; got != 24 {
		t.Fatalf("%d lines at 24 rows", got)
	}
	m.Update(tea.WindowSizeMsg{Width: 59, Height: 30})
	mustContain(t, screen(m), "terminal too small")
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 14})
	mustContain(t, screen(m), "terminal too small")
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 15})
	mustNotContain(t, screen(m), "terminal too small")
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	mustContain(t, screen(m), "Type", "80% interval") // what fits stays
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
	mustContain(t, screen(m), "HWsc", "Decis")
}

func TestNoColorHonoured(t *testing.T) {
	e := newEnv(t)
	m := newModel(t, e)
	if out := m.Render(); strings.Contains(out, "38;") || strings.Contains(out, "48;") {
		t.Fatalf("NO_COLOR output has colours: %q", out[:200])
	}
	opts := e.options()
	opts.NoColor = false
	c := New(t.Context(), opts)
	c.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
	drive(t, c, c.Init())
	if out := c.Render(); !strings.Contains(out, "38;") {
		t.Fatal("colour output has no colours")
	}
	// The theme follows the terminal's background.
	c.Update(tea.BackgroundColorMsg{Color: color.White})
	if c.ctx.Theme.IsDark {
		t.Fatal("a white background kept the dark theme")
	}
	c.Update(tea.BackgroundColorMsg{Color: color.Black})
	if !c.ctx.Theme.IsDark {
		t.Fatal("a black background did not pick the dark theme")
	}
}
