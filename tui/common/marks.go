package common

import "perfpilot/engine"

// Measured are measured values (0: not measured).
type Measured struct {
	Throughput, LatencyMS, MemoryMB float64
}

// Get is one metric.
func (m Measured) Get(metric engine.Metric) float64 {
	switch metric {
	case engine.Throughput:
		return m.Throughput
	case engine.Latency:
		return m.LatencyMS
	default:
		return m.MemoryMB
	}
}

// Mark is what is known about a configuration beyond its prediction: that
// it was measured after the ranking was made, or what its last run did.
// State and JobID are generic so that other executors (a scheduler's job
// id and state) fit the same row.
type Mark struct {
	Measured *Measured
	// Flags are the predictor's doubts about that measurement, and
	// Implausible what import found wrong with it (engine.Result.Flag).
	Flags       []engine.Flag
	Implausible string
	State       string // "", "queued", "running", "measured", "failed", "interrupted"
	JobID       string
	ExitCode    int
	LastErr     string // the last line the command wrote before failing
	LogPath     string
}

// Anomalous reports whether the measurement of metric m is in doubt.
func (m Mark) Anomalous(metric engine.Metric) bool {
	return m.Measured != nil && (m.Implausible != "" || len(FlagsOn(m.Flags, metric)) > 0)
}

// Failed reports whether the configuration's last run failed.
func (m Mark) Failed() bool { return m.State == "failed" }

// Marks are marks by configuration.
type Marks map[engine.Config]Mark
