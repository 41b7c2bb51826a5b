package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession runs a command in a detached tmux session on a private
// server and reads its screen.
type tmuxSession struct {
	t      *testing.T
	socket string
	start  time.Time
}

func (s *tmuxSession) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", s.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

func (s *tmuxSession) send(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if out, err := s.run("send-keys", "-t", "pp", k); err != nil {
			s.t.Fatalf("send-keys %s: %v %s", k, err, out)
		}
	}
}

func (s *tmuxSession) screen() string {
	out, _ := s.run("capture-pane", "-p", "-t", "pp")
	return out
}

// waitFor polls the screen until it holds every string.
func (s *tmuxSession) waitFor(subs ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		scr := s.screen()
		ok := true
		for _, sub := range subs {
			ok = ok && strings.Contains(scr, sub)
		}
		if ok {
			s.t.Logf("%v: %q", time.Since(s.start).Round(time.Millisecond), subs)
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q:\n%s", subs, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *tmuxSession) alive() bool {
	_, err := s.run("has-session", "-t", "pp")
	return err == nil
}

// TestEndToEndInTmux builds the real binary, runs `perfpilot --db X` in
// tmux, and drives it with keys, reading the screen with capture-pane.
func TestEndToEndInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "perfpilot")
	build := exec.Command("go", "build", "-o", bin, "./cmd/perfpilot")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "e2e.db")
	s := &tmuxSession{t: t, socket: fmt.Sprintf("perfpilot-e2e-%d", os.Getpid()), start: time.Now()}
	t.Cleanup(func() { s.run("kill-server") })
	if out, err := s.run("new-session", "-d", "-s", "pp", "-x", "120", "-y", "35", "-c", dir,
		"env", "TERM=xterm-256color", "SOURCE_DATE_EPOCH=1773500966", bin, "--db", db); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	s.waitFor("perfpilot", "SIMULATED DEMO DATA", "[Throughput]", "ranked 20 of")

	s.send("l")
	s.waitFor("[Latency]", "Lat ms", "by latency")
	s.send("Space", "Space", "2")
	s.waitFor("[2 Mismatches]", "Improve", "2 selected")
	s.send("3")
	s.waitFor("[3 Hardware]", "recommended ", "Headrm")
	s.send("1", "Enter")
	s.waitFor("score breakdown", "latency (ms), 80% interval")
	s.send("?")
	s.waitFor("reverse sort", "import results")
	s.send("?") // (esc then e at once would read as alt+e)
	s.send("e")
	s.waitFor("Export 2 selected rows", "perfpilot-export-")
	s.send("Enter")
	s.waitFor("exported 2 row(s) as JSON")
	matches, _ := filepath.Glob(filepath.Join(dir, "perfpilot-export-*.json"))
	if len(matches) != 1 {
		t.Fatalf("export files: %v", matches)
	}
	got := readExport(t, matches[0])
	if len(got.Recommendations) != 2 || got.OptimizationMetric != "latency" {
		t.Fatalf("exported %d rows by %s", len(got.Recommendations), got.OptimizationMetric)
	}

	// Resize: too small, then back.
	s.run("resize-window", "-t", "pp", "-x", "50", "-y", "12")
	s.waitFor("terminal too small")
	s.run("resize-window", "-t", "pp", "-x", "80", "-y", "24")
	s.waitFor("[1 Recs]", "Rec HW")

	// Quit asks about the unsaved selection; enter keeps the program open.
	s.send("q")
	s.waitFor("Quit?", "not saved")
	s.send("Enter")
	time.Sleep(300 * time.Millisecond)
	if !s.alive() || strings.Contains(s.screen(), "Quit?") {
		t.Fatal("enter confirmed quitting")
	}
	s.send("q", "y")
	deadline := time.Now().Add(10 * time.Second)
	for s.alive() {
		if time.Now().After(deadline) {
			t.Fatalf("still running after q y:\n%s", s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
