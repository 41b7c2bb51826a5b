// Package pareto is the trade-off view: predicted throughput against
// memory for every hardware, batch size and precision of one model (or for
// the selected rows), drawn in braille, with the Pareto front marked and a
// cursor that moves between points.
package pareto

import (
	"cmp"
	"slices"

	"perfpilot/engine"
)

// Point is one configuration: X is its peak memory (MB, lower is better),
// Y its throughput (items/s, higher is better).
type Point struct {
	Config   engine.Config
	X, Y     float64
	YLow     float64
	YHigh    float64
	Measured bool
	Front    bool
	// Flags are the predictor's doubts about the measurement (engine.Flag).
	Flags []engine.Flag
}

// MarkFront sets Front on the points no other point dominates (at most the
// memory and at least the throughput, one of them strictly) and sorts the
// points by memory, then throughput descending.
func MarkFront(pts []Point) {
	slices.SortStableFunc(pts, func(a, b Point) int {
		if c := cmp.Compare(a.X, b.X); c != 0 {
			return c
		}
		return cmp.Compare(b.Y, a.Y)
	})
	bestY := 0.0
	for i := range pts {
		// Sorted by memory: a point is on the front when it has more
		// throughput than every point using less (or as much) memory.
		pts[i].Front = i == 0 || pts[i].Y > bestY
		if pts[i].Y > bestY {
			bestY = pts[i].Y
		}
	}
}
