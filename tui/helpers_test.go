package tui

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
	"perfpilot/tui/common"
)

// fixedNow is the injected clock: snapshots and export names stay stable.
var fixedNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func clock() time.Time { return fixedNow }

// testCatalog is shared so that cachedRanker reuses fits across tests.
var testCatalog = engine.MustBuiltinCatalog()

// testEnv is an in-memory store seeded with the demo history.
type testEnv struct {
	st  *fakeStore
	cat *engine.Catalog
	dir string
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	return &testEnv{st: newFakeStore(testCatalog, clock), cat: testCatalog, dir: t.TempDir()}
}

func (e *testEnv) options() Options {
	return Options{Store: e.st, Ranker: sharedRanker, Catalog: e.cat, Seed: 1, Now: clock, ExportDir: e.dir, NoColor: true}
}

// newTestModel makes a model whose timers do not block drive: the status
// expiry is never scheduled and run ticks are short.
func newTestModel(t testing.TB, opts Options) *Model {
	t.Helper()
	m := New(context.Background(), opts)
	m.tick = func(time.Duration, tea.Msg) tea.Cmd { return nil }
	m.runTick = 10 * time.Millisecond
	return m
}

// newModel starts a model at 120×35 and runs its start-up work.
func newModel(t testing.TB, e *testEnv) *Model {
	t.Helper()
	return sizedModel(t, e.options(), 120, 35)
}

func sizedModel(t testing.TB, opts Options, w, h int) *Model {
	t.Helper()
	m := newTestModel(t, opts)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	drive(t, m, m.Init())
	if m.report == nil {
		t.Fatalf("no report after start-up; status %q", m.status.Text)
	}
	return m
}

func drive(t testing.TB, m *Model, cmd tea.Cmd) (quit bool) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 1000 {
			t.Fatal("drive: too many steps")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil, spinner.TickMsg:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			quit = true
		default:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
	return quit
}

// press builds the key message for a key name as Bubble Tea reports it.
func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "delete":
		return tea.KeyPressMsg{Code: tea.KeyDelete}
	}
	if rest, ok := strings.CutPrefix(s, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(rest[0]), Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	if unicode.IsUpper(r) {
		return tea.KeyPressMsg{Code: unicode.ToLower(r), Text: s, Mod: tea.ModShift}
	}
	return tea.KeyPressMsg{Code: r, Text: s}
}

// keys presses each key and runs the resulting work; it reports whether
// the program asked to quit.
func keys(t testing.TB, m *Model, names ...string) (quit bool) {
	t.Helper()
	for _, k := range names {
		_, cmd := m.Update(press(k))
		if drive(t, m, cmd) {
			quit = true
		}
	}
	return quit
}

// typeText types s into whatever has focus.
func typeText(t testing.TB, m *Model, s string) {
	t.Helper()
	for _, r := range s {
		_, cmd := m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		drive(t, m, cmd)
	}
}

// clearInput deletes what the focused input holds.
func clearInput(t testing.TB, m *Model) {
	t.Helper()
	_, cmd := m.Update(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	drive(t, m, cmd)
}

func configs(rows []rec) []engine.Config {
	out := make([]engine.Config, len(rows))
	for i, r := range rows {
		out[i] = r.Config()
	}
	return out
}

// screen is the rendered screen without ANSI sequences.
func screen(m *Model) string { return ansi.Strip(m.Render()) }

func mustContain(t testing.TB, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Fatalf("screen lacks %q:\n%s", sub, s)
		}
	}
}

func mustNotContain(t testing.TB, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			t.Fatalf("screen has %q:\n%s", sub, s)
		}
	}
}

func itoa(i int) string { return common.Itoa(i) }

type exported struct {
	OptimizationMetric engine.Metric           `json:"optimization_metric"`
	Recommendations    []engine.Recommendation `json:"recommendations"`
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
