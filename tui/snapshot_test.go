package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// plain strips ANSI and trailing blanks so goldens are readable text.
func plain(s string) string {
	lines := strings.Split(ansi.Strip(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestSnapshots compares View() with golden plain-text files in
// testdata/TestSnapshots; regenerate them with `go test ./tui -run
// TestSnapshots -update`.
func TestSnapshots(t *testing.T) {
	screens := []struct {
		name string
		keys []string
	}{
		{"recommendations", nil},
		{"detail", []string{"j", "enter"}},
		{"latency_selected", []string{"l", "space", "space"}},
		{"mismatches", []string{"2"}},
		{"hardware", []string{"3"}},
		{"benchmarks", []string{"4"}},
		{"sessions", []string{"5"}},
		{"help", []string{"?"}},
		{"export_dialog", []string{"space", "e"}},
		{"delete_confirm", []string{"ctrl+s", "n", "i", "g", "h", "t", "enter", "5", "d"}},
	}
	for _, size := range [][2]int{{120, 35}, {80, 24}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%dx%d/%s", size[0], size[1], sc.name), func(t *testing.T) {
				e := newEnv(t)
				opts := e.options()
				opts.ExportDir = "" // a bare file name: stable across runs
				m := New(t.Context(), opts)
				m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				drive(t, m, m.Init())
				for _, k := range sc.keys {
					if len(k) == 1 && sc.name == "delete_confirm" && m.dialog != nil {
						typeText(t, m, k)
						continue
					}
					keys(t, m, k)
				}
				out := m.View().Content
				if got := strings.Count(out, "\n") + 1; got != size[1] {
					t.Fatalf("%d lines, want %d", got, size[1])
				}
				for i, l := range strings.Split(out, "\n") {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Fatalf("line %d is %d cells wide", i, w)
					}
				}
				golden.RequireEqual(t, []byte(plain(out)))
			})
		}
	}
}

func TestTooSmallSnapshot(t *testing.T) {
	m := New(t.Context(), newEnv(t).options())
	m.Update(tea.WindowSizeMsg{Width: 50, Height: 12})
	out := plain(m.View().Content)
	mustContain(t, out, "terminal too small: 50×12", "at least 60×15")
	golden.RequireEqual(t, []byte(out))
}
