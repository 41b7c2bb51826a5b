//go:build unix

package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"perfpilot/engine"
)

// A FIFO planted where run keeps its own files (a configuration's log, the
// run state) must not hang run in open(2): it is refused at once as not a
// regular file, and the rest of the run goes on or fails with that reason.
func TestRunRefusesPlantedFIFOs(t *testing.T) {
	cat := engine.MustBuiltinCatalog()
	for _, tc := range []struct {
		name   string
		plant  func(logDir, session string, cfg engine.Config) string
		runErr bool // the run as a whole fails (else only the configuration)
	}{
		{"configuration log", func(logDir, session string, cfg engine.Config) string { return logPath(logDir, session, cfg) }, false},
		{"run state", func(logDir, _ string, _ engine.Config) string { return filepath.Join(logDir, StateFile) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newDB(t, cat)
			sess := saveSession(t, db, cat, "fifo", 2, nil, nil)
			recs := sess.Report.Recommendations
			b := newBench(t)
			b.set(t, map[engine.Config]string{recs[0].Config(): "json", recs[1].Config(): "json"})
			out := t.TempDir()
			logDir := filepath.Join(out, "logs")
			os.MkdirAll(logDir, 0o755)
			fifo := tc.plant(logDir, "fifo", recs[0].Config())
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			type result struct {
				sum *Summary
				err error
			}
			done := make(chan result, 1)
			go func() {
				sum, err := Run(context.Background(), Options{DB: db, Session: "fifo", Template: b.template(), OutputDir: out, Grace: 100 * time.Millisecond}, nil)
				done <- result{sum, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				// Unblock the open so the test can end, then fail.
				if f, err := os.OpenFile(fifo, os.O_RDWR, 0); err == nil {
					f.Close()
				}
				t.Fatal("run is stuck on the FIFO")
			}
			if tc.runErr {
				if r.err == nil || !strings.Contains(r.err.Error(), "not a regular file") {
					t.Errorf("run = %v; want it refused as not a regular file", r.err)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("run = %v", r.err)
			}
			if j := r.sum.Jobs[0]; j.Status != StatusFailed || !strings.Contains(j.Reason, "not a regular file") {
				t.Errorf("configuration with a FIFO log: %s %q", j.Status, j.Reason)
			}
			if r.sum.Jobs[1].Status != StatusMeasured {
				t.Errorf("the other configuration: %s %q", r.sum.Jobs[1].Status, r.sum.Jobs[1].Reason)
			}
		})
	}
	fifo := filepath.Join(t.TempDir(), "tail.log")
	syscall.Mkfifo(fifo, 0o644)
	if _, err := TailLog(fifo, 3); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("TailLog on a FIFO = %v", err)
	}
}
