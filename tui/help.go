package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// fullHelp lays the help groups out as columns that wrap onto more rows
// when the terminal is narrow, so no binding is cut off.
func fullHelp(th *Theme, groups [][]key.Binding, width int) string {
	var blocks []string
	for _, g := range groups {
		kw := 0
		for _, b := range g {
			kw = max(kw, lipgloss.Width(b.Help().Key))
		}
		lines := make([]string, 0, len(g))
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			h := b.Help()
			lines = append(lines, th.Help.FullKey.Render(fit(h.Key, kw, false))+" "+th.Help.FullDesc.Render(h.Desc))
		}
		blocks = append(blocks, strings.Join(lines, "\n"))
	}
	const gap = "    "
	var rows []string
	var row []string
	rowW := 0
	for _, b := range blocks {
		w := lipgloss.Width(b)
		if len(row) > 0 && rowW+len(gap)+w > width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, rowW = nil, 0
		}
		if len(row) > 0 {
			row = append(row, gap)
			rowW += len(gap)
		}
		row = append(row, b)
		rowW += w
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(rows, "\n\n")
}
