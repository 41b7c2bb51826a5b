package tui

import "perfpilot/engine"

// viewID names the dashboard's views, in key order 1–5.
type viewID int

const (
	viewRecs viewID = iota
	viewMismatches
	viewHardware
	viewBenchmarks
	viewSessions
	numViews
)

var viewNames = [numViews]string{"Recommendations", "Mismatches", "Hardware", "Benchmarks", "Sessions"}

func (v viewID) String() string { return viewNames[v] }

// Layout limits.
const (
	minWidth      = 60
	minHeight     = 15
	compactWidth  = 100 // below this, tables drop secondary columns
	headerLines   = 3
	footerLines   = 2 // status line + help bar
	detailMinRows = 8
)

// programContext is the state every component renders from: screen size,
// theme and what is active. The root model owns it and hands it down.
type programContext struct {
	Width, Height int
	Theme         *Theme
	View          viewID
	Metric        engine.Metric
}

// Compact reports whether secondary columns must go.
func (c *programContext) Compact() bool { return c.Width < compactWidth }

// TooSmall reports whether the terminal is below the usable minimum.
func (c *programContext) TooSmall() bool { return c.Width < minWidth || c.Height < minHeight }

// BodyHeight is the number of lines between header and footer.
func (c *programContext) BodyHeight() int { return max(1, c.Height-headerLines-footerLines) }
