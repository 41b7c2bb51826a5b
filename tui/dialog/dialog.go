// Package dialog holds the dashboard's modal boxes: y/N questions, one-line
// prompts, messages, the export dialog and the run dialog. A dialog owns
// its input; what happens on accept is a callback the root gives it.
package dialog

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"perfpilot/tui/common"
)

// Dialog is a modal box.
type Dialog interface {
	// Update handles a key; done closes the dialog.
	Update(msg tea.KeyPressMsg) (cmd tea.Cmd, done bool)
	// View renders the content (without the border) at a width and height.
	View(width, height int) string
	// Input is the text input keys and pastes go to, or nil.
	Input() *textinput.Model
}

// NewInput makes a text input with a steady cursor (no blink timer).
func NewInput(prompt, placeholder, value string) textinput.Model {
	ti := textinput.New()
	ti.Prompt = prompt
	ti.Placeholder = placeholder
	st := ti.Styles()
	st.Cursor.Blink = false
	ti.SetStyles(st)
	ti.SetValue(value)
	ti.CursorEnd()
	return ti
}

// Render draws a dialog in a box centred in width×height.
func Render(ctx *common.Context, d Dialog, width, height int) string {
	th := ctx.Theme
	w := min(76, width-4)
	box := th.Dialog.Width(w).Render(d.View(w-4, height))
	lines := strings.Split(box, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, strings.Join(lines, "\n"))
}

// Confirm asks a y/N question. The default is No: only y confirms; n, q,
// esc and enter all decline.
type Confirm struct {
	ctx         *common.Context
	Title, Body string
	OnYes       func() tea.Cmd
	OnNo        func() tea.Cmd // optional
}

// NewConfirm makes a question.
func NewConfirm(ctx *common.Context, title, body string, onYes, onNo func() tea.Cmd) *Confirm {
	return &Confirm{ctx: ctx, Title: title, Body: body, OnYes: onYes, OnNo: onNo}
}

func (d *Confirm) Input() *textinput.Model { return nil }

func (d *Confirm) Update(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := d.ctx.Keys
	switch {
	case key.Matches(msg, k.Yes):
		return d.OnYes(), true
	case key.Matches(msg, k.No):
		if d.OnNo != nil {
			return d.OnNo(), true
		}
		return nil, true
	}
	return nil, false
}

func (d *Confirm) View(width, _ int) string {
	th := d.ctx.Theme
	return th.DialogTitle.Render(common.Safe(d.Title)) + "\n" + common.Wrap(common.Safe(d.Body), width) + "\n\n" +
		th.Bold.Render("y") + " yes   " + th.Bold.Render("n/enter/esc") + " no (default)"
}

// Prompt asks for one line of text.
type Prompt struct {
	ctx      *common.Context
	title    string
	hint     string
	ti       textinput.Model
	onAccept func(value string) tea.Cmd
	onCancel func() tea.Cmd
}

// NewPrompt makes a prompt; onAccept gets the trimmed, non-empty value.
func NewPrompt(ctx *common.Context, title, hint, value string, onAccept func(string) tea.Cmd, onCancel func() tea.Cmd) *Prompt {
	ti := NewInput("> ", "", value)
	ti.Focus()
	return &Prompt{ctx: ctx, title: title, hint: hint, ti: ti, onAccept: onAccept, onCancel: onCancel}
}

func (d *Prompt) Input() *textinput.Model { return &d.ti }

// Value is the text entered so far.
func (d *Prompt) Value() string { return d.ti.Value() }

func (d *Prompt) Update(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := d.ctx.Keys
	switch {
	case key.Matches(msg, k.Accept):
		if v := strings.TrimSpace(d.ti.Value()); v != "" {
			return d.onAccept(v), true
		}
		return d.onCancel(), true
	case key.Matches(msg, k.Cancel):
		return d.onCancel(), true
	}
	var cmd tea.Cmd
	d.ti, cmd = d.ti.Update(msg)
	return cmd, false
}

