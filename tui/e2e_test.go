package tui

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"perfpilot/engine"
	"perfpilot/tui/overview"
)

// tmuxSession runs a command in a detached tmux session on a private
// server and reads its screen. It runs outside any test (see TestMain):
// a failure panics with flowFailure, and logs are kept for the test to
// print.
type tmuxSession struct {
	socket string
	start  time.Time
	logs   []string
}

// flowFailure is how the tmux flow fails (runTmuxFlow recovers it).
type flowFailure string

func (f flowFailure) Error() string { return string(f) }

func (s *tmuxSession) fatalf(format string, args ...any) {
	panic(flowFailure(fmt.Sprintf(format, args...)))
}

func (s *tmuxSession) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", s.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

func (s *tmuxSession) send(keys ...string) {
	for _, k := range keys {
		if out, err := s.run("send-keys", "-t", "pp", k); err != nil {
			s.fatalf("send-keys %s: %v %s", k, err, out)
		}
	}
}

func (s *tmuxSession) screen() string {
	out, _ := s.run("capture-pane", "-p", "-t", "pp")
	return out
}

// waitFor polls the screen until it holds every string.
func (s *tmuxSession) waitFor(subs ...string) string {
	deadline := time.Now().Add(30 * time.Second)
	for {
		scr := s.screen()
		ok := true
		for _, sub := range subs {
			ok = ok && strings.Contains(scr, sub)
		}
		if ok {
			s.logs = append(s.logs, fmt.Sprintf("%v: %q", time.Since(s.start).Round(time.Millisecond), subs))
			return scr
		}
		if time.Now().After(deadline) {
			s.fatalf("screen never showed %q:\n%s", subs, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *tmuxSession) alive() bool {
	_, err := s.run("has-session", "-t", "pp")
	return err == nil
}

// tmuxOutcome is what the tmux flow found; TestEndToEndInTmux reports it.
type tmuxOutcome struct {
	skip string
	logs []string
	err  error
}

// tmuxResult is the flow's outcome once tmuxDone is closed (one flow per
// process, however many times -count runs the test).
var (
	tmuxResult tmuxOutcome
	tmuxDone   = make(chan struct{})
)

// TestMain starts the tmux flow at once, alongside every other test: it
// is the slowest (a real build, a real terminal) and mostly waits, so it
// must not wait for a free parallel slot first.
func TestMain(m *testing.M) {
	flag.Parse() // testing.Short needs the flags
	if !flagSet("test.parallel") {
		// Most tests wait on a program (teatest, the runner): more of
		// them at once than cores keeps both cores busy.
		flag.Set("test.parallel", "4")
	}
	dir, err := os.MkdirTemp("", "perfpilot-tui-e2e")
	if err != nil {
		panic(err)
	}
	s := &tmuxSession{socket: fmt.Sprintf("perfpilot-e2e-%d", os.Getpid()), start: time.Now()}
	go func() {
		if selected("TestEndToEndInTmux") {
			tmuxResult = runTmuxFlow(s, dir)
		}
		close(tmuxDone)
	}()
	code := m.Run()
	s.run("kill-server") // also when the test was not selected and the flow still runs
	os.RemoveAll(dir)
	os.Exit(code)
}

// flagSet reports whether a flag was given on the command line.
func flagSet(name string) (set bool) {
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// selected reports whether -test.run and -test.skip leave a top-level
// test to run (when in doubt, it is).
func selected(name string) bool {
	// matches reports whether a pattern flag is set and its top-level part
	// matches name; an invalid pattern counts as ifBad.
	matches := func(flagName string, ifBad bool) (set, ok bool) {
		f := flag.Lookup(flagName)
		if f == nil || f.Value.String() == "" {
			return false, false
		}
		ok, err := regexp.MatchString(strings.Split(f.Value.String(), "/")[0], name)
		return true, ok || (err != nil && ifBad)
	}
	if set, ok := matches("test.run", true); set && !ok {
		return false
	}
	set, ok := matches("test.skip", false)
	return !set || !ok
}

// TestEndToEndInTmux builds the real binary, runs `perfpilot --db X` in
// tmux, and drives it with keys, reading the screen with capture-pane. The
// hardware overview is checked against `perfpilot recommend-hardware
// --json` on the same database. The flow runs from TestMain.
func TestEndToEndInTmux(t *testing.T) {
	t.Parallel()
	<-tmuxDone
	r := tmuxResult
	for _, l := range r.logs {
		t.Log(l)
	}
	if r.skip != "" {
		t.Skip(r.skip)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
}

// runTmuxFlow builds the binary and drives it in tmux.
func runTmuxFlow(s *tmuxSession, dir string) (out tmuxOutcome) {
	if testing.Short() {
		return tmuxOutcome{skip: "short mode: builds the binary"}
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		return tmuxOutcome{skip: "tmux not installed"}
	}
	bin := filepath.Join(dir, "perfpilot")
	build := exec.Command("go", "build", "-o", bin, "./cmd/perfpilot")
	build.Dir = ".."
	if b, err := build.CombinedOutput(); err != nil {
		return tmuxOutcome{err: fmt.Errorf("build: %v\n%s", err, b)}
	}
	defer func() {
		out.logs = s.logs
		if r := recover(); r != nil {
			f, ok := r.(flowFailure)
			if !ok {
				panic(r)
			}
			out.err = f
		}
	}()
	driveDashboard(s, bin, dir)
	return out
}

// driveDashboard is the flow: every view, metric toggles, selection,
// export, help, the log, resizes, quitting with an unsaved selection.
func driveDashboard(s *tmuxSession, bin, dir string) {
	db := filepath.Join(dir, "e2e.db")
	if out, err := s.run("new-session", "-d", "-s", "pp", "-x", "120", "-y", "35", "-c", dir,
		"env", "TERM=xterm-256color", "SOURCE_DATE_EPOCH=1773500966", bin, "--db", db); err != nil {
		s.fatalf("tmux: %v %s", err, out)
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
		s.fatalf("enter confirmed quitting")
	}
	s.send("q", "y")
	deadline := time.Now().Add(10 * time.Second)
	for s.alive() {
		if time.Now().After(deadline) {
			s.fatalf("still running after q y:\n%s", s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkOverviewAgainstCLI(s, <-cli, scr)
}

// cliAnswer is the output of a perfpilot command.
type cliAnswer struct {
	out []byte
	err error
}

// checkOverviewAgainstCLI compares the overview's bert-base-uncased row
// (batch 1, fp32, throughput) with recommend-hardware --json.
func checkOverviewAgainstCLI(s *tmuxSession, cli cliAnswer, scr string) {
	if cli.err != nil {
		s.fatalf("recommend-hardware: %v", cli.err)
	}
	var hr engine.HardwareRanking
	if err := json.Unmarshal(cli.out, &hr); err != nil {
		s.fatalf("recommend-hardware --json: %v", err)
	}
	var row string
	for _, l := range strings.Split(scr, "\n") {
		if strings.Contains(l, " bert-base-uncased ") && row == "" {
			row = l // the matrix row (the footer below also names the model)
		}
	}
	for _, hs := range hr.Ranking {
		text, _, _ := overview.Cell(&hr, hs.Hardware, engine.Throughput)
		if hs.Hardware == hr.RecommendedHardware {
			text = "★" + text
		}
		if !strings.Contains(row, " "+text) {
			s.fatalf("overview row %q lacks %s's %s from recommend-hardware --json", row, hs.Hardware, text)
		}
	}
}
