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
// testdata/TestSnapshots at three sizes; regenerate them with
// `go test ./tui -run TestSnapshots -update`.
func TestSnapshots(t *testing.T) {
	t.Parallel()
	screens := []struct {
		name string
		keys []string
	}{
		{"recommendations", nil},
		{"detail", []string{"j", "j", "enter"}},
		{"latency_selected", []string{"l", "space", "space"}},
		{"mismatches", []string{"2"}},
		{"overview", []string{"3"}},
		{"hardware", []string{"4"}},
		{"pareto", []string{"5"}},
		{"benchmarks", []string{"6"}},
		{"sessions", []string{"7"}},
		{"help", []string{"?"}},
		{"export_dialog", []string{"space", "e"}},
		{"log", []string{"l", "L"}},
	}
	for _, size := range [][2]int{{80, 24}, {120, 35}, {200, 60}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%dx%d/%s", size[0], size[1], sc.name), func(t *testing.T) {
				opts := newEnv(t).options()
				opts.ExportDir = "" // a bare file name: stable across runs
				m := sizedModel(t, opts, size[0], size[1])
				keys(t, m, sc.keys...)
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

func TestTooSmall(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, newEnv(t).options())
	m.Update(tea.WindowSizeMsg{Width: 50, Height: 12})
	mustContain(t, plain(m.View().Content), "terminal too small: 50×12", "at least 60×15")
}
