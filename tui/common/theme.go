package common

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Theme holds every style the dashboard uses, built once from semantic
// colours. With NO_COLOR the styles keep only attributes (bold, reverse,
// underline), so nothing relies on colour alone.
type Theme struct {
	NoColor bool
	IsDark  bool

	Title     lipgloss.Style // product name
	Badge     lipgloss.Style // "SIMULATED DATA"
	Tab       lipgloss.Style
	TabActive lipgloss.Style
	Muted     lipgloss.Style
	Text      lipgloss.Style
	Bold      lipgloss.Style
	Good      lipgloss.Style
	Bad       lipgloss.Style
	Warn      lipgloss.Style
	Accent    lipgloss.Style
	Error     lipgloss.Style

	ColHeader lipgloss.Style
	CursorRow lipgloss.Style
	Selected  lipgloss.Style

	Dialog      lipgloss.Style
	DialogTitle lipgloss.Style
	Choice      lipgloss.Style
	ChoiceOn    lipgloss.Style

	BarFill     lipgloss.Style
	BarInterval lipgloss.Style

	Help help.Styles
}

// NewTheme builds the theme for a dark or light background. Colours are
// chosen per background so text keeps contrast on both.
func NewTheme(isDark, noColor bool) *Theme {
	t := &Theme{NoColor: noColor, IsDark: isDark}
	plain := lipgloss.NewStyle()
	if noColor {
		t.Title = plain.Bold(true)
		t.Badge = plain.Bold(true).Reverse(true)
		t.Tab = plain
		t.TabActive = plain.Bold(true).Reverse(true)
		t.Muted = plain
		t.Text = plain
		t.Bold = plain.Bold(true)
		t.Good = plain
		t.Bad = plain.Bold(true)
		t.Warn = plain.Bold(true)
		t.Accent = plain.Bold(true)
		t.Error = plain.Bold(true)
		t.ColHeader = plain.Bold(true)
		t.CursorRow = plain.Reverse(true)
		t.Selected = plain.Bold(true)
		t.Dialog = plain.Border(lipgloss.NormalBorder()).Padding(0, 1)
		t.DialogTitle = plain.Bold(true)
		t.Choice = plain
		t.ChoiceOn = plain.Reverse(true)
		t.BarFill = plain
		t.BarInterval = plain
		t.Help = help.Styles{
			Ellipsis: plain, ShortKey: plain.Bold(true), ShortDesc: plain, ShortSeparator: plain,
			FullKey: plain.Bold(true), FullDesc: plain, FullSeparator: plain,
		}
		return t
	}
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	accent := c("#4B3FC4", "#A99CFF")
	muted := c("#5F5F6B", "#9A9AA8")
	text := c("#1F1F24", "#E6E6EC")
	good := c("#16752E", "#5FD37A")
	bad := c("#B3261E", "#FF7B72")
	warn := c("#8A5A00", "#F2C14E")
	cursorBG := c("#D9D4FF", "#3B3566")
	selFG := c("#0B6E99", "#6CC6F0")
	badgeBG := c("#8A5A00", "#F2C14E")
	badgeFG := c("#FFFFFF", "#1F1F24")

	t.Title = plain.Bold(true).Foreground(accent)
	t.Badge = plain.Bold(true).Foreground(badgeFG).Background(badgeBG)
	t.Tab = plain.Foreground(muted)
	t.TabActive = plain.Bold(true).Foreground(text).Background(cursorBG)
	t.Muted = plain.Foreground(muted)
	t.Text = plain.Foreground(text)
	t.Bold = plain.Bold(true).Foreground(text)
	t.Good = plain.Foreground(good)
	t.Bad = plain.Foreground(bad)
	t.Warn = plain.Foreground(warn)
	t.Accent = plain.Foreground(accent)
	t.Error = plain.Bold(true).Foreground(bad)
	t.ColHeader = plain.Bold(true).Foreground(accent)
	t.CursorRow = plain.Bold(true).Foreground(text).Background(cursorBG)
	t.Selected = plain.Bold(true).Foreground(selFG)
	t.Dialog = plain.Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1)
	t.DialogTitle = plain.Bold(true).Foreground(accent)
	t.Choice = plain.Foreground(muted)
	t.ChoiceOn = plain.Bold(true).Foreground(text).Background(cursorBG)
	t.BarFill = plain.Foreground(accent)
	t.BarInterval = plain.Foreground(muted)
	t.Help = help.DefaultStyles(isDark)
	return t
}
