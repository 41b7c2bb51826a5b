package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/term"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/runner/cluster"
	"perfpilot/runner/kube"
	"perfpilot/runner/placement"
	"perfpilot/store"
)

var executorNames = cluster.Names

// clusterOptions are the flags of `run` that place work on a scheduler.
type clusterOptions struct {
	Executor      string
	Placement     string
	MaxConcurrent int
	OnInterrupt   string
	Perfpilot     string
	Resume        bool
	// dryRun: nothing is stored with the session.
	dryRun bool
}

func (c *clusterOptions) validate() error {
	if c.Executor != "" && !contains(executorNames, c.Executor) {
		return usagef("--executor: %q is not an executor (valid: %s)", c.Executor, strings.Join(executorNames, ", "))
	}
	switch c.OnInterrupt {
	case "", "ask", "cancel", "leave":
	default:
		return usagef("--on-interrupt: %q (valid: ask, cancel, leave)", c.OnInterrupt)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// resolve fills what the flags left unset from the session (a resume
// uses the executor and placement the first run stored), loads the
// placement and stores both with the session when they are new.
// A template given on the command line is stored too, so `--resume`
// submits what is left with the same command.
func (c *clusterOptions) resolve(ctx context.Context, db *store.DB, cat *engine.Catalog, sess *store.Session, template string) (*placement.File, error) {
	p := sess.Params
	if c.Executor == "" {
		c.Executor = p.Executor
	}
	if c.Executor == "" {
		c.Executor = "local"
	}
	var pl *placement.File
	var err error
	switch {
	case c.Placement != "":
		if pl, err = placement.Load(c.Placement); err != nil {
			return nil, usagef("--placement: %v", err)
		}
		if err := pl.CheckHardware(func(id string) bool { return cat.Hardware(id) != nil }, c.Placement); err != nil {
			return nil, usagef("--placement: %v", err)
		}
	case len(p.Placement) > 0:
		if pl, err = placement.Parse(p.Placement, "the placement stored with session "+sess.Name+".json"); err != nil {
			return nil, err
		}
	}
	if c.Executor != "local" && pl == nil {
		return nil, usagef("--placement: required with --executor %s (a file mapping each hardware id to a %s placement; see `perfpilot run --help`)", c.Executor, c.Executor)
	}
	np := p
	np.Executor = c.Executor
	if c.Placement != "" {
		np.PlacementFile, np.Placement = c.Placement, pl.JSON()
	}
	if template != "" {
		np.Template = template
	}
	if !c.dryRun && (np.Executor != p.Executor || string(np.Placement) != string(p.Placement) || np.Template != p.Template) {
		if err := db.UpdateSessionParams(ctx, sess.Name, np); err != nil {
			return nil, err
		}
		sess.Params = np
	}
	return pl, nil
}

// executor builds the chosen executor (nil for local).
func (c *clusterOptions) executor(o *runOptions, sess *store.Session, pl *placement.File) (runner.Executor, error) {
	logDir := o.LogDir
	if logDir == "" {
		logDir = filepath.Join(o.OutputDir, "logs")
	}
	return cluster.New(c.Executor, cluster.Options{Placement: pl, Session: sess.Name, LogDir: logDir, MaxConcurrent: c.MaxConcurrent,
		Timeout: o.Timeout, Grace: o.Grace, NodePerfpilot: c.Perfpilot})
}

// onInterrupt says what Ctrl+C does to jobs a scheduler holds: ask on a
// terminal, else what --on-interrupt says (leave by default: the next
// run collects them).
func (c *clusterOptions) onInterrupt(errOut io.Writer, n func() int) func() bool {
	mode := c.OnInterrupt
	if mode == "" {
		mode = "ask"
	}
	interactive := term.IsTerminal(os.Stdin.Fd())
	if mode == "ask" && !interactive {
		mode = "leave"
	}
	return func() bool {
		switch mode {
		case "cancel":
			return true
		case "leave":
			return false
		}
		fmt.Fprintf(errOut, "interrupted: %d jobs are with %s. Cancel them (c) or leave them running for `run --resume` to collect (L)? ", n(), c.Executor)
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return false
		}
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "c")
	}
}

// printSubmissions shows what a scheduler run would submit (--dry-run).
func printSubmissions(w io.Writer, executor string, subs []runner.Submission) {
	for _, s := range subs {
		fmt.Fprintf(w, "# %s: %s, %d configurations\n%s\n", executor, s.Group, len(s.Tasks), cmdtmpl.Line(s.Command))
	}
}

// k8s renders the session's rows as the Indexed Jobs `run --executor
// kubernetes` would apply.
func (o *exportOptions) k8s(s *store.Session, rows []engine.Recommendation) ([]byte, error) {
	var pl *placement.File
	var err error
	switch {
	case o.Placement != "":
		if pl, err = placement.Load(o.Placement); err != nil {
			return nil, usagef("--placement: %v", err)
		}
	case len(s.Params.Placement) > 0:
		pl, err = placement.Parse(s.Params.Placement, "the placement stored with session "+s.Name+".json")
	default:
		return nil, usagef("--placement: required for --format k8s (this session has none stored)")
	}
	if err != nil {
		return nil, err
	}
	tmpl, err := cmdtmpl.Parse(o.Template)
	if err != nil {
		return nil, templateUsage(err)
	}
	cfgs := make([]engine.Config, len(rows))
	for i, r := range rows {
		cfgs[i] = r.Config()
	}
	return kube.Export(pl, s.Name, cfgs, tmpl, o.OutputDir, kube.ManifestOptions{Grace: runner.DefaultGrace.String()})
}
