package detail

import (
	"fmt"
	"math"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"perfpilot/engine"
	"perfpilot/tui/common"
)

func titleSection(th *common.Theme, d Data, _ int) []string {
	r := d.Row
	shape := fmt.Sprintf("seq %d", r.SequenceLength)
	if r.Phase != engine.Forward {
		shape = fmt.Sprintf("%d prompt + %d output tokens", r.PromptTokens, r.OutputTokens)
		if r.GPUCount > 1 {
			shape += fmt.Sprintf(" · %d GPUs (%s)", r.GPUCount, r.Parallelism)
		}
	}
	return []string{th.Bold.Render(common.Safe(fmt.Sprintf(" %s · batch %d · %s · %s", r.ModelName, r.BatchSize, r.Precision, shape))) +
		th.Muted.Render(common.Safe(fmt.Sprintf(" · row on %s · %s (%s)", r.Hardware, d.Metric, r.Config().Unit(d.Metric))))}
}

// generationSection is what a text-generation row adds: time to first
// token, time per output token and output tokens/s with their intervals,
// the batch's KV cache and how many sequences fit.
func generationSection(th *common.Theme, d Data, _ int) []string {
	p := d.Row.Predicted
	if p.TTFTMS == nil || p.TPOTMS == nil {
		return nil
	}
	iv := func(name string, v *engine.Interval, unit string) string {
		if v == nil {
			return ""
		}
		return th.Muted.Render(name+" ") + th.Bold.Render(common.FmtVal(v.Value)) + th.Muted.Render(" "+common.FmtInterval(v.Low, v.High)+" "+unit)
	}
	parts := []string{iv("TTFT", p.TTFTMS, "ms"), iv("TPOT", p.TPOTMS, "ms"), iv("output", p.OutputTokensPerS, "tokens/s")}
	line := " " + strings.Join(parts, th.Muted.Render(" · "))
	extra := ""
	if p.KVCacheMB != nil {
		extra = fmt.Sprintf(" KV cache %s MB", common.FmtVal(p.KVCacheMB.Value))
	}
	if p.MaxConcurrency != nil {
		extra += fmt.Sprintf(" · up to %.0f sequences fit beside the weights", p.MaxConcurrency.Value)
	}
	return []string{line, th.Muted.Render(extra)}
}

// rankingSection is the recommendation, the breakdown and the bars: side
// by side when wide, one after the other when narrow.
func rankingSection(th *common.Theme, d Data, width int) []string {
	hr := d.Ranking
	switch {
	case hr == nil && d.Err != nil:
		return []string{" " + th.Error.Render(common.Safe(d.Err.Error()))}
	case hr == nil:
		return []string{" " + th.Muted.Render("ranking hardware…")}
	}
	lines := []string{" " + common.RecommendLine(th, hr, d.Err)}
	if width < common.CompactWidth {
		lines = append(lines, breakdownCompact(th, d)...)
		return append(lines, bars(th, d, width)...)
	}
	left := strings.Join(breakdown(th, d), "\n")
	lw := lipgloss.Width(left) + 3
	right := bars(th, d, width-50)
	for i, b := range right {
		right[i] = ansi.Truncate(b, max(width-lw, 10), "")
	}
	return append(lines, strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, left, "   ", strings.Join(right, "\n")), "\n")...)
}

// breakdown lists each score component for the row's hardware and what it
// is compared with.
func breakdown(th *common.Theme, d Data) []string {
	hr := d.Ranking
	hws := compareWith(hr, d.Row.Hardware)
	head := " " + common.Fit("score breakdown", 16, false)
	for _, h := range hws {
		label := h
		if h == hr.RecommendedHardware {
			label += "★"
		}
		head += " " + common.Fit(common.Safe(label), 13, true)
	}
	out := []string{th.ColHeader.Render(head)}
	for _, sc := range common.ScoreComponents {
		line := " " + common.Fit(sc.Name, 16, false)
		for _, h := range hws {
			cell := "–"
			if s := hr.Score(h); s != nil {
				if c, ok := common.ScorePart(*s, sc.Name); ok {
					cell = fmt.Sprintf("%.3f (%.2f)", c.Contribution, c.Value)
				}
			}
			line += " " + common.Fit(cell, 13, true)
		}
		out = append(out, line)
	}
	total := " " + common.Fit("total", 16, false)
	for _, h := range hws {
		cell := "–"
		if s := hr.Score(h); s != nil && s.Eligible {
			cell = common.FmtScore(s.Score)
		} else if s != nil {
			cell = common.HWStatus(*s)
		}
		total += " " + common.Fit(cell, 13, true)
	}
	return append(out, th.Bold.Render(total))
}

// breakdownCompact is the breakdown in one line per hardware.
func breakdownCompact(th *common.Theme, d Data) []string {
	hr := d.Ranking
	var out []string
	for _, h := range compareWith(hr, d.Row.Hardware) {
		s := hr.Score(h)
		label := h
		if h == hr.RecommendedHardware {
			label += "★"
		}
		line := " " + th.Bold.Render(common.Fit(common.Safe(label), 9, false))
		if s == nil || !s.Eligible {
			status := "–"
			if s != nil {
				status = common.HWStatus(*s)
			}
			out = append(out, line+" "+th.Bad.Render(status))
			continue
		}
		for _, sc := range common.ScoreComponents {
			if c, ok := common.ScorePart(*s, sc.Name); ok {
				line += " " + th.Muted.Render(sc.Short) + " " + strings.TrimPrefix(fmt.Sprintf("%.3f", c.Contribution), "0")
			}
		}
		out = append(out, line+" = "+th.Bold.Render(common.FmtScore(s.Score)))
	}
	return out
}

