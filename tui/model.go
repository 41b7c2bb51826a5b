// Package tui is perfpilot's terminal dashboard (Bubble Tea v2). The root
// Model routes messages to components (tui/recs, tui/overview, …), holds
// the shared common.Context, and runs the background work; components own
// their state and render themselves. README.md ("Dashboard architecture")
// has the component map.
package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"perfpilot/cmdtmpl"
	"perfpilot/engine"
	"perfpilot/store"
	"perfpilot/tui/bench"
	"perfpilot/tui/common"
	"perfpilot/tui/detail"
	"perfpilot/tui/dialog"
	"perfpilot/tui/hwview"
	"perfpilot/tui/logpanel"
	"perfpilot/tui/overview"
	"perfpilot/tui/pareto"
	"perfpilot/tui/recs"
	"perfpilot/tui/runpanel"
	"perfpilot/tui/sessions"
)

// Options configure the dashboard.
type Options struct {
	Store   Store
	Runner  Runner // nil: x explains that runs need a database
	Ranker  Ranker // nil: EngineRanker
	Catalog *engine.Catalog
	Metric  engine.Metric // default throughput
	Budget  int           // default engine.DefaultBudget
	Seed    uint64
	// ReadOnly, when set, says why the database cannot be written: a banner
	// shows it and saving, importing and running are refused.
	ReadOnly string
	// Now is the clock for report timestamps and export file names.
	Now func() time.Time
	// ExportDir is where export paths are pre-filled; empty means the
	// current directory. Runs keep their output and logs in
	// ExportDir/perfpilot-runs/<timestamp>.
	ExportDir string
	// RunTemplate is the benchmark command x pre-fills
	// (cmdtmpl.Default when empty); see cmdtmpl.Parse.
	RunTemplate string
	// Placement (canonical JSON, from PlacementFile) is what x's scheduler
	// runs use, in place of the one an open session stored.
	Placement     []byte
	PlacementFile string
	NoColor       bool // Run also honours $NO_COLOR
	NoMouse       bool
	// Input, Output and ProgramOptions replace the terminal (tests).
	Input          io.Reader
	Output         io.Writer
	ProgramOptions []tea.ProgramOption
}

// statusTTL is how long a message stays on the status line (the log
// panel keeps it).
const statusTTL = 8 * time.Second

// Model is the root model of the dashboard.
type Model struct {
	opts    Options
	baseCtx context.Context
	ctx     *common.Context
	help    help.Model
	spinner spinner.Model
	jobs    jobs
	// tick schedules a message after a pause (tea.Tick; tests replace it).
	tick func(time.Duration, tea.Msg) tea.Cmd

	// Data.
	results    []store.StoredResult
	measured   map[string]measuredRow // the latest result of each configuration
	pred       *engine.Predictor
	needReload bool
	report     *engine.Report
	budget     int
	// tokens shape the text-generation candidates: prompt and output
	// tokens (0: each model's defaults).
	tokens      [2]int
	space       engine.Space
	rankCache   map[rankKey]*engine.HardwareRanking
	marks       common.Marks
	sessionName string
	dirty       bool          // the view differs from the session saved or opened (header: modified)
	snapshot    *snapshotInfo // the report on screen is a reopened session
	// sessionRep is the ranking saved or opened as sessionName and
	// sessionOff the selected rows the session keeps after it (the
	// session's rows are those of sessionRows when both still hold).
	sessionRep *engine.Report
	sessionOff []engine.Config
	// sessionSel is the selection the session stores: quitting or opening
	// another session asks only when the selection differs from it (a
	// re-ranking, such as the one after a run, loses nothing).
	sessionSel map[engine.Config]bool

	// Components.
	view     viewID
	sel      *recs.Selection
	views    [numViews]common.Component
	recs     *recs.Model
	mism     *recs.Model
	overview *overview.Model
	hw       *hwview.Model
	pareto   *pareto.Model
	bench    *bench.Model
	sessions *sessions.Model
	detail   *detail.Model
	log      *logpanel.Model
	runPanel *runpanel.Model

	// Overlays, innermost last: dialog, help, log panel, detail pane, filter.
	dialog     dialog.Dialog
	showHelp   bool
	showLog    bool
	detailOpen bool
	filter     textinput.Model
	filtering  bool

	run         *runState
	runDone     bool // the last run had failures: its panel stays until esc
	runTemplate string
	// runExecutor and runPlacement are the open session's executor and
	// placement (canonical JSON), the defaults of x and kept when it saves.
	runExecutor      string
	runPlacement     []byte
	runPlacementFile string
	runTick          time.Duration
	runNote          *logpanel.Entry // the last run's summary, kept until the ranking refreshes

	status     logpanel.Entry
	statusSeq  int
	statusShow int // statusSeq whose expiry is scheduled
}

