// Package logpanel is the message log (L): every status message, import,
// export and run outcome and error, with its time. The newest entry is
// also what the status line shows until it expires.
package logpanel

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/tui/common"
)

// Entry is one message.
type Entry struct {
	At   time.Time
	Text string
	Err  bool
}

// maxEntries bounds the log; the oldest go first.
const maxEntries = 1000

// Model is the panel.
type Model struct {
	ctx     *common.Context
	entries []Entry
	scroll  int // lines up from the newest
	width   int
	height  int
}

// New makes an empty log.
func New(ctx *common.Context) *Model { return &Model{ctx: ctx} }

// Add appends a message (made safe to print) and returns it.
func (m *Model) Add(text string, isErr bool) Entry {
	e := Entry{At: m.ctx.Now(), Text: common.Safe(strings.ReplaceAll(text, "\n", " · ")), Err: isErr}
	m.entries = append(m.entries, e)
	if len(m.entries) > maxEntries {
		m.entries = m.entries[len(m.entries)-maxEntries:]
	}
	m.scroll = 0
	return e
}

// Entries are the messages, oldest first.
func (m *Model) Entries() []Entry { return m.entries }

func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// Update scrolls.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k := m.ctx.Keys.Table
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Up):
			m.scroll++
		case key.Matches(msg, k.Down):
			m.scroll--
		case key.Matches(msg, k.Top):
			m.scroll = len(m.entries)
		case key.Matches(msg, k.Bottom):
			m.scroll = 0
		}
	case tea.MouseWheelMsg:
		if msg.Button == tea.MouseWheelUp {
			m.scroll += 3
		} else if msg.Button == tea.MouseWheelDown {
			m.scroll -= 3
		}
	}
	m.scroll = max(0, min(m.scroll, len(m.entries)-1))
	return nil
}

// View renders the newest messages that fit, newest last.
func (m *Model) View() string {
	th := m.ctx.Theme
	head := th.DialogTitle.Render(fmt.Sprintf(" Message log (%d)", len(m.entries))) + th.Muted.Render(" · ↑/↓ scroll · L or esc closes")
	if len(m.entries) == 0 {
		return head + "\n " + th.Muted.Render("Nothing yet: status messages, imports, exports, runs and errors appear here.")
	}
	room := max(m.height-1, 1)
	end := len(m.entries) - m.scroll
	start := max(end-room, 0)
	lines := []string{head}
	for _, e := range m.entries[start:end] {
		text := e.Text
		if e.Err {
			text = th.Error.Render(text)
		}
		lines = append(lines, ansi.Truncate(" "+th.Muted.Render(e.At.Format("15:04:05"))+" "+text, m.width, "…"))
	}
	return strings.Join(lines, "\n")
}

func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.ctx.Keys.Log, m.ctx.Keys.Back}
}

func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
