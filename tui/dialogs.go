package tui

import (
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// dialog is a modal box. Dialogs hold only their own input state; what
// happens on accept is a closure over the root model.
type dialog interface {
	// view renders the box content (without the border).
	view(th *Theme, width, height int) string
	// input is the dialog's text input, or nil.
	input() *textinput.Model
}

// confirmDialog asks a y/N question. The default is No: only y confirms;
// n, esc and enter all decline.
type confirmDialog struct {
	title, body string
	onYes       func() tea.Cmd
	onNo        func() tea.Cmd // optional
}

func (d *confirmDialog) input() *textinput.Model { return nil }

func (d *confirmDialog) view(th *Theme, width, height int) string {
	return th.DialogTitle.Render(d.title) + "\n" + wrap(d.body, width) + "\n\n" +
		th.Bold.Render("y") + " yes   " + th.Bold.Render("n/enter/esc") + " no (default)"
}

// promptDialog asks for one line of text.
type promptDialog struct {
	title    string
	hint     string
	ti       textinput.Model
	onAccept func(value string) tea.Cmd
}

func newPrompt(title, hint, value string, onAccept func(string) tea.Cmd) *promptDialog {
	ti := newInput("> ", "")
	ti.SetValue(value)
	ti.CursorEnd()
	ti.Focus()
	return &promptDialog{title: title, hint: hint, ti: ti, onAccept: onAccept}
}

func (d *promptDialog) input() *textinput.Model { return &d.ti }

func (d *promptDialog) view(th *Theme, width, height int) string {
	d.ti.SetWidth(max(width-4, 10))
	d.ti.SetCursor(d.ti.Position()) // re-scroll for the new width
	s := th.DialogTitle.Render(d.title) + "\n" + d.ti.View()
	if d.hint != "" {
		s += "\n" + th.Muted.Render(wrap(d.hint, width))
	}
	return s + "\n\n" + th.Bold.Render("enter") + " accept   " + th.Bold.Render("esc") + " cancel"
}

// messageDialog shows a long message (such as import errors) until closed.
type messageDialog struct {
	title, body string
	isErr       bool
}

func (d *messageDialog) input() *textinput.Model { return nil }

func (d *messageDialog) view(th *Theme, width, height int) string {
	t := th.DialogTitle
	if d.isErr {
		t = th.Error
	}
	body := strings.Split(wrap(d.body, width), "\n")
	if room := max(height-6, 1); len(body) > room {
		more := len(body) - room + 1
		body = append(body[:room-1], th.Muted.Render("… and "+itoa(more)+" more lines"))
	}
	return t.Render(d.title) + "\n" + strings.Join(body, "\n") + "\n\n" + th.Bold.Render("enter/esc") + " close"
}

// exportDialog picks the export format and path.
type exportDialog struct {
	rows   []rec
	cursor bool // exporting the cursor row (nothing selected)
	format exportFormat
	ti     textinput.Model
}

func newExportDialog(rows []rec, cursor bool, path string) *exportDialog {
	ti := newInput("path: ", "")
	ti.SetValue(path)
	ti.CursorEnd()
	ti.Focus()
	return &exportDialog{rows: rows, cursor: cursor, ti: ti}
}

func (d *exportDialog) input() *textinput.Model { return &d.ti }

// cycle changes the format and the path's extension with it.
func (d *exportDialog) cycle(delta int) {
	old := d.format
	d.format = exportFormat((int(d.format) + delta + int(numExportFormats)) % int(numExportFormats))
	p := d.ti.Value()
	if strings.HasSuffix(p, "."+exportExts[old]) {
		d.ti.SetValue(strings.TrimSuffix(p, "."+exportExts[old]) + "." + exportExts[d.format])
		d.ti.CursorEnd()
	}
}

func (d *exportDialog) view(th *Theme, width, height int) string {
	d.ti.SetWidth(max(width-10, 10))
	d.ti.SetCursor(d.ti.Position()) // re-scroll for the new width
	var choices []string
	for f := range numExportFormats {
		label := " " + exportNames[f] + " "
		if f == d.format {
			choices = append(choices, th.ChoiceOn.Render("●"+label))
		} else {
			choices = append(choices, th.Choice.Render("○"+label))
		}
	}
	what := "the row under the cursor"
	switch n := len(d.rows); {
	case d.cursor:
	case n == 1:
		what = "1 selected row"
	default:
		what = itoa(n) + " selected rows"
	}
	return th.DialogTitle.Render("Export "+what) + "\n" + strings.Join(choices, " ") + "\n" + d.ti.View() + "\n\n" +
		th.Bold.Render("tab") + " format   " + th.Bold.Render("enter") + " export   " + th.Bold.Render("esc") + " cancel"
}

// exportFileName is perfpilot-export-YYYYmmdd-HHMMSS.<ext> in dir.
func (m *Model) exportFileName(f exportFormat) string {
	name := "perfpilot-export-" + m.opts.Now().Format("20060102-150405") + "." + exportExts[f]
	if m.opts.ExportDir == "" {
		return name
	}
	return filepath.Join(m.opts.ExportDir, name)
}

// updateDialog routes a key to the open dialog.
func (m *Model) updateDialog(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch d := m.dialog.(type) {
	case *confirmDialog:
		switch {
		case key.Matches(msg, k.Yes):
			m.dialog = nil
			return d.onYes()
		case key.Matches(msg, k.No):
			m.dialog = nil
			m.setStatus("cancelled")
			if d.onNo != nil {
				return d.onNo()
			}
		}
		return nil
	case *messageDialog:
		if key.Matches(msg, k.Accept, k.Cancel) {
			m.dialog = nil
		}
		return nil
	case *promptDialog:
		switch {
		case key.Matches(msg, k.Accept):
			m.dialog = nil
			v := strings.TrimSpace(d.ti.Value())
			if v == "" {
				m.setStatus("cancelled: nothing entered")
				return nil
			}
			return d.onAccept(v)
		case key.Matches(msg, k.Cancel):
			m.dialog = nil
			m.setStatus("cancelled")
			return nil
		}
		var cmd tea.Cmd
		d.ti, cmd = d.ti.Update(msg)
		return cmd
	case *runDialog:
		return m.updateRunDialog(d, msg)
	case *exportDialog:
		switch {
		case key.Matches(msg, k.Accept):
			m.dialog = nil
			path := strings.TrimSpace(d.ti.Value())
			if path == "" {
				m.setStatus("cancelled: no path")
				return nil
			}
			return m.exportRows(m.report, d.rows, d.format, path, false)
		case key.Matches(msg, k.Cancel):
			m.dialog = nil
			m.setStatus("export cancelled")
			return nil
		case msg.String() == "tab" || msg.String() == "down":
			d.cycle(1)
			return nil
		case msg.String() == "shift+tab" || msg.String() == "up":
			d.cycle(-1)
			return nil
		}
		var cmd tea.Cmd
		d.ti, cmd = d.ti.Update(msg)
		return cmd
	}
	return nil
}

// renderDialog draws the open dialog in a box that fits the screen.
func (m *Model) renderDialog() string {
	th := m.ctx.Theme
	w := min(72, m.ctx.Width-4)
	inner := w - 4
	box := th.Dialog.Width(w).Render(m.dialog.view(th, inner, m.ctx.BodyHeight()))
	return lipgloss.Place(m.ctx.Width, m.ctx.BodyHeight(), lipgloss.Center, lipgloss.Center, clipLines(box, m.ctx.BodyHeight()))
}

// wrap breaks text to width, keeping existing line breaks.
func wrap(s string, width int) string {
	return ansi.Wordwrap(s, max(width, 10), "")
}

// clipLines keeps at most n lines.
func clipLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