// snapshotInfo describes a reopened session shown as it was saved.
type snapshotInfo struct {
	at            time.Time
	measuredSince int
}

// New builds the root model. ctx bounds all background work.
func New(ctx context.Context, opts Options) *Model {
	if opts.Metric == "" {
		opts.Metric = engine.Throughput
	}
	if opts.Budget <= 0 {
		opts.Budget = engine.DefaultBudget
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Ranker == nil {
		opts.Ranker = EngineRanker{}
	}
	if opts.RunTemplate == "" {
		opts.RunTemplate = cmdtmpl.Default
	}
	if ctx == nil {
		ctx = context.Background()
	}
	c := &common.Context{Width: 120, Height: 35, Theme: common.NewTheme(true, opts.NoColor),
		Keys: common.DefaultKeyMap(viewNames[:]), Metric: opts.Metric, Now: opts.Now}
	m := &Model{opts: opts, baseCtx: ctx, ctx: c, help: help.New(), spinner: spinner.New(spinner.WithSpinner(spinner.Dot)),
		jobs: newJobs(ctx), tick: func(d time.Duration, msg tea.Msg) tea.Cmd {
			return tea.Tick(d, func(time.Time) tea.Msg { return msg })
		},
		budget: opts.Budget, needReload: true, rankCache: map[rankKey]*engine.HardwareRanking{}, marks: common.Marks{},
		runTemplate: opts.RunTemplate, runTick: runTickEvery, runPlacement: opts.Placement, runPlacementFile: opts.PlacementFile}
	m.help.Styles = c.Theme.Help
	m.sel = recs.NewSelection()
	backend := func(hw string) string {
		if h := opts.Catalog.Hardware(hw); h != nil {
			return h.Backend
		}
		return ""
	}
	m.recs = recs.New(c, m.sel, false, backend)
	m.mism = recs.New(c, m.sel, true, backend)
	m.overview, m.hw, m.pareto = overview.New(c), hwview.New(c), pareto.New(c)
	m.bench, m.sessions = bench.New(c), sessions.New(c)
	m.views = [numViews]common.Component{m.recs, m.mism, m.overview, m.hw, m.pareto, m.bench, m.sessions}
	m.detail, m.log, m.runPanel = detail.New(c), logpanel.New(c), runpanel.New(c)
	m.filter = dialog.NewInput("/ ", "model, hardware, type, precision; b:8 p:int8 hw:cuda", "")
	m.layout()
	return m
}

// Init loads the data and ranks it.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.startRank(true), m.loadSessions(), tea.RequestBackgroundColor)
}

// Run opens the dashboard and blocks until the user quits.
func Run(ctx context.Context, opts Options) error {
	if os.Getenv("NO_COLOR") != "" {
		opts.NoColor = true
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops background work still running at exit
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	popts = append(popts, opts.ProgramOptions...)
	_, err := tea.NewProgram(New(ctx, opts), popts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && parent.Err() != nil {
		return parent.Err() // ended by a signal, not a failure of ours
	}
	return err
}
