// Package cluster builds the executor a run names (local, slurm,
// kubernetes) from a placement, so the CLI and the dashboard make them the
// same way.
package cluster

import (
	"fmt"
	"time"

	"perfpilot/runner"
	"perfpilot/runner/kube"
	"perfpilot/runner/placement"
	"perfpilot/runner/slurm"
)

// Local is the name of the default executor: this machine.
const Local = "local"

// Names are the executors, local first.
var Names = []string{Local, slurm.Name, kube.Name}

// Options are what every scheduler executor needs.
type Options struct {
	Placement *placement.File
	Session   string
	LogDir    string
	// MaxConcurrent caps running tasks per array or Job (0: none).
	MaxConcurrent int
	// Timeout bounds each task (Slurm --time where the placement has none,
	// Kubernetes activeDeadlineSeconds; 0: none).
	Timeout time.Duration
	Grace   time.Duration
	// NodePerfpilot is perfpilot's path on Slurm nodes (this binary when empty).
	NodePerfpilot string
}

// New returns the named executor; nil for local (the runner's default).
func New(name string, o Options) (runner.Executor, error) {
	switch name {
	case "", Local:
		return nil, nil
	case slurm.Name:
		var limit string
		if o.Timeout > 0 {
			limit = SlurmTime(o.Timeout)
		}
		return slurm.New(slurm.Options{Placement: o.Placement, Session: o.Session, LogDir: o.LogDir, MaxConcurrent: o.MaxConcurrent,
			Time: limit, Perfpilot: o.NodePerfpilot, Grace: o.Grace})
	case kube.Name:
		return kube.New(kube.Options{Placement: o.Placement, Session: o.Session, LogDir: o.LogDir, MaxConcurrent: o.MaxConcurrent,
			Timeout: o.Timeout, Grace: o.Grace})
	}
	return nil, fmt.Errorf("executor %q is not one of %v", name, Names)
}

// Available lists the executors a placement can serve: local always, a
// scheduler when at least one hardware has a placement for it.
func Available(pl *placement.File) []string {
	out := []string{Local}
	if pl == nil {
		return out
	}
	for _, s := range []string{slurm.Name, kube.Name} {
		for _, hw := range pl.Hardware() {
			if len(pl.Missing(s, []string{hw})) == 0 {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// SlurmTime renders a duration as Slurm's D-HH:MM:SS, rounded up to a
// minute (Slurm's resolution).
func SlurmTime(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	return fmt.Sprintf("%d-%02d:%02d:00", m/1440, m/60%24, m%60)
}
