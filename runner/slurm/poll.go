package slurm

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"perfpilot/runner"
)

// squeueFormat asks for one line per array task: id, state, reason and
// the raw wait status, '|'-separated (none of these fields holds a '|').
const squeueFormat = "JobArrayID:|,State:|,Reason:|,exit_code:|"

// Recover finds the arrays a crashed Submit sent, by the token in their
// comment; tasks are grouped as Submit grouped them, so tokens match.
func (e *Exec) Recover(ctx context.Context, tasks []runner.Task) ([]string, error) {
	refs := make([]string, len(tasks))
	gs, err := e.groups(tasks)
	if err != nil {
		return refs, err
	}
	e.poll.Pace()
	out, err := e.o.Cmd.Run(ctx, "squeue", "-h", "-t", "all", "--name="+e.jobName(), "-O", "ArrayJobID:|,Comment:|")
	if err != nil {
		return refs, err
	}
	byToken := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) >= 2 && strings.HasPrefix(f[1], "perfpilot:") {
			byToken[strings.TrimPrefix(f[1], "perfpilot:")] = strings.TrimSpace(f[0])
		}
	}
	for _, g := range gs {
		if id := byToken[g.token()]; id != "" {
			for k, i := range g.idx {
				refs[i] = id + "_" + strconv.Itoa(k)
			}
		}
	}
	return refs, nil
}

// Wait polls until a task changed (see runner.Poller); each poll is one
// squeue call for all the session's arrays.
func (e *Exec) Wait(ctx context.Context, refs []string) ([]runner.Update, error) {
	return e.poll.Wait(ctx, refs, func(ctx context.Context) (map[string]runner.Update, error) {
		now, err := e.status(ctx, refs)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for ref, u := range now {
			// A task this run cancelled reads CANCELLED, or is gone at once
			// (a pending array element may leave no record).
			if e.cancelled[ref] && (u.Phase == runner.PhaseGone || u.Phase == runner.PhaseFinished && strings.HasPrefix(u.State, "CANCELLED")) {
				u.Phase, u.Reason = runner.PhaseCancelled, ""
				now[ref] = u
			}
		}
		return now, nil
	})
}

// status asks squeue about every task; tasks it no longer lists (Slurm
// forgets finished jobs after MinJobAge) are asked of sacct, once it is
// known to answer, and are otherwise gone (the runner reads their logs).
func (e *Exec) status(ctx context.Context, refs []string) (map[string]runner.Update, error) {
	jobs := arrayIDs(refs)
	e.poll.Pace()
	out, err := e.o.Cmd.Run(ctx, "squeue", "-h", "-r", "-t", "all", "-j", strings.Join(jobs, ","), "-O", squeueFormat)
	if err != nil && !strings.Contains(err.Error(), "Invalid job id") {
		return nil, err
	}
	now := map[string]runner.Update{}
	for _, line := range strings.Split(string(out), "\n") {
		if u, ok := parseSqueue(line); ok {
			now[u.Ref] = u
		}
	}
	var missing []string
	for _, ref := range refs {
		if _, ok := now[ref]; !ok {
			missing = append(missing, ref)
		}
	}
	if len(missing) > 0 {
		for ref, u := range e.sacct(ctx, missing) {
			now[ref] = u
		}
		for _, ref := range missing {
			if _, ok := now[ref]; !ok {
				now[ref] = runner.Update{Ref: ref, Phase: runner.PhaseGone, State: "unknown to squeue"}
			}
		}
	}
	return now, nil
}

// sacct asks accounting about tasks squeue no longer lists; on clusters
// without accounting it fails once and is not asked again.
func (e *Exec) sacct(ctx context.Context, refs []string) map[string]runner.Update {
	e.mu.Lock()
	skip := e.noSacct
	e.mu.Unlock()
	if skip {
		return nil
	}
	e.poll.Pace()
	out, err := e.o.Cmd.Run(ctx, "sacct", "-n", "-X", "--parsable2", "-j", strings.Join(refs, ","), "-o", "JobID,State,ExitCode")
	if err != nil {
		e.mu.Lock()
		e.noSacct = true
		e.mu.Unlock()
		return nil
	}
	got := map[string]runner.Update{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 3 {
			continue
		}
		state, _, _ := strings.Cut(f[1], " ") // "CANCELLED by 0"
		code, sig, _ := strings.Cut(f[2], ":")
		c, _ := strconv.Atoi(code)
		if s, _ := strconv.Atoi(sig); s > 0 {
			c = 128 + s
		}
		got[f[0]] = update(f[0], state, "", c)
	}
	return got
}

// arrayIDs are the distinct array job ids of "<array>_<task>" references.
func arrayIDs(refs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range refs {
		id, _, _ := strings.Cut(r, "_")
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// parseSqueue reads one line of squeueFormat.
func parseSqueue(line string) (runner.Update, bool) {
	f := strings.Split(strings.TrimSpace(line), "|")
	if len(f) < 4 || !strings.Contains(f[0], "_") || strings.Contains(f[0], "[") {
		return runner.Update{}, false
	}
	// exit_code is the raw wait status: exit code << 8, or the signal.
	status, _ := strconv.Atoi(strings.TrimSpace(f[3]))
	code := status >> 8
	if sig := status & 0x7f; sig != 0 {
		code = 128 + sig
	}
	return update(strings.TrimSpace(f[0]), strings.TrimSpace(f[1]), strings.TrimSpace(f[2]), code), true
}

// update maps a Slurm job state to a phase and, for a finished task that
// did not simply exit, the reason.
func update(ref, state, reason string, code int) runner.Update {
	u := runner.Update{Ref: ref, State: state, ExitCode: code}
	if reason != "" && reason != "None" {
		u.State = state + " (" + reason + ")"
	}
	switch state {
	case "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD":
		u.Phase = runner.PhaseQueued
	case "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING":
		u.Phase = runner.PhaseRunning
	case "COMPLETED":
		u.Phase = runner.PhaseFinished
	case "FAILED":
		u.Phase = runner.PhaseFinished
		if code == 0 {
			u.Reason = "FAILED: " + reason
		}
	case "TIMEOUT":
		u.Phase, u.Reason = runner.PhaseFinished, "TIMEOUT: the job's time limit ended it"
	case "OUT_OF_MEMORY":
		u.Phase, u.Reason = runner.PhaseFinished, "OUT_OF_MEMORY: the job exceeded its memory limit"
	case "CANCELLED":
		u.Phase, u.Reason = runner.PhaseFinished, "CANCELLED: by scancel or an administrator (rerun with --retry-failed)"
	case "NODE_FAIL":
		u.Phase, u.Reason = runner.PhaseFinished, "NODE_FAIL: the node failed (rerun with --retry-failed)"
	case "PREEMPTED":
		u.Phase, u.Reason = runner.PhaseFinished, "PREEMPTED: a higher-priority job took the node (rerun with --retry-failed)"
	default: // BOOT_FAIL, DEADLINE, REVOKED, SPECIAL_EXIT...
		u.Phase, u.Reason = runner.PhaseFinished, state
	}
	return u
}

// Cancel cancels the tasks with one scancel; Wait reports them cancelled.
func (e *Exec) Cancel(ctx context.Context, refs []string) error {
	if len(refs) == 0 {
		return nil
	}
	e.mu.Lock()
	for _, r := range refs {
		e.cancelled[r] = true
	}
	e.mu.Unlock()
	e.poll.Soon()
	if _, err := e.o.Cmd.Run(ctx, "scancel", refs...); err != nil {
		return fmt.Errorf("slurm: %w", err)
	}
	return nil
}
