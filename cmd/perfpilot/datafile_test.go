package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// commandsWithFlag walks the real command tree and returns the command
// paths (without "perfpilot") of every command that has the flag.
func commandsWithFlag(name string) [][]string {
	root, _ := newRootCmd(IO{})
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Flags().Lookup(name) != nil && c.Runnable() {
			out = append(out, path)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(root, nil)
	return out
}

// cliWithin is cli with a deadline: a command that hangs fails the test
// (exit -1) instead of stalling the suite.
func cliWithin(t *testing.T, db string, args ...string) (string, string, int) {
	t.Helper()
	type res struct {
		out, err string
		code     int
	}
	done := make(chan res, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"--db", db}, args...), IO{Out: &out, Err: &errOut})
		done <- res{out.String(), errOut.String(), code}
	}()
	select {
	case r := <-done:
		return r.out, r.err, r.code
	case <-time.After(20 * time.Second):
		return "", "still running after 20 s", -1
	}
}

// TestDataFileInputs: every --data FILE is opened like an import file: a
// device, a directory or a symlink loop is refused at once, a FIFO nobody
// writes reads as empty, and one whose writer never writes stops on
// Ctrl+C (the context) instead of hanging.
func TestDataFileInputs(t *testing.T) {
	db := newDB(t)
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	cases := map[string]string{"/dev/zero": "not a regular file or a pipe but a device", dir: "not a regular file or a pipe but a directory",
		loop: "too many levels of symbolic links"}
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err == nil {
		cases[fifo] = "empty file"
	}
	extra := map[string][]string{"predict": {"--model", "gpt2", "--hardware", "cpu"}, "recommend-hardware": {"--model", "gpt2"}}
	cmds := commandsWithFlag("data")
	if len(cmds) < 4 {
		t.Fatalf("only %d commands take --data: %v", len(cmds), cmds)
	}
	for _, path := range cmds {
		for file, want := range cases {
			args := append(append(append([]string{}, path...), extra[path[0]]...), "--data", file)
			_, errOut, code := cliWithin(t, db, args...)
			if code != exitFailure || !strings.Contains(errOut, want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("%s: exit %d, %q (want 1 and %q)", strings.Join(args, " "), code, errOut, want)
			}
		}
		if _, ok := cases[fifo]; !ok {
			continue
		}
		// A writer that holds the FIFO open and never writes: the read
		// blocks until the context ends.
		w, err := os.OpenFile(fifo, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		args := append(append(append([]string{"--db", db}, path...), extra[path[0]]...), "--data", fifo)
		start := time.Now()
		var out, errOut bytes.Buffer
		done := make(chan int, 1)
		go func() { done <- run(ctx, args, IO{Out: &out, Err: &errOut}) }()
		code := -1
		select {
		case code = <-done:
		case <-time.After(20 * time.Second):
		}
		cancel()
		w.Close()
		if took := time.Since(start); code != exitFailure || took > 5*time.Second {
			t.Errorf("%s on a silent FIFO: exit %d after %v: %q", strings.Join(path, " "), code, took, errOut.String())
		}
	}
}
