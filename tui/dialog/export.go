package dialog

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"perfpilot/tui/common"
)

// Format is an export file kind.
type Format int

const (
	JSON Format = iota
	CSV
	Script
	numFormats
)

// FormatNames and FormatExts name each format.
var (
	FormatNames = [numFormats]string{"JSON", "CSV", "shell script"}
	FormatExts  = [numFormats]string{"json", "csv", "sh"}
)

// Export picks the format and path. It stays open while the export runs;
// an error or an existing file is shown in it, not elsewhere.
type Export struct {
	ctx      *common.Context
	what     string
	format   Format
	ti       textinput.Model
	busy     bool
	err      string
	exists   bool
	onExport func(f Format, path string, force bool) tea.Cmd
	onCancel func() tea.Cmd
}

// NewExport makes the dialog; what says which rows ("2 selected rows").
func NewExport(ctx *common.Context, what, path string, onExport func(Format, string, bool) tea.Cmd, onCancel func() tea.Cmd) *Export {
	ti := NewInput("path: ", "", path)
	ti.Focus()
	return &Export{ctx: ctx, what: what, ti: ti, onExport: onExport, onCancel: onCancel}
}

func (d *Export) Input() *textinput.Model {
	if d.exists || d.busy {
		return nil
	}
	return &d.ti
}

func (d *Export) Format() Format { return d.format }

// Path is the path entered.
func (d *Export) Path() string { return strings.TrimSpace(d.ti.Value()) }

// Failed shows an export error (or, with exists, asks to overwrite).
func (d *Export) Failed(err error, exists bool) {
	d.busy, d.exists, d.err = false, exists, ""
	if err != nil && !exists {
		d.err = err.Error()
	}
}

// cycle changes the format and the path's extension with it.
func (d *Export) cycle(delta int) {
	old := d.format
	d.format = Format((int(d.format) + delta + int(numFormats)) % int(numFormats))
	p := d.ti.Value()
	if strings.HasSuffix(p, "."+FormatExts[old]) {
		d.ti.SetValue(strings.TrimSuffix(p, "."+FormatExts[old]) + "." + FormatExts[d.format])
		d.ti.CursorEnd()
	}
}

func (d *Export) Update(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := d.ctx.Keys
	if d.busy {
		return nil, key.Matches(msg, k.Cancel)
	}
	if d.exists {
		switch {
		case key.Matches(msg, k.Yes):
			d.exists, d.busy = false, true
			return d.onExport(d.format, d.Path(), true), false
		case key.Matches(msg, k.No):
			d.exists = false // back to editing the path
		}
		return nil, false
	}
	switch {
	case key.Matches(msg, k.Accept):
		if d.Path() == "" {
			d.err = "enter a path"
			return nil, false
		}
		d.busy, d.err = true, ""
		return d.onExport(d.format, d.Path(), false), false
	case key.Matches(msg, k.Cancel):
		return d.onCancel(), true
	case key.Matches(msg, k.NextChoice):
		d.cycle(1)
		return nil, false
	case key.Matches(msg, k.PrevChoice):
		d.cycle(-1)
		return nil, false
	}
	var cmd tea.Cmd
	d.ti, cmd = d.ti.Update(msg)
	d.err = ""
	return cmd, false
}

func (d *Export) View(width, _ int) string {
	th := d.ctx.Theme
	d.ti.SetWidth(max(width-10, 10))
	d.ti.SetCursor(d.ti.Position()) // re-scroll for the new width
	var choices []string
	for f := range numFormats {
		label := " " + FormatNames[f] + " "
		if f == d.format {
			choices = append(choices, th.ChoiceOn.Render("●"+label))
		} else {
			choices = append(choices, th.Choice.Render("○"+label))
		}
	}
	s := th.DialogTitle.Render("Export "+d.what) + "\n" + strings.Join(choices, " ") + "\n" + d.ti.View()
	switch {
	case d.busy:
		return s + "\n\n" + th.Muted.Render("exporting…")
	case d.exists:
		return s + "\n\n" + th.Warn.Render(common.Wrap(common.Safe(d.Path())+" already exists. Overwrite it?", width)) + "\n" +
			th.Bold.Render("y") + " overwrite   " + th.Bold.Render("n/enter/esc") + " no, edit the path"
	case d.err != "":
		s += "\n" + th.Error.Render(common.Wrap(common.Safe("export failed: "+d.err), width))
	}
	return s + "\n\n" + th.Bold.Render("tab") + " format   " + th.Bold.Render("enter") + " export   " + th.Bold.Render("esc") + " cancel"
}
