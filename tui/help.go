package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"perfpilot/tui/common"
)

// shortHelp is the help bar: global keys, then the active view's own.
func (m *Model) shortHelp() []key.Binding {
	k := m.ctx.Keys
	if m.showLog {
		return m.log.ShortHelp()
	}
	out := []key.Binding{k.Help, k.Quit}
	out = append(out, m.views[m.view].ShortHelp()...)
	return append(out, k.Filter, k.Table.Sort, k.Throughput, k.Latency, k.Memory, k.BudgetUp, k.BudgetDown, k.Save, k.Log, k.NextView)
}

// fullHelp is the ? screen: global groups, then the active view's.
func (m *Model) fullHelp() [][]key.Binding {
	k := m.ctx.Keys
	cols := [][]key.Binding{
		append(append([]key.Binding{}, k.Views...), k.NextView, k.PrevView),
		{k.Throughput, k.Latency, k.Memory, k.BudgetUp, k.BudgetDown, k.Tokens, k.Recompute},
		{k.Filter, k.Back, k.Export, k.Run, k.Save, k.Import, k.Log, k.Help, k.Quit},
	}
	return append(cols, m.views[m.view].FullHelp()...)
}

// fullHelp lays the help groups out as columns that wrap onto more rows
// when the terminal is narrow, and splits long groups into shorter
// columns side by side when the rows would be taller than height, so no
// binding is cut off.
func fullHelp(th *common.Theme, groups [][]key.Binding, width, height int) string {
	longest := 0
	for _, g := range groups {
		longest = max(longest, len(g))
	}
	out := ""
	for size := longest; size >= 3; size-- {
		var split [][]key.Binding
		for _, g := range groups {
			for len(g) > size {
				split = append(split, g[:size])
				g = g[size:]
			}
			split = append(split, g)
		}
		out = helpRows(th, split, width)
		if strings.Count(out, "\n")+1 <= height {
			break
		}
	}
	return out
}

// helpRows renders groups as columns, as many per row as width holds.
func helpRows(th *common.Theme, groups [][]key.Binding, width int) string {
	var blocks []string
	for _, g := range groups {
		kw := 0
		for _, b := range g {
			kw = max(kw, lipgloss.Width(b.Help().Key))
		}
		lines := make([]string, 0, len(g))
		for _, b := range g {
			if b.Enabled() {
				h := b.Help()
				lines = append(lines, th.Help.FullKey.Render(common.Fit(h.Key, kw, false))+" "+th.Help.FullDesc.Render(h.Desc))
			}
		}
		blocks = append(blocks, strings.Join(lines, "\n"))
	}
	const gap = "    "
	var rows, row []string
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
