// Package runpanel is the panel under the recommendations while a
// benchmark run goes on: counts, a progress bar, one row per configuration
// (state, job id, exit code, last error) and the running command's log
// tail.
package runpanel

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/tui/common"
)

// TailLines is how many log lines the panel shows at most.
const TailLines = 6

// Row is one configuration of the run. Mark's State and JobID are generic
// so other executors (a scheduler's job id and state) fill the same row.
type Row struct {
	Config engine.Config
	common.Mark
}

// Info is the run's state.
type Info struct {
	Session    string
	Progress   runner.Progress
	Started    time.Time
	Stopping   bool
	Finished   bool // the run is over; the panel shows what failed
	Current    engine.Config
	Running    bool // Current is running
	HasCurrent bool // a configuration has started
	Rows       []Row
	Tail       []string
}

// Model is the panel.
type Model struct {
	ctx    *common.Context
	info   Info
	width  int
	height int
}

// New makes the panel.
func New(ctx *common.Context) *Model { return &Model{ctx: ctx} }

// SetInfo shows the run's state.
func (m *Model) SetInfo(i Info) { m.info = i }

// WantHeight is the panel's height for a body of h lines: a finished run
// needs only its summary and failed rows.
func (m *Model) WantHeight(h int) int {
	want := 3 + max(min(h-9, TailLines), 0)
	if m.info.Finished {
		return min(1+len(m.failedRows()), want)
	}
	return want
}

func (m *Model) SetSize(w, h int)          { m.width, m.height = w, h }
func (m *Model) Update(tea.Msg) tea.Cmd    { return nil }
func (m *Model) ShortHelp() []key.Binding  { return nil }
func (m *Model) FullHelp() [][]key.Binding { return nil }

// View renders the panel.
func (m *Model) View() string {
	th := m.ctx.Theme
	r := m.info
	p := r.Progress
	session := r.Session
	if session == "" {
		session = "…"
	}
	mark := "▶ run "
	if r.Finished {
		mark = "■ finished run "
	}
	head := th.DialogTitle.Render(mark+common.Safe(session)) + th.Muted.Render(" · ") +
		fmt.Sprintf("%d measured · %d failed · %d remaining", p.Done, p.Failed, p.Remaining)
	if p.Skipped > 0 {
		head += fmt.Sprintf(" · %d skipped", p.Skipped)
	}
	if p.Queued > 0 || p.Running > 1 {
		head += fmt.Sprintf(" · %d queued · %d running", p.Queued, p.Running)
	}
	if r.Finished {
		return strings.Join(append([]string{head + th.Muted.Render("  enter on a ✗ row opens its log · esc hides")}, m.failedRows()...), "\n")
	}
	head += th.Muted.Render(" · " + m.ctx.Now().Sub(r.Started).Round(time.Second).String())
	if r.Stopping {
		head += th.Warn.Render("  stopping…")
	} else {
		head += th.Muted.Render("  esc stop")
	}
	count := fmt.Sprintf(" %d/%d", p.Done+p.Failed, p.Total)
	pct := 0.0
	if p.Total > 0 {
		pct = float64(p.Done+p.Failed) / float64(p.Total)
	}
	bar := " " + ProgressBar(th, max(m.width-len(count)-2, 10), pct) + count
	lines := []string{head, bar, m.now()}
	room := m.height - 3
	for _, row := range append(m.jobRows(), m.failedRows()...) {
		if room <= 0 {
			break
		}
		lines = append(lines, row)
		room--
	}
	tail := r.Tail
	if len(tail) > room {
		tail = tail[len(tail)-max(room, 0):]
	}
	for _, l := range tail {
		lines = append(lines, th.Muted.Render(" │ "+ansi.Truncate(common.SafeLine(l), max(m.width-3, 0), "…")))
	}
	return strings.Join(lines, "\n")
}

func (m *Model) now() string {
	th := m.ctx.Theme
	r := m.info
	switch {
	case !r.HasCurrent:
		return th.Muted.Render(" starting…")
	case r.Running:
		return th.Muted.Render(" now: ") + th.Bold.Render(common.Safe(r.Current.String()))
	}
	return th.Muted.Render(" last: " + common.Safe(r.Current.String()))
}

// jobRows are one line per configuration a scheduler holds (queued or
// running): its job id and the scheduler's word for its state.
func (m *Model) jobRows() []string {
	th := m.ctx.Theme
	var out []string
	for _, r := range m.info.Rows {
		if r.JobID == "" || r.Failed() || r.Measured != nil || r.State == "interrupted" {
			continue
		}
		icon := "◌"
		if strings.HasPrefix(strings.ToLower(r.State), "running") {
			icon = "▶"
		}
		s := fmt.Sprintf(" %s %s · job %s · %s", icon, r.Config, r.JobID, r.State)
		out = append(out, th.Muted.Render(ansi.Truncate(common.Safe(s), m.width, "…")))
	}
	return out
}

// failedRows are one line per failed configuration: exit code and the
// last line it wrote.
func (m *Model) failedRows() []string {
	th := m.ctx.Theme
	var out []string
	for _, r := range m.info.Rows {
		if !r.Failed() {
			continue
		}
		s := fmt.Sprintf(" ✗ %s · exit %d", r.Config, r.ExitCode)
		if r.JobID != "" {
			s += " · job " + r.JobID
		}
		if r.LastErr != "" {
			s += " · " + r.LastErr
		}
		out = append(out, th.Error.Render(ansi.Truncate(common.Safe(s), m.width, "…")))
	}
	return out
}

// ProgressBar draws a bar of width cells filled to pct (0–1).
func ProgressBar(th *common.Theme, width int, pct float64) string {
	fill := int(math.Round(float64(width) * max(0, min(pct, 1))))
	return th.BarFill.Render(strings.Repeat("█", fill)) + th.Muted.Render(strings.Repeat("░", width-fill))
}
