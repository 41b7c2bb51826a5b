package tui

// viewID names the dashboard's views, in key order 1–7: the ranking and
// its mismatches, then "which hardware" (overview, one model's ranking,
// trade-offs), then the data (benchmarks, sessions).
type viewID int

const (
	viewRecs viewID = iota
	viewMismatches
	viewOverview
	viewHardware
	viewPareto
	viewBenchmarks
	viewSessions
	numViews
)

var viewNames = [numViews]string{"Recommendations", "Mismatches", "Overview", "Hardware", "Pareto", "Benchmarks", "Sessions"}
var shortViewNames = [numViews]string{"Recs", "Mismatch", "Overview", "HW", "Pareto", "Bench", "Sessions"}

func (v viewID) String() string { return viewNames[v] }

// isRecs reports whether a view shows recommendation rows.
func (v viewID) isRecs() bool { return v == viewRecs || v == viewMismatches }
