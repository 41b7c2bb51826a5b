package pareto

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
	"perfpilot/tui/common"
)

func TestMarkFrontOnAHandMadeSet(t *testing.T) {
	pt := func(hw string, mem, thr float64) Point {
		return Point{Config: engine.Config{Model: "m", Hardware: hw}, X: mem, Y: thr}
	}
	pts := []Point{
		pt("a", 100, 10), // front: least memory
		pt("b", 200, 50), // front
		pt("c", 250, 40), // dominated by b
		pt("d", 200, 30), // dominated by b (same memory, slower)
		pt("e", 400, 90), // front
		pt("f", 500, 90), // dominated by e (more memory, same speed)
		pt("g", 800, 95), // front
		pt("h", 90, 5),   // front: even less memory
	}
	MarkFront(pts)
	want := map[string]bool{"h": true, "a": true, "b": true, "e": true, "g": true}
	for i, p := range pts {
		if p.Front != want[p.Config.Hardware] {
			t.Errorf("%s: front %v, want %v", p.Config.Hardware, p.Front, want[p.Config.Hardware])
		}
		if i > 0 && pts[i-1].X > p.X {
			t.Fatal("points not sorted by memory")
		}
	}
}

// TestDoubtedPointSaysWhy: the cursor point's description gives the
// predictor's reason for doubting its measurement.
func TestDoubtedPointSaysWhy(t *testing.T) {
	ctx := &common.Context{Width: 120, Height: 30, Theme: common.NewTheme(true, true), Keys: common.DefaultKeyMap(nil)}
	m := New(ctx)
	m.SetSize(120, 30)
	flag := engine.Flag{Metric: engine.Latency, Why: "measured 4.4× faster than similar configurations predict"}
	m.SetPoints("m", []Point{
		{Config: engine.Config{Model: "m", Hardware: "cpu"}, X: 100, Y: 10, Measured: true, Flags: []engine.Flag{flag}},
		{Config: engine.Config{Model: "m", Hardware: "cuda"}, X: 200, Y: 50},
	})
	seen := map[bool]bool{}
	for range 2 {
		v := ansi.Strip(m.View())
		doubted := strings.Contains(v, "m on cpu")
		seen[doubted] = true
		if got := strings.Contains(v, "⚠ measured 4.4× faster"); got != doubted {
			t.Fatalf("⚠ reason shown %v on this point:\n%s", got, v)
		}
		m.Update(tea.KeyPressMsg{Code: tea.KeyLeft}) // the cursor starts on the front's fastest point
	}
	if len(seen) != 2 {
		t.Fatalf("the cursor did not visit both points:\n%s", ansi.Strip(m.View()))
	}
}
