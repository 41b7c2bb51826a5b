package tui

import (
	"context"
	"strings"
)

// jobKind names a kind of background work; at most one of each is current,
// and an answer to a superseded request is dropped.
type jobKind int

const (
	jobRank jobKind = iota
	jobDetail
	jobHardware
	jobOverview
	jobPareto
	jobImport
	jobExport
	jobSession
	jobSessions
	jobLog
	jobExclude
	numJobKinds
)

var jobLabels = [numJobKinds]string{"ranking", "ranking hardware", "ranking hardware", "ranking every model", "predicting trade-offs",
	"importing", "exporting", "saving session", "loading sessions", "reading log", "excluding"}

type jobs struct {
	base    context.Context
	seq     int
	pending map[jobKind]int
	cancels map[jobKind]context.CancelFunc
}

func newJobs(base context.Context) jobs {
	return jobs{base: base, pending: map[jobKind]int{}, cancels: map[jobKind]context.CancelFunc{}}
}

// begin registers a new request of kind, cancelling the one it supersedes,
// and returns its id and context.
func (j *jobs) begin(kind jobKind) (int, context.Context) {
	if cancel := j.cancels[kind]; cancel != nil {
		cancel()
	}
	j.seq++
	ctx, cancel := context.WithCancel(j.base)
	j.pending[kind], j.cancels[kind] = j.seq, cancel
	return j.seq, ctx
}

// finish retires request id of kind; false means it was superseded and its
// answer must be dropped.
func (j *jobs) finish(kind jobKind, id int) bool {
	if cur, ok := j.pending[kind]; !ok || cur != id {
		return false
	}
	j.abandon(kind)
	return true
}

// abandon drops the current request of kind.
func (j *jobs) abandon(kind jobKind) {
	if cancel := j.cancels[kind]; cancel != nil {
		cancel()
	}
	delete(j.cancels, kind)
	delete(j.pending, kind)
}

func (j *jobs) busy() bool                  { return len(j.pending) > 0 }
func (j *jobs) isPending(kind jobKind) bool { _, ok := j.pending[kind]; return ok }

// label lists the work in progress.
func (j *jobs) label() string {
	seen := map[string]bool{}
	var labels []string
	for k := range numJobKinds {
		if j.isPending(k) && !seen[jobLabels[k]] {
			seen[jobLabels[k]] = true
			labels = append(labels, jobLabels[k])
		}
	}
	return strings.Join(labels, ", ")
}
