// Command perfpilot predicts throughput, latency and memory of ML models on
// hardware, picks the benchmarks that teach it most, recommends hardware,
// and shows it all in a terminal dashboard.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// run executes the command line and returns the exit status: 0 success,
// 1 failure, 2 bad usage.
func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "perfpilot:", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