func (d *Prompt) View(width, _ int) string {
	th := d.ctx.Theme
	d.ti.SetWidth(max(width-4, 10))
	d.ti.SetCursor(d.ti.Position()) // re-scroll for the new width
	s := th.DialogTitle.Render(common.Safe(d.title)) + "\n" + d.ti.View()
	if d.hint != "" {
		s += "\n" + th.Muted.Render(common.Wrap(d.hint, width))
	}
	return s + "\n\n" + th.Bold.Render("enter") + " accept   " + th.Bold.Render("esc") + " cancel"
}

// Message shows a long text (import errors, a run's log) until closed;
// ↑/↓ scroll it.
type Message struct {
	ctx         *common.Context
	Title, Body string
	IsErr       bool
	scroll      int
	fromEnd     bool
}

// NewMessage makes a message; fromEnd starts scrolled to the end (logs).
func NewMessage(ctx *common.Context, title, body string, isErr, fromEnd bool) *Message {
	return &Message{ctx: ctx, Title: title, Body: body, IsErr: isErr, fromEnd: fromEnd}
}

func (d *Message) Input() *textinput.Model { return nil }

func (d *Message) Update(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := d.ctx.Keys
	switch {
	case key.Matches(msg, k.Accept, k.Cancel, k.Quit):
		return nil, true
	case key.Matches(msg, k.Table.Up):
		d.scroll--
	case key.Matches(msg, k.Table.Down):
		d.scroll++
	}
	return nil, false
}

func (d *Message) View(width, height int) string {
	th := d.ctx.Theme
	t := th.DialogTitle
	if d.IsErr {
		t = th.Error
	}
	var body []string
	for _, l := range strings.Split(d.Body, "\n") {
		body = append(body, strings.Split(common.Wrap(common.SafeLine(l), width), "\n")...)
	}
	room := max(height-6, 1)
	if d.fromEnd && d.scroll == 0 {
		d.scroll = len(body)
		d.fromEnd = false
	}
	d.scroll = max(0, min(d.scroll, len(body)-room))
	more := ""
	if len(body) > room {
		more = th.Muted.Render("  (↑/↓ scroll)")
		body = body[d.scroll : d.scroll+room]
	}
	return t.Render(common.Safe(d.Title)) + more + "\n" + strings.Join(body, "\n") + "\n\n" + th.Bold.Render("enter/esc") + " close"
}

// Choice asks for one of a few actions, each on its own key; esc, n, enter
// and q choose none (the default).
type Choice struct {
	ctx         *common.Context
	Title, Body string
	Options     []Option
	None        string // what choosing none means
}

// Option is one action of a Choice.
type Option struct {
	Key, Label string
	Do         func() tea.Cmd
}

// NewChoice makes a choice.
func NewChoice(ctx *common.Context, title, body, none string, opts ...Option) *Choice {
	return &Choice{ctx: ctx, Title: title, Body: body, Options: opts, None: none}
}

func (d *Choice) Input() *textinput.Model { return nil }

func (d *Choice) Update(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	for _, o := range d.Options {
		if msg.String() == o.Key {
			return o.Do(), true
		}
	}
	if key.Matches(msg, d.ctx.Keys.No) {
		return nil, true
	}
	return nil, false
}

func (d *Choice) View(width, _ int) string {
	th := d.ctx.Theme
	s := th.DialogTitle.Render(common.Safe(d.Title)) + "\n" + common.Wrap(common.Safe(d.Body), width) + "\n"
	for _, o := range d.Options {
		label := common.Wrap(o.Label, max(width-len(o.Key)-2, 10))
		s += "\n" + th.Bold.Render(o.Key) + "  " + strings.ReplaceAll(label, "\n", "\n"+strings.Repeat(" ", len(o.Key)+2))
	}
	return s + "\n" + th.Bold.Render("esc") + "  " + d.None + " (default)"
}
