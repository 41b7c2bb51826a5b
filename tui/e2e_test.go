package tui

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"perfpilot/engine"
	"perfpilot/tui/overview"
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

// binary is the perfpilot binary, built by TestMain while the other tests
// run (the tmux test, being parallel, only starts after them).
var binary = make(chan builtBinary, 1)

type builtBinary struct {
	path string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse() // testing.Short needs the flags
	if !flagSet("test.parallel") {
		// Most tests wait on a program (tmux, teatest, the binary's
		// build): more of them at once than cores keeps both cores busy.
		flag.Set("test.parallel", "4")
	}
	dir, err := os.MkdirTemp("", "perfpilot-tui-e2e")
	if err != nil {
		panic(err)
	}
	go func() {
		b := builtBinary{path: filepath.Join(dir, "perfpilot")}
		if testing.Short() {
			b.err = errors.New("short mode")
		} else if _, err := exec.LookPath("tmux"); err == nil {
			build := exec.Command("go", "build", "-o", b.path, "./cmd/perfpilot")
			build.Dir = ".."
			b.out, b.err = build.CombinedOutput()
		}
		binary <- b
	}()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// flagSet reports whether a flag was given on the command line.
func flagSet(name string) (set bool) {
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// TestEndToEndInTmux builds the real binary, runs `perfpilot --db X` in
// tmux, and drives it with keys, reading the screen with capture-pane. The
// hardware overview is checked against `perfpilot recommend-hardware
// --json` on the same database.
func TestEndToEndInTmux(t *testing.T) {
	t.Parallel() // mostly waiting on the build and the screen
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	dir := t.TempDir()
	b := <-binary
	if b.err != nil {
		t.Fatalf("build: %v\n%s", b.err, b.out)
	}
	bin := b.path
	db := filepath.Join(dir, "e2e.db")
	s := &tmuxSession{t: t, socket: fmt.Sprintf("perfpilot-e2e-%d", os.Getpid()), start: time.Now()}
	t.Cleanup(func() { s.run("kill-server") })
	if out, err := s.run("new-session", "-d", "-s", "pp", "-x", "120", "-y", "35", "-c", dir,
		"env", "TERM=xterm-256color", "SOURCE_DATE_EPOCH=1773500966", bin, "--db", db); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	s.waitFor("perfpilot", "SIMULATED DEMO DATA", "[Throughput]", "ranked 20 of")
	// The CLI's answer to compare the overview with is computed meanwhile
	// (nothing below writes results).
	cli := make(chan cliAnswer, 1)
	go func() {
		var a cliAnswer
		a.out, a.err = exec.Command(bin, "--db", db, "recommend-hardware", "--model", "bert-base-uncased", "--batch-size", "1",
			"--precision", "fp32", "--metric", "throughput", "--json").Output()
		cli <- a
	}()
	s.send("l")
	s.waitFor("[Latency]", "Lat ms", "by latency")
	s.send("Space", "Space", "t")
	s.waitFor("[Throughput]", "by throughput", "2 selected")
	s.send("2")
	s.waitFor("[2 Mismatch]", "Improve", "faster")
	s.send("3")
	scr := s.waitFor("[3 Overview]", "★", "bert-base-uncased")
	s.send("5")
	s.waitFor("[5 Pareto]", "Pareto front")
	s.send("1", "Enter")
	s.waitFor("score breakdown", "throughput (items/s), 80% interval")
	s.send("?")
	s.waitFor("reverse sort", "import results")
	s.send("q") // closes help, never quits from it
	s.waitFor("score breakdown")
	s.send("e")
	s.waitFor("Export 2 selected rows", "perfpilot-export-")
	s.send("Enter")
	s.waitFor("exported 2 row(s) as JSON")
	s.send("L")
	s.waitFor("Message log", "exported 2 row(s)")
	s.send("Escape")
	s.run("resize-window", "-t", "pp", "-x", "50", "-y", "12")
	s.waitFor("terminal too small")
	s.run("resize-window", "-t", "pp", "-x", "80", "-y", "24")
	s.waitFor("[1 Recs]", "Rec HW")
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
	checkOverviewAgainstCLI(t, <-cli, scr)
}

// cliAnswer is the output of a perfpilot command.
type cliAnswer struct {
	out []byte
	err error
}

// checkOverviewAgainstCLI compares the overview's bert-base-uncased row
// (batch 1, fp32, throughput) with recommend-hardware --json.
func checkOverviewAgainstCLI(t *testing.T, cli cliAnswer, scr string) {
	if cli.err != nil {
		t.Fatalf("recommend-hardware: %v", cli.err)
	}
	var hr engine.HardwareRanking
	if err := json.Unmarshal(cli.out, &hr); err != nil {
		t.Fatal(err)
	}
	var row string
	for _, l := range strings.Split(scr, "\n") {
		if strings.Contains(l, " bert-base-uncased ") && row == "" {
			row = l // the matrix row (the footer below also names the model)
		}
	}
	for _, s := range hr.Ranking {
		text, _, _ := overview.Cell(&hr, s.Hardware, engine.Throughput)
		if s.Hardware == hr.RecommendedHardware {
			text = "★" + text
		}
		if !strings.Contains(row, " "+text) {
			t.Fatalf("overview row %q lacks %s's %s from recommend-hardware --json", row, s.Hardware, text)
		}
	}
}
