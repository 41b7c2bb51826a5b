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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, term.IsTerminal(os.Stdout.Fd())))
}

// run executes the command line and returns the exit status: 0 success,
// 1 failure, 2 bad usage. tty says whether out is a terminal (tables) or
// a pipe (JSON).
func run(ctx context.Context, args []string, out, errOut io.Writer, tty bool) int {
	root := newRootCmd(out, errOut, tty)
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(errOut, "perfpilot:", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
