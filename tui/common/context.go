package common

import (
	"time"

	"perfpilot/engine"
)

// Layout limits shared by every component.
const (
	MinWidth     = 60
	MinHeight    = 15
	CompactWidth = 100 // below this, tables drop secondary columns
	WideWidth    = 160 // from this, tables show their wide-only columns
)

// Context is what every component renders from: screen size, theme, keys and what the data is. The root
// model owns it and is the only one to change it; components hold a pointer
// and read it.
type Context struct {
	Width, Height int
	Theme         *Theme
	Keys          *KeyMap
	// Metric is the metric the user asked for (the ranking on screen may
	// still be by the previous one while a re-rank runs).
	Metric engine.Metric
	// DataVersion changes whenever the measured results change, so
	// components can drop what they computed from the old ones.
	DataVersion int
	// Anomalies are the measurements the predictor fitted on that data
	// finds implausible (set with DataVersion; nil before the first fit).
	Anomalies *Anomalies
	// Now is the clock (injected in tests).
	Now func() time.Time
}

// Compact reports whether secondary columns must go.
func (c *Context) Compact() bool { return c.Width < CompactWidth }

// Wide reports whether there is room for wide-only columns.
func (c *Context) Wide() bool { return c.Width >= WideWidth }

// TooSmall reports whether the terminal is below the usable minimum.
func (c *Context) TooSmall() bool { return c.Width < MinWidth || c.Height < MinHeight }
