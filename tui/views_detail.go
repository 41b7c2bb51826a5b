package tui

import (
	"fmt"
	"math"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
)

// detailPane renders the detail of one recommendation: its hardware
// alternatives, the score breakdown, and the predicted metric on every
// hardware as bars with intervals. It only renders what it is given.
type detailPane struct {
	th     *Theme
	row    rec
	rv     rankingView
	metric engine.Metric
	width  int
	height int
}

// detailHeight is how many lines the pane wants for n hardware.
func detailHeight(width, n int) int {
	if width >= compactWidth {
		return 3 + max(len(scoreComponents)+2, n+1)
	}
	return 3 + 2 + n + 1
}

func (d detailPane) View() string {
	th := d.th
	r := d.row
	lines := []string{
		th.Accent.Render(strings.Repeat("─", d.width)),
		th.Bold.Render(fmt.Sprintf(" %s · batch %d · %s · seq %d", r.ModelName, r.BatchSize, r.Precision, r.SequenceLength)) +
			th.Muted.Render(fmt.Sprintf(" · row on %s · %s", r.Hardware, metricLabel(d.metric))),
	}
	hr := d.rv.ranking
	switch {
	case hr == nil && d.rv.err != nil:
		lines = append(lines, " "+th.Error.Render(d.rv.err.Error()))
		return d.fitLines(lines)
	case hr == nil:
		lines = append(lines, " "+th.Muted.Render("ranking hardware…"))
		return d.fitLines(lines)
	}
	lines = append(lines, " "+recommendLine(th, hr, d.rv.err))
	bars := d.bars(hr)
	brk := d.breakdown(hr)
	if d.width >= compactWidth {
		left := strings.Join(brk, "\n")
		lw := lipgloss.Width(left) + 3
		right := make([]string, len(bars))
		for i, b := range bars {
			right[i] = ansi.Truncate(b, max(d.width-lw, 10), "")
		}
		lines = append(lines, strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, left, "   ", strings.Join(right, "\n")), "\n")...)
	} else {
		lines = append(lines, d.breakdownCompact(hr)...)
		lines = append(lines, bars...)
	}
	return d.fitLines(lines)
}

func (d detailPane) fitLines(lines []string) string {
	if len(lines) > d.height {
		lines = lines[:d.height]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, d.width, "…")
	}
	return strings.Join(lines, "\n")
}

// breakdown lists each score component for the row's hardware and, when
// different, the recommended one.
func (d detailPane) breakdown(hr *engine.HardwareRanking) []string {
	th := d.th
	hws := compareWith(hr, d.row.Hardware)
	head := " " + fit("score breakdown", 16, false)
	for _, h := range hws {
		label := h
		if h == hr.RecommendedHardware {
			label += "★"
		}
		head += " " + fit(label, 13, true)
	}
	out := []string{th.ColHeader.Render(head)}
	for _, sc := range scoreComponents {
		line := " " + fit(sc.name, 16, false)
		for _, h := range hws {
			cell := "–"
			if s := hr.Score(h); s != nil {
				if c, ok := component(*s, sc.name); ok {
					cell = fmt.Sprintf("%.3f (%.2f)", c.Contribution, c.Value)
				}
			}
			line += " " + fit(cell, 13, true)
		}
		out = append(out, line)
	}
	total := " " + fit("total", 16, false)
	for _, h := range hws {
		cell := "–"
		if s := hr.Score(h); s != nil && s.Eligible {
			cell = fmtScore(s.Score)
		} else if s != nil {
			cell = hwStatus(*s)
		}
		total += " " + fit(cell, 13, true)
	}
	return append(out, th.Bold.Render(total))
}

