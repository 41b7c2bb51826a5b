package dialog

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"perfpilot/cmdtmpl"
	"perfpilot/tui/common"
)

// Run confirms a run. The default is No: only y runs; n, esc and enter
// decline. tab edits the command template; up/down choose the executor.
type Run struct {
	ctx     *common.Context
	Title   string
	Body    string
	ti      textinput.Model
	editing bool
	before  string // the template before editing (esc restores it)
	err     string // why the template is refused
	onRun   func(template, executor string) tea.Cmd
	onNo    func() tea.Cmd
	// executors are the choices (local first), exec the chosen one.
	executors []string
	exec      int
}

// NewRun makes the dialog for n rows (cursor: the row under the cursor).
// executors lists the executors to choose from and executor is the
// default (the session's).
func NewRun(ctx *common.Context, n int, cursor bool, sessionNote, dir, tmpl string, executors []string, executor string,
	onRun func(template, executor string) tea.Cmd, onNo func() tea.Cmd) *Run {
	title := fmt.Sprintf("Run %d configurations?", n)
	what := fmt.Sprintf("the %d selected rows", n)
	switch {
	case cursor:
		title, what = "Run 1 configuration?", "the row under the cursor"
	case n == 1:
		title, what = "Run 1 configuration?", "the selected row"
	}
	body := fmt.Sprintf("Runs %s one at a time and imports what each command prints as run:<session>. %s Output and logs: %s", what, sessionNote, dir)
	if len(executors) == 0 {
		executors = []string{"local"}
	}
	d := &Run{ctx: ctx, Title: title, Body: body, ti: NewInput("> ", cmdtmpl.Default, tmpl), onRun: onRun, onNo: onNo, executors: executors}
	for i, e := range executors {
		if e == executor {
			d.exec = i
		}
	}
	d.validate()
	return d
}

// Input is the template input while it is being edited.
func (d *Run) Input() *textinput.Model {
	if d.editing {
		return &d.ti
	}
	return nil
}

// Executor is the chosen executor.
func (d *Run) Executor() string { return d.executors[d.exec] }

// Template is the command template.
func (d *Run) Template() string { return strings.TrimSpace(d.ti.Value()) }

// Editing reports whether the template is being edited.
func (d *Run) Editing() bool { return d.editing }

// Err is why the template is refused ("" when it is valid).
func (d *Run) Err() string { return d.err }

func (d *Run) validate() {
	d.err = ""
	if _, err := cmdtmpl.Parse(d.Template()); err != nil {
		d.err = err.Error()
	}
}

func (d *Run) Update(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := d.ctx.Keys
	if d.editing {
		switch {
		case key.Matches(msg, k.Accept):
			d.editing = false
			d.ti.Blur()
			d.validate()
			return nil, false
		case key.Matches(msg, k.Cancel):
			d.editing = false
			d.ti.Blur()
			d.ti.SetValue(d.before)
			d.validate()
			return nil, false
		}
		var cmd tea.Cmd
		d.ti, cmd = d.ti.Update(msg)
		return cmd, false
	}
	switch {
	case key.Matches(msg, k.Yes):
		if d.err != "" {
			return nil, false // the dialog says why
		}
		return d.onRun(d.Template(), d.Executor()), true
	case key.Matches(msg, k.No):
		return d.onNo(), true
	case key.Matches(msg, k.Edit):
		d.editing = true
		d.before = d.ti.Value()
		d.ti.CursorEnd()
		return d.ti.Focus(), false
	case key.Matches(msg, k.NextChoice):
		d.exec = (d.exec + 1) % len(d.executors)
	case key.Matches(msg, k.PrevChoice):
		d.exec = (d.exec + len(d.executors) - 1) % len(d.executors)
	}
	return nil, false
}

func (d *Run) View(width, _ int) string {
	th := d.ctx.Theme
	var cmd string
	if d.editing {
		d.ti.SetWidth(max(width-4, 10))
		d.ti.SetCursor(d.ti.Position()) // re-scroll for the new width
		cmd = d.ti.View()
	} else {
		cmd = th.Bold.Render(common.Wrap(common.Safe(d.Template()), width))
	}
	s := th.DialogTitle.Render(d.Title) + "\n" + common.Wrap(common.Safe(d.Body), width) + "\n\n" + th.Muted.Render("command:") + "\n" + cmd
	if len(d.executors) > 1 {
		var ex []string
		for i, e := range d.executors {
			if i == d.exec {
				e = th.Bold.Render("[" + e + "]")
			}
			ex = append(ex, e)
		}
		s += "\n" + th.Muted.Render("executor: ") + strings.Join(ex, " ")
	}
	if d.err != "" {
		s += "\n" + th.Error.Render(common.Wrap(common.Safe("invalid template: "+d.err), width))
	}
	if d.editing {
		s += "\n" + th.Muted.Render(common.Wrap("placeholders: "+cmdtmpl.PlaceholderList(), width))
		return s + "\n\n" + th.Bold.Render("enter") + " done   " + th.Bold.Render("esc") + " undo edit"
	}
	s += "\n\n" + th.Bold.Render("y") + " run   " + th.Bold.Render("n/enter/esc") + " no (default)   " + th.Bold.Render("tab") + " edit command"
	if len(d.executors) > 1 {
		s += "   " + th.Bold.Render("↑/↓") + " executor"
	}
	return s
}
