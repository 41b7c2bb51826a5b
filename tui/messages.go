package tui

import (
	"perfpilot/engine"
	"perfpilot/formats"
	"perfpilot/runner"
	"perfpilot/store"
)

// Messages returned by background commands. Each carries the request id it
// answers; the root drops answers to superseded requests.

type rankedMsg struct {
	id       int
	reloaded bool
	results  []store.StoredResult
	pred     *engine.Predictor
	report   *engine.Report
	err      error
}

type rankingMsg struct {
	id      int
	kind    jobKind // jobDetail or jobHardware
	key     string
	ranking *engine.HardwareRanking
	err     error
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
	format exportFormat
	rows   int
	report *engine.Report
	data   []rec
	err    error
	exists bool // the file exists and force was not given
}

type sessionsMsg struct {
	id   int
	list []store.SessionInfo
	err  error
}

type sessionSavedMsg struct {
	id      int
	name    string
	report  *engine.Report // what was saved
	replace bool
	err     error
	exists  bool
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

// Messages of a benchmark run (x). They carry the run's id and arrive in
// order through the run's channel; runFinishedMsg is always the last.

// runPreparedMsg says the session is saved and the plan made.
type runPreparedMsg struct {
	id      int
	session string
	how     runSessionMode
	report  *engine.Report // the report the session holds
	toRun   int
	skipped []runner.Job // already measured for the session
	logDir  string
}

// runEventMsg forwards one runner event.
type runEventMsg struct {
	id int
	ev runner.Event
}

// runTickMsg refreshes the tail of the running job's log.
type runTickMsg struct {
	id    int
	path  string
	lines []string
}

// runFinishedMsg ends a run: sum is nil when it never started.
type runFinishedMsg struct {
	id      int
	session string
	sum     *runner.Summary
	err     error
}
