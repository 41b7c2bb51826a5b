package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/store"
)

// TestRealSQLiteEndToEnd is the one flow through the real store and the
// real runner: start on a fresh database, import a file, select two rows,
// run them with a real command (one fails), save, export, quit. Every
// other test uses the in-memory fake.
func TestRealSQLiteEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "perfpilot.db"),
		store.WithSeed(func() []engine.Result { return engine.DemoHistory(testCatalog) }), store.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	csv := filepath.Join(dir, "lab.csv")
	os.WriteFile(csv, []byte("model_name,hardware,batch_size,precision,latency_ms,memory_mb\ngpt2,cuda,4,fp16,3.2,900\n"), 0o644)
	script := filepath.Join(dir, "bench.sh")
	// The second command run fails (runs are one at a time).
	count := filepath.Join(dir, "count")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"bench $1 on $2\"\nn=$(cat "+cmdtmpl.Quote(count)+" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "+cmdtmpl.Quote(count)+"\n"+
		"if [ $n = 2 ]; then echo 'CUDA error: out of memory' >&2; exit 3; fi\n"+
		"echo '{\"throughput\": 100, \"latency_ms\": 5, \"memory_mb\": 300}'\n"), 0o755)
	opts := Options{Store: db, Runner: StoreRunner(db), Ranker: sharedRanker, Catalog: testCatalog, Seed: 1, Now: clock,
		ExportDir: dir, NoColor: true, RunTemplate: "sh " + cmdtmpl.Quote(script) + " {model} {hardware} {batch_size} {precision}"}
	m := New(t.Context(), opts)
	tm, wait := startProgram(t, m)
	wait("ranked 20 of")
	tm.Send(press("i"))
	tm.Type(csv)
	tm.Send(press("enter"))
	wait("imported 1 result(s)")
	tm.Send(press("space"))
	tm.Send(press("space"))
	tm.Send(press("x"))
	tm.Send(press("y"))
	wait("run done: 1 measured, 1 failed")
	tm.Send(press("e"))
	tm.Send(press("enter"))
	wait("exported 2 row(s) as JSON")
	tm.Send(press("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(*Model)
	if final.sessionName != runSession {
		t.Fatalf("session %q", final.sessionName)
	}
	rs, err := db.Results(t.Context(), store.ResultFilter{Source: runner.Source(runSession)})
	if err != nil || len(rs) != 1 || rs[0].Throughput != 100 {
		t.Fatalf("run results %v, %v", rs, err)
	}
	var failed bool
	for _, mk := range final.marks {
		if mk.Failed() && mk.ExitCode == 3 && strings.Contains(mk.LastErr, "CUDA error") {
			failed = true
		}
	}
	if !failed {
		t.Fatalf("no failed mark with exit 3 and the last stderr line: %+v", final.marks)
	}
}

// pingMsg makes the program look at its model (see startProgram).
type pingMsg struct{}

// startProgram runs m in a teatest program and returns a wait that
// blocks until every string is in the message log (L): the program's own
// record of what happened, read on the program's goroutine.
func startProgram(t *testing.T, m *Model) (*teatest.TestModel, func(...string)) {
	var mu sync.Mutex
	var logged string
	observe := func(mod tea.Model, msg tea.Msg) tea.Msg {
		var b strings.Builder
		m := mod.(*Model)
		for _, e := range m.log.Entries() {
			b.WriteString(e.Text + "\n")
		}
		fmt.Fprintf(&b, "[%d results loaded]\n", len(m.results))
		mu.Lock()
		logged = b.String()
		mu.Unlock()
		return msg
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 35), teatest.WithProgramOptions(tea.WithFilter(observe)))
	return tm, func(subs ...string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			tm.Send(pingMsg{})
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			got := logged
			mu.Unlock()
			ok := true
			for _, s := range subs {
				ok = ok && strings.Contains(got, s)
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the log never said %q:\n%s", subs, got)
			}
		}
	}
}
