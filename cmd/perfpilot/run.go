package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/runner"
	"perfpilot/safetext"
	"perfpilot/store"
)

// runTopN is how many recomputed recommendations `run` prints.
const runTopN = 5

// runOptions are the flags of `perfpilot run`.
type runOptions struct {
	Session     string
	Template    string
	OutputDir   string
	LogDir      string
	Parallel    int
	Timeout     time.Duration
	Grace       time.Duration
	DryRun      bool
	RetryFailed bool
	JSON        bool
	cluster     clusterOptions
	templateSet bool

	// resume is the command line that continues this run.
	resume string
}

func newRunCmd(g *globalOptions) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run --session NAME",
		Short: "Run the benchmark commands of a session and learn from the measurements",
		Long: `Run a saved session's selected rows (all rows when none are selected) through the
benchmark command template, parse the metrics each command prints, import them with
source run:<session>, retrain, and compare the session's predictions with the measurements.

The template is split into words first (quotes allowed) and the values are put inside the
words afterwards; the command runs without a shell, so model and hardware names can never
run as code (the rules: README Safety). Placeholders: {model} {hardware} {batch_size}
{precision} {sequence_length} {output_dir}; for text generation also {phase} {gpu_count}
{parallelism} {prompt_tokens} {output_tokens} {precision_label}.

A command reports its measurements on stdout or stderr as a JSON line
  {"throughput": <items/s>, "latency_ms": <ms>, "memory_mb": <MB>}
(any of the three; the last such line wins) or as text lines
  Throughput: <n> items/s     Latency: <n> ms|s|us     Memory: <n> MB|GB|KB|MiB|GiB
A command that exits non-zero, outlives --timeout (its whole process group is killed) or
prints no metric is recorded as failed and nothing of it is imported. Each configuration's
output goes to a log in --log-dir, beside run-state.json, which remembers failures.

Runs resume: configurations already measured for the session are skipped, and failed ones
too unless --retry-failed. Ctrl+C stops the running commands (SIGTERM, then SIGKILL after
--grace) and keeps what finished.

On a cluster: --executor slurm submits one sbatch --array per hardware placement (one
task per configuration), --executor kubernetes one Indexed Job per placement, both from
--placement FILE (JSON or TOML: each catalog hardware id → its Slurm partition, gres,
constraint, account, qos, time, or Kubernetes namespace, image, node_selector, resources,
tolerations). perfpilot follows the jobs, imports each finished one, and stores the
executor, placement and job ids: after Ctrl+C (cancel or leave the jobs) or a crash,
run --resume follows the same jobs again and never submits a configuration twice.
--dry-run prints the submissions; configurations whose hardware has no placement are
reported before anything is submitted.

Try it on this machine with the CPU matrix benchmark in examples/matbench:
  perfpilot run --session demo --template 'go run ./examples/matbench --model {model} --hardware {hardware} --batch-size {batch_size} --precision {precision} --output-dir {output_dir}'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.resume = resumeCommand(cmd)
			o.templateSet = cmd.Flags().Changed("template")
			return o.run(cmd.Context(), g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Session, "session", "", "saved session to run (see `perfpilot integrate --save`)")
	f.StringVar(&o.Template, "template", cmdtmpl.Default, "benchmark command template")
	f.StringVar(&o.OutputDir, "output-dir", cmdtmpl.DefaultOutputDir, "directory substituted for {output_dir} (created)")
	f.StringVar(&o.LogDir, "log-dir", "", "directory for one log per configuration and run-state.json (default <output-dir>/logs)")
	f.IntVar(&o.Parallel, "parallel", 1, "commands to run at once")
	f.DurationVar(&o.Timeout, "timeout", 0, "stop a command after this long, e.g. 10m (0: no limit)")
	f.DurationVar(&o.Grace, "grace", runner.DefaultGrace, "time between SIGTERM and SIGKILL when stopping a command")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the commands (shell-quoted) without running them")
	f.BoolVar(&o.RetryFailed, "retry-failed", false, "run configurations whose last attempt failed again")
	f.BoolVar(&o.JSON, "json", false, "print the outcome as JSON even on a terminal")
	c := &o.cluster
	f.StringVar(&c.Executor, "executor", "", "where the commands run: local, slurm or kubernetes (default: the session's, else local)")
	f.StringVar(&c.Placement, "placement", "", "placement `FILE` (JSON or TOML) mapping hardware ids to Slurm or Kubernetes placements; stored with the session")
	f.IntVar(&c.MaxConcurrent, "max-concurrent", 0, "cap on tasks of one array or Job running at once (Slurm %N, Job parallelism; 0: none)")
	withRange(f, "parallel", 1, 1024)
	withRange(f, "timeout", 0, 366*24*3600)
	withRange(f, "grace", 0.001, 3600)
	withRange(f, "max-concurrent", 0, maxBudget)
	f.StringVar(&c.OnInterrupt, "on-interrupt", "ask", "what Ctrl+C does to scheduled jobs: ask (on a terminal; else leave), cancel, leave")
	f.StringVar(&c.Perfpilot, "node-perfpilot", "", "path of perfpilot on the Slurm nodes (default: this binary; it must be on a filesystem they see)")
	f.BoolVar(&c.Resume, "resume", false, "continue the session's last run: its template, executor and placement, following jobs still queued")
	return cmd
}

// resumeCommand rebuilds the command line from the flags that were set, so
// an interrupted run can say exactly how to continue.
func resumeCommand(cmd *cobra.Command) string {
	parts := []string{"perfpilot", "run"}
	seen := map[string]bool{}
	add := func(f *pflag.Flag) {
		if !f.Changed || seen[f.Name] || f.Name == "dry-run" || f.Name == "help" {
			return
		}
		seen[f.Name] = true
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				parts = append(parts, "--"+f.Name, cmdtmpl.Quote(v))
			}
			return
		}
		if f.Value.Type() == "bool" {
			parts = append(parts, "--"+f.Name)
			return
		}
		parts = append(parts, "--"+f.Name, cmdtmpl.Quote(f.Value.String()))
	}
	cmd.InheritedFlags().VisitAll(add)
	cmd.Flags().VisitAll(add)
	return strings.Join(parts, " ")
}

func (o *runOptions) validate() error {
	switch {
	case strings.TrimSpace(o.Session) == "":
		return usagef("--session: required (the name given to `perfpilot integrate --save`)")
	}
	if err := o.cluster.validate(); err != nil {
		return err
	}
	if _, err := cmdtmpl.Parse(o.Template); err != nil {
		return templateUsage(err)
	}
	return nil
}

func (o *runOptions) run(ctx context.Context, g *globalOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	db, cat, err := g.openWithCatalog(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	sess, err := db.Session(ctx, o.Session)
	if errors.Is(err, store.ErrSessionNotFound) {
		return usagef("--session: %v (valid: %s)", err, sessionNames(ctx, db))
	}
	if err != nil {
		return err
	}
	if o.cluster.Resume && !o.templateSet && sess.Params.Template != "" {
		o.Template = sess.Params.Template
	}
	var given string
	if o.templateSet {
		given = o.Template
	}
	o.cluster.dryRun = o.DryRun
	pl, err := o.cluster.resolve(ctx, db, cat, sess, given)
	if err != nil {
		return err
	}
	exe, err := o.cluster.executor(o, sess, pl)
	if err != nil {
		return err
	}
	opts := runner.Options{DB: db, Session: o.Session, Template: o.Template, OutputDir: o.OutputDir, LogDir: o.LogDir,
		Parallel: o.Parallel, Timeout: o.Timeout, Grace: o.Grace, RetryFailed: o.RetryFailed, Now: time.Now, Executor: exe}
	plan, err := runner.NewPlan(ctx, opts)
	if err != nil {
		return err
	}
	var subs []runner.Submission
	if exe != nil {
		// Every configuration must have a placement before anything is submitted.
		if subs, err = exe.Plan(plan.Tasks()); err != nil {
			return err
		}
	}
	if o.DryRun {
		return o.printDryRun(g, plan, subs)
	}
	var left func() int
	opts.OnInterrupt = o.cluster.onInterrupt(g.io.Err, func() int { return left() })
	asJSON := o.JSON || !g.io.TTY
	o.printPlan(g.io.Err, plan)

	bar := newRunBar(g.io.Err, plan.ToRun())
	left = bar.pause
	sum, runErr := runner.Execute(ctx, opts, plan, bar.event)
	bar.finish(sum)
	if errors.Is(runErr, runner.ErrInterrupted) && sum.Left > 0 {
		fmt.Fprintf(g.io.Err, "interrupted: %d measured and kept, %d jobs left running with %s.\ncollect them with:\n  perfpilot run --session %s --resume\n",
			sum.Count(runner.StatusMeasured), sum.Left, o.cluster.Executor, cmdtmpl.Quote(o.Session))
		return errors.New("run interrupted")
	}
	if errors.Is(runErr, runner.ErrInterrupted) {
		fmt.Fprintf(g.io.Err, "interrupted: %d measured and kept, %d failed, %d not finished.\nresume with:\n  %s\n",
			sum.Count(runner.StatusMeasured), sum.Count(runner.StatusFailed),
			sum.Count(runner.StatusPending)+sum.Count(runner.StatusInterrupted), o.resume)
		return errors.New("run interrupted")
	}
	if runErr != nil {
		return runErr
	}

	review, err := runner.NewReview(ctx, db, cat, plan.Session, sum, g.now())
	if err != nil {
		return err
	}
	if asJSON {
		if err := encodeJSON(g, runJSON(sum, review)); err != nil {
			return err
		}
	} else {
		printRunReview(g.io.Out, sum, review)
	}
	if failed := sum.Count(runner.StatusFailed); failed > 0 {
		return fmt.Errorf("%d of %d configurations failed (logs in %s); fix them and rerun with --retry-failed", failed, sum.Progress.Total, sum.LogDir)
	}
	return nil
}

func sessionNames(ctx context.Context, db *store.DB) string {
	infos, err := db.Sessions(ctx)
	if err != nil || len(infos) == 0 {
		return "none saved; create one with `perfpilot integrate --save NAME`"
	}
	names := make([]string, len(infos))
	for i, s := range infos {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func (o *runOptions) printPlan(w io.Writer, p *runner.Plan) {
	rows := "its selected rows"
	if len(p.Session.Selected) == 0 {
		rows = "all its rows (none selected)"
	}
	var skipped, failedBefore int
	for _, j := range p.Jobs {
		switch j.Status {
		case runner.StatusSkipped:
			skipped++
		case runner.StatusSkipFailed:
			failedBefore++
		}
	}
	fmt.Fprintf(w, "session %s: %d configurations from %s; %d to run", safetext.Quote(p.Session.Name), len(p.Jobs), rows, p.ToRun()-p.Attached())
	if a := p.Attached(); a > 0 {
		fmt.Fprintf(w, ", %d still with the scheduler (followed, not submitted again)", a)
	}
	if skipped > 0 {
		fmt.Fprintf(w, ", %d already measured", skipped)
	}
	if failedBefore > 0 {
		fmt.Fprintf(w, ", %d failed before (skipped; use --retry-failed)", failedBefore)
	}
	fmt.Fprintf(w, "\nlogs: %s\n", p.LogDir)
}

type dryRunJob struct {
	Row     int           `json:"row"`
	Config  engine.Config `json:"config"`
	Status  runner.Status `json:"status"`
	Argv    []string      `json:"argv"`
	Command string        `json:"command"`
	Log     string        `json:"log"`
	JobID   string        `json:"job_id,omitempty"`
}

func orUnknown(s string) string {
	if s == "" {
		return "(id not known yet)"
	}
	return s
}

func (o *runOptions) printDryRun(g *globalOptions, p *runner.Plan, subs []runner.Submission) error {
	if o.JSON {
		out := make([]dryRunJob, len(p.Jobs))
		for i, j := range p.Jobs {
			out[i] = dryRunJob{Row: j.Row, Config: j.Config, Status: j.Status, Argv: j.Argv, Command: j.Command(), Log: j.LogPath, JobID: j.Ref}
		}
		if subs == nil {
			subs = []runner.Submission{}
		}
		return encodeJSON(g, map[string]any{"session": p.Session.Name, "executor": o.cluster.Executor, "jobs": out, "submissions": subs})
	}
	defer printSubmissions(g.io.Out, o.cluster.Executor, subs)
	for _, j := range p.Jobs {
		switch j.Status {
		case runner.StatusSkipped:
			fmt.Fprintf(g.io.Out, "# already measured: %s\n", safetext.Clean(j.Command()))
		case runner.StatusSkipFailed:
			fmt.Fprintf(g.io.Out, "# failed before (--retry-failed to run): %s\n", safetext.Clean(j.Command()))
		case runner.StatusSubmitting, runner.StatusQueued, runner.StatusRunning:
			fmt.Fprintf(g.io.Out, "# still with %s as job %s (followed, not submitted again): %s\n", o.cluster.Executor, orUnknown(j.Ref), safetext.Clean(j.Command()))
		default:
			fmt.Fprintln(g.io.Out, safetext.Clean(j.Command()))
		}
	}
	return nil
}

// runBar shows progress on stderr: a redrawn bar on a terminal, plain
// lines otherwise.
type runBar struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	width   int
	total   int
	last    runner.Progress
	current map[string]bool
	start   time.Time
	stop    chan struct{}
	done    sync.WaitGroup
	paused  bool // the interrupt question is on screen
}

func newRunBar(w io.Writer, total int) *runBar {
	b := &runBar{w: w, total: total, current: map[string]bool{}, start: time.Now(), stop: make(chan struct{}), width: 80}
	b.last.Remaining = total
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		b.tty = true
		if cols, _, err := term.GetSize(f.Fd()); err == nil && cols > 20 {
			b.width = cols
		}
	}
	if b.tty && total > 0 {
		b.done.Add(1)
		go func() {
			defer b.done.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					b.mu.Lock()
					b.draw()
					b.mu.Unlock()
				case <-b.stop:
					return
				}
			}
		}()
	}
	return b
}

func runCfg(c engine.Config) string {
	return safetext.Clean(fmt.Sprintf("%s on %s, batch %d, %s", c.Model, c.Hardware, c.BatchSize, c.Precision))
}

func (b *runBar) event(e runner.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = e.Progress
	cfg := runCfg(e.Job.Config)
	var line string
	switch e.Kind {
	case runner.EventQueued:
		// The submission, then only news worth reading (a reason to wait).
		if !b.tty && e.Job.Ref != "" && (e.Job.SchedState == "" || strings.Contains(e.Job.SchedState, "(")) {
			line = strings.TrimSpace(fmt.Sprintf("queued   %s as job %s %s", cfg, e.Job.Ref, e.Job.SchedState))
		}
	case runner.EventStarted:
		b.current[cfg] = true
		if !b.tty {
			line = fmt.Sprintf("start    %s%s (log: %s)", cfg, jobSuffix(e.Job), e.Job.LogPath)
		}
	case runner.EventMeasured:
		delete(b.current, cfg)
		line = fmt.Sprintf("measured %s in %s: %s", cfg, e.Job.Duration.Round(100*time.Millisecond), metricsText(e.Job.Metrics))
	case runner.EventFailed:
		delete(b.current, cfg)
		line = fmt.Sprintf("FAILED   %s: %s (exit %d, log: %s)", cfg, safetext.Clean(e.Job.Reason), e.Job.ExitCode, e.Job.LogPath)
	case runner.EventInterrupted:
		delete(b.current, cfg)
		line = fmt.Sprintf("stopped  %s (log: %s)", cfg, e.Job.LogPath)
	}
	if line != "" {
		if b.tty {
			fmt.Fprintf(b.w, "\r\033[K%s\n", line)
		} else {
			p := e.Progress
			fmt.Fprintf(b.w, "[%d/%d] %s\n", p.Done+p.Failed, b.total, line)
		}
	}
	b.draw()
}

// draw redraws the bar; the caller holds mu.
func (b *runBar) draw() {
	if !b.tty || b.total == 0 || b.paused {
		return
	}
	p := b.last
	const width = 24
	n := (p.Done + p.Failed) * width / b.total
	cur := ""
	for c := range b.current {
		cur = c
		break
	}
	line := fmt.Sprintf("[%s%s] %d done, %d failed, %d remaining  %s", strings.Repeat("█", n), strings.Repeat("░", width-n),
		p.Done, p.Failed, p.Remaining, time.Since(b.start).Round(time.Second))
	if cur != "" {
		line += "  " + cur
	}
	if r := []rune(line); len(r) > b.width-1 {
		line = string(r[:b.width-2]) + "…"
	}
	fmt.Fprintf(b.w, "\r\033[K%s", line)
}

// pause stops redrawing (the interrupt question is being asked below the
// bar) and counts the jobs queued or running.
func (b *runBar) pause() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.paused = true
	if b.tty {
		fmt.Fprint(b.w, "\r\033[K")
	}
	return b.last.Queued + b.last.Running
}

func jobSuffix(j runner.Job) string {
	if j.Ref == "" || strings.HasPrefix(j.Ref, "local-") {
		return ""
	}
	return " as job " + j.Ref
}

func (b *runBar) finish(sum *runner.Summary) {
	close(b.stop)
	b.done.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tty && b.total > 0 {
		fmt.Fprint(b.w, "\r\033[K")
	}
	if sum != nil && b.total > 0 && !sum.Interrupted {
		fmt.Fprintf(b.w, "ran %d configurations in %s: %d measured, %d failed\n", b.total, sum.Progress.Elapsed.Round(100*time.Millisecond),
			sum.Count(runner.StatusMeasured), sum.Count(runner.StatusFailed))
	}
}

func metricsText(m runner.Metrics) string {
	var parts []string
	if m.Throughput > 0 {
		parts = append(parts, num(m.Throughput)+" items/s")
	}
	if m.LatencyMS > 0 {
		parts = append(parts, num(m.LatencyMS)+" ms")
	}
	if m.MemoryMB > 0 {
		parts = append(parts, num(m.MemoryMB)+" MB")
	}
	return strings.Join(parts, ", ")
}

type runJobJSON struct {
	Row      int            `json:"row"`
	Config   engine.Config  `json:"config"`
	Status   runner.Status  `json:"status"`
	ExitCode int            `json:"exit_code"`
	Reason   string         `json:"reason,omitempty"`
	Log      string         `json:"log"`
	Command  string         `json:"command"`
	Measured runner.Metrics `json:"measured"`
	Seconds  float64        `json:"duration_s"`
	JobID    string         `json:"job_id,omitempty"`
	State    string         `json:"scheduler_state,omitempty"`
}

// runOutput is the JSON `perfpilot run` prints on a pipe or with --json.
type runOutput struct {
	Session            string                  `json:"session"`
	Source             string                  `json:"source"`
	LogDir             string                  `json:"log_dir"`
	StateFile          string                  `json:"state_file"`
	Measured           int                     `json:"measured"`
	Failed             int                     `json:"failed"`
	Skipped            int                     `json:"skipped"`
	Jobs               []runJobJSON            `json:"jobs"`
	Comparisons        []runner.Comparison     `json:"comparisons"`
	Coverage80         float64                 `json:"coverage_80"`
	OptimizationMetric engine.Metric           `json:"optimization_metric"`
	Data               engine.DataSummary      `json:"data"`
	Recommendations    []engine.Recommendation `json:"recommendations"`
}

func runJSON(sum *runner.Summary, rv *runner.Review) runOutput {
	jobs := make([]runJobJSON, len(sum.Jobs))
	for i, j := range sum.Jobs {
		jobs[i] = runJobJSON{Row: j.Row, Config: j.Config, Status: j.Status, ExitCode: j.ExitCode, Reason: j.Reason, Log: j.LogPath,
			Command: j.Command(), Measured: j.Metrics, Seconds: j.Duration.Seconds()}
		if !strings.HasPrefix(j.Ref, "local-") {
			jobs[i].JobID, jobs[i].State = j.Ref, j.SchedState
		}
	}
	top := rv.Report.Recommendations
	if len(top) > runTopN {
		top = top[:runTopN]
	}
	comps := rv.Comparisons
	if comps == nil {
		comps = []runner.Comparison{}
	}
	return runOutput{
		Session:            sum.Session,
		Source:             sum.Source,
		LogDir:             sum.LogDir,
		StateFile:          sum.StatePath,
		Measured:           sum.Count(runner.StatusMeasured),
		Failed:             sum.Count(runner.StatusFailed),
		Skipped:            sum.Count(runner.StatusSkipped) + sum.Count(runner.StatusSkipFailed),
		Jobs:               jobs,
		Comparisons:        comps,
		Coverage80:         rv.Coverage,
		OptimizationMetric: rv.Report.OptimizationMetric,
		Data:               rv.Report.Data,
		Recommendations:    top,
	}
}

func printRunReview(w io.Writer, sum *runner.Summary, rv *runner.Review) {
	if len(rv.Comparisons) > 0 {
		fmt.Fprintf(w, "Predicted (80%% interval, from session %s) vs measured\n\n", safetext.Quote(sum.Session))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tMODEL\tHARDWARE\tBATCH\tPREC\tMETRIC\tPREDICTED (80%)\tMEASURED\tERROR\tIN 80%")
		in := 0
		for _, c := range rv.Comparisons {
			inside := "no"
			if c.Inside {
				inside, in = "yes", in+1
			}
			note := ""
			if c.Status == runner.StatusSkipped {
				note = " (earlier run)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s %s%s\t%+.1f%%\t%s\n", c.Row+1, safetext.Clean(c.Config.Model), safetext.Clean(c.Config.Hardware), c.Config.BatchSize,
				c.Config.Precision, c.Metric, formatInterval(c.Predicted, c.Config.Unit(c.Metric)), num(c.Measured), c.Config.Unit(c.Metric), note, c.ErrorPct, inside)
		}
		tw.Flush()
		fmt.Fprintf(w, "\n%d of %d measurements inside their 80%% interval.\n", in, len(rv.Comparisons))
	}
	var failed []runner.Job
	for _, j := range sum.Jobs {
		if j.Status == runner.StatusFailed || j.Status == runner.StatusSkipFailed {
			failed = append(failed, j)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nFailed (nothing imported):\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tCONFIGURATION\tREASON\tEXIT\tLOG")
		for _, j := range failed {
			reason := j.Reason
			if j.Status == runner.StatusSkipFailed {
				reason += " (earlier run; --retry-failed)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", j.Row+1, runCfg(j.Config), safetext.Clean(reason), j.ExitCode, safetext.Clean(j.LogPath))
		}
		tw.Flush()
	}
	rep := *rv.Report
	if len(rep.Recommendations) > runTopN {
		rep.Recommendations = rep.Recommendations[:runTopN]
	}
	rep.FinalRecommendations = len(rep.Recommendations)
	fmt.Fprintf(w, "\nAfter retraining:\n")
	printReport(w, &rep)
}
