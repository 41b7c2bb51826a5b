//go:build unix

package kube

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"perfpilot/runner/placement"
)

// A FIFO planted where a pod's log is appended is refused at once, not
// waited on (runner.OpenRegular).
func TestFetchLogRefusesFIFO(t *testing.T) {
	pl, err := placement.Parse([]byte(placementJSON), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	x, err := New(Options{Placement: pl, Session: "s", LogDir: t.TempDir(), Cmd: &logRecorder{}})
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "x.log")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	x.pods["bench/job-0/0"] = "pod-0"
	done := make(chan error, 1)
	go func() { done <- x.FetchLog(context.Background(), "bench/job-0/0", fifo) }()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FetchLog into a FIFO = %v", err)
	}
}