// rowMetric names the metric in the row's own unit: a text-generation
// row's throughput is tokens/s, not items/s.
func rowMetric(d Data) string {
	return fmt.Sprintf("%s (%s)", d.Metric, d.Row.Config().Unit(d.Metric))
}

// bars draws the metric on every hardware: █ up to the interval's low end,
// ▓ up to the predicted value, ░ up to the high end.
func bars(th *common.Theme, d Data, width int) []string {
	hr := d.Ranking
	const labelW, valW, ivW, tailW = 8, 7, 13, 8
	barW := max(width-labelW-valW-ivW-tailW-5, 8)
	scale, measured := 0.0, false
	for _, s := range hr.Ranking {
		if s.Feasible {
			iv := s.Predicted.Get(d.Metric)
			scale = math.Max(scale, iv.High)
			measured = measured || iv.Measured
		}
	}
	title := rowMetric(d) + ", 80% interval"
	if measured {
		title += " (m: measured)"
	}
	out := []string{th.ColHeader.Render(" " + common.Fit("hardware", labelW, false) + " " + common.Fit(title, barW+valW+ivW+2, false) + " " + common.Fit("score", tailW, false))}
	for _, s := range hr.Ranking {
		label := " " + common.Fit(common.Safe(s.Hardware), labelW, false) + " "
		if !s.Feasible || !s.Eligible {
			out = append(out, label+th.Bad.Render(common.Fit(common.HWStatus(s), 11, false))+" "+th.Muted.Render(common.Safe(s.Reason)))
			continue
		}
		out = append(out, label+bar(th, s.Predicted.Get(d.Metric), scale, barW)+" "+tail(th, s, d, valW, ivW))
	}
	return out
}

func bar(th *common.Theme, iv engine.Interval, scale float64, barW int) string {
	n := func(v float64) int {
		if scale <= 0 {
			return 0
		}
		return int(math.Round(v / scale * float64(barW)))
	}
	lo, mid, hi := n(iv.Low), max(n(iv.Value), 1), n(iv.High)
	lo = min(lo, mid)
	hi = max(hi, mid)
	return th.BarFill.Render(strings.Repeat("█", lo)+strings.Repeat("▓", mid-lo)) +
		th.BarInterval.Render(strings.Repeat("░", hi-mid)) + strings.Repeat(" ", max(barW-hi, 0))
}

func tail(th *common.Theme, s engine.HardwareScore, d Data, valW, ivW int) string {
	iv := s.Predicted.Get(d.Metric)
	val := common.FmtVal(iv.Value)
	if iv.Measured {
		val += "m"
		if len(flagsOn(d, s)) > 0 {
			val += common.AnomalyMark
		}
	}
	t := common.FmtScore(s.Score)
	if s.Hardware == d.Ranking.RecommendedHardware {
		t += "★"
	}
	if s.Hardware == d.Row.Hardware {
		t += "◀"
	}
	return common.Fit(val, valW, true) + " " + th.Muted.Render(common.Fit(common.FmtInterval(iv.Low, iv.High), ivW, false)) + " " + t
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

// whySection explains a mismatch: which score components favour the
// recommended hardware, in plain words, so a row where it is slower is
// not a puzzle.
func whySection(th *common.Theme, d Data, width int) []string {
	hr, r := d.Ranking, d.Row
	if hr == nil || r.HardwareMatch || hr.RecommendedHardware == "" || hr.RecommendedHardware == r.Hardware {
		return nil
	}
	rs, cs := hr.Score(hr.RecommendedHardware), hr.Score(r.Hardware)
	if rs == nil || cs == nil {
		return nil
	}
	var wins []string
	for _, sc := range common.ScoreComponents {
		a, okA := common.ScorePart(*rs, sc.Name)
		b, okB := common.ScorePart(*cs, sc.Name)
		if okA && okB && a.Contribution-b.Contribution > 0.005 {
			wins = append(wins, fmt.Sprintf("%s +%.3f", sc.Name, a.Contribution-b.Contribution))
		}
	}
	line := fmt.Sprintf(" why %s: %s on %s", common.Safe(hr.RecommendedHardware), common.Improvement(r.ExpectedImprovementPct, d.Metric), rowMetric(d))
	if len(wins) > 0 {
		line += " · scores higher on " + strings.Join(wins, ", ")
	}
	var out []string
	for i, l := range strings.Split(common.Wrap(line, width-3), "\n") {
		if i > 0 {
			l = "  " + l
		}
		out = append(out, th.Warn.Render(l))
	}
	return out
}

// runSection shows the row's last run when it failed or is running.
func runSection(th *common.Theme, d Data, _ int) []string {
	mk := d.Mark
	switch {
	case mk.Failed():
		line := fmt.Sprintf(" last run failed: exit %d", mk.ExitCode)
		if mk.LastErr != "" {
			line += " · " + common.Safe(mk.LastErr)
		}
		return []string{th.Error.Render(line) + th.Muted.Render(" · enter on the row opens its log")}
	case mk.State != "" && mk.State != "measured":
		s := " run: " + mk.State
		if mk.JobID != "" {
			s += " · job " + common.Safe(mk.JobID)
		}
		return []string{th.Muted.Render(s)}
	}
	return nil
}
