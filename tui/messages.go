package tui

import (
	"perfpilot/engine"
	"perfpilot/formats"
	"perfpilot/runner"
	"perfpilot/store"
	"perfpilot/tui/common"
	"perfpilot/tui/dialog"
	"perfpilot/tui/overview"
	"perfpilot/tui/pareto"
)

// Messages returned by background commands. Each carries the request id it
// answers; the root drops answers to superseded requests.

type rankedMsg struct {
	id       int
	reloaded bool
	results  []store.StoredResult
	measured map[string]measuredRow // indexMeasured(results)
	pred     *engine.Predictor
	report   *engine.Report
	err      error
}

// rankKey names one hardware ranking: a configuration's group (all but
// the hardware) and the metric.
type rankKey struct {
	group  engine.Config
	metric engine.Metric
}

func keyOf(cfg engine.Config, metric engine.Metric) rankKey {
	return rankKey{group: cfg.Group(), metric: metric}
}

type rankingMsg struct {
	id      int
	kind    jobKind // jobDetail or jobHardware
	key     rankKey
	ranking *engine.HardwareRanking
	err     error
}

type overviewMsg struct {
	id     int
	metric engine.Metric
	rows   []overview.Row
	cached map[rankKey]*engine.HardwareRanking
}

type paretoMsg struct {
	id     int
	title  string
	points []pareto.Point
	err    error
}

type importedMsg struct {
	id     int
	path   string
	parsed *formats.ParsedFile
	added  int
	dups   int
	err    error
}

type exportedMsg struct {
	id     int
	path   string
	format dialog.Format
	rows   int
	err    error
	exists bool // the file exists and force was not given
}

type sessionsMsg struct {
	id   int
	list []store.SessionInfo
	err  error
}

type sessionSavedMsg struct {
	id       int
	name     string
	report   *engine.Report  // the ranking on screen when saved
	off      []engine.Config // the selected rows saved after it
	selected int
	replace  bool
	err      error
	exists   bool
}

type sessionOpenedMsg struct {
	id      int
	session *store.Session
	err     error
}

type sessionChangedMsg struct {
	id       int
	op       string // "renamed" or "deleted"
	from, to string
	err      error
}

type logReadMsg struct {
	id    int
	title string
	body  string
	err   error
}

type excludedMsg struct {
	id  int
	req common.ExcludeMsg
	err error
}

// statusExpiredMsg clears the status line if nothing newer was said.
type statusExpiredMsg struct{ seq int }

// Messages of a benchmark run (x), in order through the run's channel;
// runFinishedMsg is always the last.

type runPreparedMsg struct {
	id      int
	session string
	how     runSessionMode
	report  *engine.Report
	off     []engine.Config
	toRun   int
	skipped []runner.Job
	logDir  string
}

type runEventMsg struct {
	id int
	ev runner.Event
}

type runTickMsg struct {
	id    int
	path  string
	lines []string
}

type runFinishedMsg struct {
	id      int
	session string
	sum     *runner.Summary
	err     error
}
