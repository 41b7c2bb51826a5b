package tui

import (
	"perfpilot/engine"
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
	parsed *store.ParsedFile
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
