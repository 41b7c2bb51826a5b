package detail

import (
	"fmt"
	"strings"

	"perfpilot/engine"
	"perfpilot/tui/common"
)

// worthSection says what measuring the row is worth: how many candidates'
// 80% intervals it narrows (by 10% or more, after the picks ranked above
// it), and whether it is the first measurement of its hardware, which
// informs every configuration there (engine.Recommendation.Narrows).
func worthSection(th *common.Theme, d Data, _ int) []string {
	r := d.Row
	if r.Rank <= 0 || d.Mark.Measured != nil {
		return nil // not in the ranking on screen, or measured already
	}
	what := "narrows " + configurations(r.Narrows)
	if r.FirstOnHardware {
		what = fmt.Sprintf("first measurement on %s: %s", common.Safe(r.Hardware), what)
	}
	return []string{" " + th.Accent.Render(what) + th.Muted.Render(" (their 80% interval ≥10% narrower)")}
}

func configurations(n int) string {
	if n == 1 {
		return "1 configuration"
	}
	return fmt.Sprintf("%d configurations", n)
}

// anomalySection gives the reasons behind every ⚠ in the pane: the row's
// own measurement, then each hardware's measured value in the bars.
func anomalySection(th *common.Theme, d Data, width int) []string {
	var out []string
	say := func(s string) {
		for l := range strings.SplitSeq(common.Wrap(s, width-3), "\n") {
			out = append(out, th.Warn.Render(" "+l))
		}
	}
	if mk := d.Mark; mk.Measured != nil && (len(mk.Flags) > 0 || mk.Implausible != "") {
		say(common.AnomalyMark + " this measurement: " + common.AnomalyText(mk.Flags, mk.Implausible))
	}
	if d.Ranking == nil {
		return out
	}
	for _, s := range d.Ranking.Ranking {
		if s.Hardware == d.Row.Hardware && d.Mark.Measured != nil {
			continue // said above
		}
		if fs := flagsOn(d, s); len(fs) > 0 {
			say(fmt.Sprintf("%s measured on %s: %s", common.AnomalyMark, common.Safe(s.Hardware), common.AnomalyText(fs, "")))
		}
	}
	return out
}

// flagsOn are the flags on a measured hardware of the ranking that concern
// the pane's metric.
func flagsOn(d Data, s engine.HardwareScore) []engine.Flag {
	if !s.Feasible || !s.Predicted.Get(d.Metric).Measured {
		return nil
	}
	cfg := d.Ranking.Config()
	cfg.Hardware = s.Hardware
	return d.Anomalies.OnMetric(cfg, d.Metric)
}
