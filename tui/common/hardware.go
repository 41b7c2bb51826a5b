package common

import (
	"fmt"
	"strings"

	"perfpilot/engine"
)

// HWStatus is a short feasibility mark: ok, OOM, unsupported, or excluded
// by a constraint.
func HWStatus(s engine.HardwareScore) string {
	switch {
	case s.Eligible:
		return "ok"
	case !s.Feasible && strings.HasPrefix(s.Reason, "out of memory"):
		return "OOM"
	case !s.Feasible:
		return "unsupported"
	}
	return "excluded"
}

// ScorePart finds a score component by name.
func ScorePart(s engine.HardwareScore, name string) (engine.ScoreComponent, bool) {
	for _, c := range s.Breakdown {
		if c.Name == name {
			return c, true
		}
	}
	return engine.ScoreComponent{}, false
}

// ScoreComponents are the breakdown parts in display order, with short
// titles.
var ScoreComponents = []struct{ Name, Title, Short string }{
	{"performance", "Perf", "perf"}, {"power", "Power", "power"}, {"memory_headroom", "Headrm", "mem"},
	{"availability", "Avail", "avail"}, {"deployment", "Deploy", "deploy"},
}

// RecommendLine says which hardware wins and its alternatives.
func RecommendLine(th *Theme, hr *engine.HardwareRanking, err error) string {
	if hr.RecommendedHardware == "" {
		msg := "no hardware qualifies"
		if err != nil {
			msg = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		return th.Error.Render(Safe(msg))
	}
	s := th.Muted.Render("recommended ") + th.Good.Render(Safe(hr.RecommendedHardware))
	if top := hr.Score(hr.RecommendedHardware); top != nil {
		s += th.Muted.Render(" (" + FmtScore(top.Score) + ")")
	}
	if len(hr.Alternatives) == 0 {
		return s + th.Muted.Render(" · no alternative within 80% of its score")
	}
	var alts []string
	for _, a := range hr.Alternatives {
		alts = append(alts, fmt.Sprintf("%s %.3f", Safe(a.Hardware), a.Score))
	}
	return s + th.Muted.Render(" · alternatives: ") + strings.Join(alts, ", ")
}
