package pareto

import (
	"testing"

	"perfpilot/engine"
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
