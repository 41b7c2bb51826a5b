package common

import (
	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
)

// Messages components send to the root (as the result of a tea.Cmd) when a
// key asks for something beyond themselves.

// ToggleDetailMsg asks to open or close the detail pane.
type ToggleDetailMsg struct{}

// OpenLogMsg asks to show a run's log file.
type OpenLogMsg struct {
	Title, Path string
}

// RankHardwareMsg asks for the hardware ranking of one model, batch and
// precision (the hardware view's pick changed).
type RankHardwareMsg struct {
	Model     string
	Batch     int
	Precision engine.Precision
}

// OverviewMsg asks for the hardware overview at a batch and precision.
type OverviewMsg struct {
	Batch     int
	Precision engine.Precision
}

// SessionActionMsg asks to open, rename or delete a saved session.
type SessionActionMsg struct {
	Action string // "open", "rename" or "delete"
	Name   string
}

// ExcludeMsg asks to exclude a measured result from learning, or to
// include it again (store.DB.SetExcluded).
type ExcludeMsg struct {
	ID      int64
	Exclude bool
}

// Cmd wraps a message as a command.
func Cmd(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