// bars draws the metric on every hardware: █ up to the interval's low end,
// ▓ up to the predicted value, ░ up to the high end.
func (d detailPane) bars(hr *engine.HardwareRanking) []string {
	th := d.th
	width := d.width
	if width >= compactWidth {
		width = d.width - 50
	}
	const labelW, valW, ivW, tailW = 8, 6, 13, 8
	barW := max(width-labelW-valW-ivW-tailW-5, 8)
	scale, measured := 0.0, false
	for _, s := range hr.Ranking {
		if s.Feasible {
			iv := s.Predicted.Get(d.metric)
			scale = math.Max(scale, iv.High)
			measured = measured || iv.Measured
		}
	}
	title := metricLabel(d.metric) + ", 80% interval"
	if measured {
		title += " (m: measured)"
	}
	out := []string{th.ColHeader.Render(" " + fit("hardware", labelW, false) + " " + fit(title, barW+valW+ivW+2, false) + " " + fit("score", tailW, false))}
	for _, s := range hr.Ranking {
		label := " " + fit(s.Hardware, labelW, false) + " "
		if !s.Feasible || !s.Eligible {
			why := hwStatus(s)
			out = append(out, label+th.Bad.Render(fit(why, 11, false))+" "+th.Muted.Render(s.Reason))
			continue
		}
		iv := s.Predicted.Get(d.metric)
		n := func(v float64) int {
			if scale <= 0 {
				return 0
			}
			return int(math.Round(v / scale * float64(barW)))
		}
		lo, mid, hi := n(iv.Low), max(n(iv.Value), 1), n(iv.High)
		lo = min(lo, mid)
		hi = max(hi, mid)
		bar := th.BarFill.Render(strings.Repeat("█", lo)+strings.Repeat("▓", mid-lo)) +
			th.BarInterval.Render(strings.Repeat("░", hi-mid)) + strings.Repeat(" ", max(barW-hi, 0))
		val := fmtVal(iv.Value)
		if iv.Measured {
			val += "m"
		}
		tail := fmtScore(s.Score)
		if s.Hardware == hr.RecommendedHardware {
			tail += "★"
		}
		if s.Hardware == d.row.Hardware {
			tail += "◀"
		}
		out = append(out, label+bar+" "+fit(val, valW, true)+" "+th.Muted.Render(fit(fmtInterval(iv.Low, iv.High), ivW, false))+" "+tail)
	}
	return out
}

// breakdownCompact is the breakdown in one line per hardware, for narrow
// terminals: each component's contribution, then the total.
func (d detailPane) breakdownCompact(hr *engine.HardwareRanking) []string {
	th := d.th
	hws := compareWith(hr, d.row.Hardware)
	short := map[string]string{"performance": "perf", "power": "power", "memory_headroom": "mem", "availability": "avail", "deployment": "deploy"}
	var out []string
	for _, h := range hws {
		s := hr.Score(h)
		label := h
		if h == hr.RecommendedHardware {
			label += "★"
		}
		line := " " + th.Bold.Render(fit(label, 9, false))
		if s == nil || !s.Eligible {
			status := "–"
			if s != nil {
				status = hwStatus(*s)
			}
			out = append(out, line+" "+th.Bad.Render(status))
			continue
		}
		for _, sc := range scoreComponents {
			if c, ok := component(*s, sc.name); ok {
				line += " " + th.Muted.Render(short[sc.name]) + " " + strings.TrimPrefix(fmt.Sprintf("%.3f", c.Contribution), "0")
			}
		}
		out = append(out, line+" = "+th.Bold.Render(fmtScore(s.Score)))
	}
	return out
}

// compareWith is the row's hardware and what it is compared with: the
// recommended hardware, or the runner-up when the row is the recommended.
func compareWith(hr *engine.HardwareRanking, hw string) []string {
	out := []string{hw}
	if hr.RecommendedHardware != "" && hr.RecommendedHardware != hw {
		return append(out, hr.RecommendedHardware)
	}
	for _, s := range hr.Ranking {
		if s.Eligible && s.Hardware != hw {
			return append(out, s.Hardware)
		}
	}
	return out
}
