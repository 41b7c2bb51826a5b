// Command perfpilot predicts throughput, latency and memory of ML models on
// hardware, picks the benchmarks that teach it most, recommends hardware,
// and shows it all in a terminal dashboard.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/charmbracelet/x/term"

	"perfpilot/safetext"
	"perfpilot/store"
)

// IO is where a command writes: Out for results, Err for messages and
// errors; TTY says whether Out is a terminal (tables) or a pipe (JSON).
type IO struct {
	Out, Err io.Writer
	TTY      bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], IO{Out: os.Stdout, Err: os.Stderr, TTY: term.IsTerminal(os.Stdout.Fd())}))
}

// Exit statuses: the contract in README "Safety".
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // the command line was wrong: nothing was done
)

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string, io IO) int {
	root, started := newRootCmd(io)
	root.SetArgs(args)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	// Errors can quote data (ids, file contents): never let them drive
	// the terminal.
	fmt.Fprintln(io.Err, "perfpilot:", safetext.CleanLines(err.Error()))
	var ue *usageError
	// Anything cobra refuses before a command starts (unknown command or
	// flag, missing required flag, extra argument) is a usage error too, and
	// so is a session or stored catalog addition named on the command line
	// that does not exist.
	if errors.As(err, &ue) || !*started || errors.Is(err, store.ErrSessionNotFound) || errors.Is(err, store.ErrAdditionNotFound) {
		return exitUsage
	}
	return exitFailure
}
