package tui

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
	"perfpilot/store"
)

// fixedNow is the injected clock: snapshots and export names stay stable.
var fixedNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func clock() time.Time { return fixedNow }

// testEnv is a real store DB (seeded with the demo history) and catalog.
type testEnv struct {
	db   *store.DB
	cat  *engine.Catalog
	dir  string
	path string
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	cat, err := engine.NewBuiltinCatalog()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "perfpilot.db")
	db, err := store.Open(context.Background(), path, store.WithSeed(func() []engine.Result { return engine.DemoHistory(cat) }), store.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testEnv{db: db, cat: cat, dir: dir, path: path}
}

func (e *testEnv) options() Options {
	return Options{DB: e.db, Catalog: e.cat, Seed: 1, Now: clock, ExportDir: e.dir, NoColor: true}
}

// newModel starts a model at 120×35 and runs its start-up work.
func newModel(t testing.TB, e *testEnv) *Model {
	t.Helper()
	m := New(context.Background(), e.options())
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
	drive(t, m, m.Init())
	if m.report == nil {
		t.Fatalf("no report after start-up; status %q", m.status)
	}
	return m
}

// drive runs cmd and every command its messages lead to, feeding the
// messages back through Update, until nothing is left. Spinner ticks are
// dropped (they only animate); quit is recorded.
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

func ids(rows []rec) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = recID(r)
	}
	return out
}

// sessionNames lists the saved sessions' names (sorted), for tests.
func (m *Model) sessionNames() []string {
	var out []string
	for _, s := range m.sessions.Items() {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}
