package tui

import (
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"perfpilot/store"
	"perfpilot/tui/logpanel"
)

// Every message goes to the log panel (L); the newest is also shown on the
// status line until it expires.

func (m *Model) say(s string) { m.setStatus(m.log.Add(s, false)) }

func (m *Model) fail(err error) {
	if errors.Is(err, store.ErrReadOnly) {
		m.setStatus(m.log.Add("read-only database: nothing was written ("+err.Error()+")", true))
		return
	}
	m.setStatus(m.log.Add("error: "+err.Error(), true))
}

func (m *Model) logf(isErr bool, format string, args ...any) {
	m.log.Add(fmt.Sprintf(format, args...), isErr)
}

func (m *Model) setStatus(e logpanel.Entry) {
	m.status = e
	m.statusSeq++
}

// expireStatus schedules the status line's expiry once per new message.
func (m *Model) expireStatus() tea.Cmd {
	if m.statusShow == m.statusSeq || m.status.Text == "" {
		return nil
	}
	m.statusShow = m.statusSeq
	return m.tick(statusTTL, statusExpiredMsg{seq: m.statusSeq})
}

// refuseReadOnly explains that an action needs a writable database.
func (m *Model) refuseReadOnly(what string) bool {
	if m.opts.ReadOnly == "" {
		return false
	}
	m.say("read-only: cannot " + what + " (" + m.opts.ReadOnly + ")")
	return true
}
