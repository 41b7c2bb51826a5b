package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"perfpilot/cmdtmpl"
	"perfpilot/runner"
)

// runTestGlobals points the commands at a fresh database with captured
// output (a pipe, not a terminal).
func runTestGlobals(t *testing.T) (*globalOptions, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errOut bytes.Buffer
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	g := &globalOptions{DB: filepath.Join(t.TempDir(), "perfpilot.db"), io: IO{Out: &out, Err: &errOut}, now: func() time.Time { return now }}
	return g, &out, &errOut
}

func TestRunCommand(t *testing.T) {
	ctx := context.Background()
	g, out, errOut := runTestGlobals(t)
	in := &integrateOptions{Budget: 3, Metric: "throughput", Seed: 1, Save: "demo",
		InfoWeight: 0.7, DecisionWeight: 0.3, Hardware: []string{"cpu"}}
	if err := in.run(ctx, g); err != nil {
		t.Fatal(err)
	}
	out.Reset()

	// A benchmark script: the second configuration fails, the others print our JSON line.
	dir := t.TempDir()
	script := filepath.Join(dir, "bench.sh")
	os.WriteFile(script, []byte(`#!/bin/sh
echo "$@" >> `+cmdtmpl.Quote(filepath.Join(dir, "calls"))+`
if grep -qxF -- "$*" `+cmdtmpl.Quote(filepath.Join(dir, "fail"))+` 2>/dev/null; then echo boom >&2; exit 5; fi
echo '{"throughput": 12.5, "latency_ms": 80, "memory_mb": 300}'
`), 0o755)
	tmpl := "sh " + cmdtmpl.Quote(script) + " {model} {hardware} {batch_size} {precision}"
	outDir := filepath.Join(dir, "results")

	// --dry-run prints the commands and runs nothing.
	o := &runOptions{Session: "demo", Template: tmpl, OutputDir: outDir, Parallel: 1, Grace: time.Second, DryRun: true}
	if err := o.run(ctx, g); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "sh "+cmdtmpl.Quote(script)+" ") {
		t.Fatalf("dry run printed %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "calls")); err == nil {
		t.Fatal("dry run ran a command")
	}

	// The second configuration fails.
	db, err := g.openDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := db.Session(ctx, "demo")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	second := sess.Report.Recommendations[1].Config()
	failFile := filepath.Join(dir, "fail")
	os.WriteFile(failFile, []byte(fmt.Sprintf("%s %s %d %s\n", second.Model, second.Hardware, second.BatchSize, second.Precision)), 0o644)

	out.Reset()
	o.DryRun = false
	err = o.run(ctx, g)
	if err == nil || !strings.Contains(err.Error(), "--retry-failed") {
		t.Fatalf("run with a failure: %v", err)
	}
	var res runOutput
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if res.Session != "demo" || res.Source != "run:demo" || res.Measured != 2 || res.Failed != 1 || len(res.Jobs) != 3 {
		t.Errorf("output %+v", res)
	}
	for _, j := range res.Jobs {
		if j.Status == runner.StatusFailed && (j.ExitCode != 5 || j.Log == "") {
			t.Errorf("failed job %+v", j)
		}
	}
	if len(res.Comparisons) != 3*res.Measured || len(res.Recommendations) == 0 || len(res.Recommendations) > runTopN {
		t.Errorf("%d comparisons, %d recommendations", len(res.Comparisons), len(res.Recommendations))
	}
	if !strings.Contains(errOut.String(), "FAILED") || !strings.Contains(errOut.String(), "measured") {
		t.Errorf("progress lines:\n%s", errOut.String())
	}

	// Fixed and retried: everything measured, exit 0, table on a terminal.
	os.Remove(failFile)
	out.Reset()
	g.io.TTY = true
	o.RetryFailed = true
	if err := o.run(ctx, g); err != nil {
		t.Fatalf("retry: %v", err)
	}
	for _, want := range []string{"Predicted (80% interval", "MEASURED", "IN 80%", "inside their 80% interval", "After retraining", "earlier run"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunCommandUsage(t *testing.T) {
	ctx := context.Background()
	g, _, _ := runTestGlobals(t)
	for _, o := range []*runOptions{
		{Template: "x", Parallel: 1, Grace: time.Second},
		{Session: "s", Template: "x", Parallel: 0, Grace: time.Second},
		{Session: "s", Template: "x", Parallel: 1, Timeout: -time.Second, Grace: time.Second},
		{Session: "s", Template: "bench {model} | tee", Parallel: 1, Grace: time.Second},
		{Session: "nope", Template: "x", Parallel: 1, Grace: time.Second},
	} {
		var ue *usageError
		if err := o.run(ctx, g); !errors.As(err, &ue) {
			t.Errorf("%+v: %v, want a usage error", o, err)
		}
	}
}
