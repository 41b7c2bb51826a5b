package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// outcome is what a finished task gave. reason is empty on success.
type outcome struct {
	code    int
	reason  string
	metrics Metrics
	// busy: the wrapper found the configuration still running from an
	// earlier run and did not start it; it runs again on resume.
	busy bool
}

// logMarks are the wrapper's markers of one attempt found in a log.
type logMarks struct {
	start, end   int64 // output of the attempt: [start, end)
	started      bool
	exited       bool
	code         int
	busy, failed string // reasons from the busy and failed-to-start markers
}

// scanLog finds the markers of the attempt with the nonce; the last start
// marker wins (a task retried by the scheduler appends to its log).
func scanLog(path, nonce string) (logMarks, error) {
	f, err := OpenRegular(path, os.O_RDONLY, 0)
	if err != nil {
		return logMarks{}, err
	}
	defer f.Close()
	prefix := []byte(markerPrefix + nonce + " ")
	start := []byte(startMarker(nonce))
	exitPrefix := []byte("=== exit status ")
	var m logMarks
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	for {
		line, err := br.ReadSlice('\n')
		n := int64(len(line))
		// A line longer than the buffer is read in pieces; markers are short
		// and start a line, so only a piece at a line start can hold one.
		for errors.Is(err, bufio.ErrBufferFull) {
			var more []byte
			more, err = br.ReadSlice('\n')
			n += int64(len(more))
		}
		if bytes.HasPrefix(line, exitPrefix) {
			var code int
			if _, err := fmt.Sscanf(string(line[len(exitPrefix):]), "%d of perfpilot task "+nonce, &code); err == nil && m.started {
				m.code, m.exited, m.end = code, true, off
			}
		} else if bytes.HasPrefix(line, prefix) {
			rest := bytes.TrimSpace(line[len(prefix):])
			switch {
			case bytes.HasPrefix(line, start):
				m = logMarks{start: off + n, end: -1, started: true}

			case bytes.HasPrefix(rest, []byte("busy: ")):
				m.busy = string(rest[len("busy: "):])
			case bytes.HasPrefix(rest, []byte("failed to start: ")):
				m.failed = string(rest[len("failed to start: "):])
			}
		}
		off += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, err
		}
	}
	if m.end < 0 {
		m.end = off
	}
	return m, nil
}

// logHasStart reports whether the attempt with the nonce started.
func logHasStart(path, nonce string) bool {
	m, err := scanLog(path, nonce)
	return err == nil && (m.started || m.busy != "" || m.failed != "")
}

// collect decides a finished task's outcome from the executor's update and
// the attempt's output in the log.
func collect(path, nonce string, u Update) outcome {
	m, err := scanLog(path, nonce)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return outcome{code: -1, reason: "read log: " + err.Error()}
	}
	code := u.ExitCode
	if u.Phase == PhaseGone {
		if !m.exited {
			if m.started {
				return outcome{code: -1, reason: fmt.Sprintf("lost: the scheduler no longer knows the job and its log has no exit status (%s)", path)}
			}
			if m.busy == "" && m.failed == "" {
				return outcome{code: -1, reason: "lost: the scheduler no longer knows the job and it never started"}
			}
		}
		code = m.code
	}
	switch {
	case m.busy != "":
		return outcome{code: taskBusy, reason: "not started: " + m.busy, busy: true}
	case m.failed != "":
		return outcome{code: 127, reason: "start: " + m.failed}
	case u.Reason != "":
		return outcome{code: code, reason: u.Reason}
	case code != 0 && !m.started:
		return outcome{code: code, reason: fmt.Sprintf("exit status %d before the command started (its log is empty: see the scheduler's own output)", code)}
	case code != 0:
		return outcome{code: code, reason: fmt.Sprintf("exit status %d", code)}
	case !m.started:
		return outcome{code: code, reason: "no output: the task's log has no start marker (" + path + ")"}
	}
	f, err := OpenRegular(path, os.O_RDONLY, 0)
	if err != nil {
		return outcome{code: code, reason: "read log: " + err.Error()}
	}
	defer f.Close()
	metrics, ok, err := ParseOutput(io.NewSectionReader(f, m.start, m.end-m.start))
	switch {
	case err != nil:
		return outcome{code: code, reason: "read log: " + err.Error()}
	case !ok:
		return outcome{code: code, reason: "no metric in the output (print a JSON line with throughput, latency_ms or memory_mb)"}
	}
	return outcome{code: code, metrics: metrics}
}
