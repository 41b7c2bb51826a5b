package common

import (
	"strings"

	"perfpilot/engine"
)

// AnomalyMark is drawn beside a measurement the predictor finds
// implausible (engine.Flag) or that import kept despite failing its
// plausibility checks (engine.Result.Flag).
const AnomalyMark = "⚠"

// Anomalies are the predictor's flags on measured configurations, looked up
// by configuration. The predictor keys its flags by the catalog-normalized
// configuration, so lookups normalize first. A nil *Anomalies has none.
type Anomalies struct {
	cat *engine.Catalog
	by  map[string][]engine.Flag
}

// NewAnomalies indexes flags (engine.Predictor.Flags).
func NewAnomalies(cat *engine.Catalog, flags []engine.Flag) *Anomalies {
	a := &Anomalies{cat: cat, by: map[string][]engine.Flag{}}
	for _, f := range flags {
		k := f.Config.Key()
		a.by[k] = append(a.by[k], f)
	}
	return a
}

// Len counts the flagged configurations.
func (a *Anomalies) Len() int {
	if a == nil {
		return 0
	}
	return len(a.by)
}

// Of returns the flags on a configuration (nil: none).
func (a *Anomalies) Of(cfg engine.Config) []engine.Flag {
	if a == nil || len(a.by) == 0 {
		return nil
	}
	if a.cat != nil {
		if n, err := a.cat.Normalize(cfg); err == nil {
			cfg = n
		}
	}
	return a.by[cfg.Key()]
}

// OnMetric returns the flags on a configuration that concern a metric:
// memory flags concern memory, latency flags latency and throughput.
func (a *Anomalies) OnMetric(cfg engine.Config, m engine.Metric) []engine.Flag {
	return FlagsOn(a.Of(cfg), m)
}

// FlagsOn keeps the flags that concern metric m.
func FlagsOn(fs []engine.Flag, m engine.Metric) []engine.Flag {
	var out []engine.Flag
	for _, f := range fs {
		if (f.Metric == engine.Memory) == (m == engine.Memory) {
			out = append(out, f)
		}
	}
	return out
}

// AnomalyText says why a measurement is flagged, in the words of the
// predictor, and what to do about it.
func AnomalyText(fs []engine.Flag, implausible string) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, Safe(f.Why))
	}
	if implausible != "" {
		parts = append(parts, "kept at import despite: "+Safe(implausible))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + " — check it"
}
