// Package tui is perfpilot's terminal dashboard (Bubble Tea v2). The root
// Model owns all state and routes messages; tables, the detail pane,
// dialogs and the header only render what they are given, from one shared
// programContext.
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
)

// Options configure the dashboard.
type Options struct {
	DB      *store.DB
	Catalog *engine.Catalog
	Metric  engine.Metric // default throughput
	Budget  int           // default engine.DefaultBudget
	Seed    uint64
	// Now is the clock for report timestamps and export file names.
	Now func() time.Time
	// ExportDir is where export paths are pre-filled; empty means the
	// current directory (a bare file name). Runs started with x keep their
	// output and logs in ExportDir/perfpilot-runs/<timestamp>.
	ExportDir string
	// RunTemplate is the benchmark command x pre-fills
	// (cmdtmpl.Default when empty); see runner.ParseTemplate.
	RunTemplate string
	// NoColor drops colours; Run also honours $NO_COLOR.
	NoColor bool
	// Input and Output replace the terminal (tests).
	Input  io.Reader
	Output io.Writer
	// ProgramOptions are passed to tea.NewProgram (tests).
	ProgramOptions []tea.ProgramOption
}

// jobKind names a kind of background work; at most one of each is current.
type jobKind int

const (
	jobRank jobKind = iota
	jobDetail
	jobHardware
	jobImport
	jobExport
	jobSession
	jobSessions
	numJobKinds
)

var jobLabels = map[jobKind]string{
	jobRank: "ranking", jobDetail: "ranking hardware", jobHardware: "ranking hardware",
	jobImport: "importing", jobExport: "exporting", jobSession: "saving session", jobSessions: "loading sessions",
}

// Model is the root model of the dashboard.
type Model struct {
	opts    Options
	baseCtx context.Context
	ctx     programContext
	keys    KeyMap
	help    help.Model
	spinner spinner.Model

	// Data.
	results     []store.StoredResult
	pred        *engine.Predictor
	needReload  bool
	report      *engine.Report
	budget      int
	sessionName string
	dirty       bool // selection changed since the session was saved or opened
	// sessionReport is the report saved or opened as sessionName; when the
	// report on screen is another one, the ranking changed since.
	sessionReport *engine.Report
	// measured holds the configurations a run measured (by config key),
	// shared with the recommendation tables' value columns.
	measured measuredSet

	// Tables.
	sel      Selection
	recs     *Table[rec]
	mism     *Table[rec]
	hw       *Table[hwRow]
	bench    *Table[store.StoredResult]
	sessions *Table[store.SessionInfo]

	// Detail pane and hardware view.
	detailOpen bool
	detail     rankingView
	rankCache  map[string]*engine.HardwareRanking
	hwSpace    engine.Space
	hwPick     [3]int // model, batch, precision indexes into hwSpace
	hwInit     bool
	hwView     rankingView

	// Input.
	filter    textinput.Model
	filtering bool
	dialog    dialog
	showHelp  bool

	// Benchmark run (x): at most one at a time.
	run          *runState
	runTemplate  string        // the template of the last run (pre-filled)
	runNote      string        // summary of the last run, kept until the ranking refreshes
	runNoteErr   bool          // the last run failed somewhere
	runTickEvery time.Duration // how often the log tail refreshes

	// Background work.
	seq       int
	pending   map[jobKind]int
	cancels   map[jobKind]context.CancelFunc
	status    string
	statusErr bool
}

// rankingView is a hardware ranking requested for one key.
type rankingView struct {
	key     string
	ranking *engine.HardwareRanking
	err     error
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
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.RunTemplate == "" {
		opts.RunTemplate = cmdtmpl.Default
	}
	theme := NewTheme(true, opts.NoColor)
	m := &Model{
		opts:       opts,
		baseCtx:    ctx,
		ctx:        programContext{Width: 120, Height: 35, Theme: theme, View: viewRecs, Metric: opts.Metric},
		keys:       DefaultKeyMap(),
		help:       help.New(),
		spinner:    spinner.New(spinner.WithSpinner(spinner.Dot)),
		budget:     opts.Budget,
		needReload: true,
		sel:        Selection{},
		rankCache:  map[string]*engine.HardwareRanking{},
		pending:    map[jobKind]int{},
		cancels:    map[jobKind]context.CancelFunc{},
		measured:   measuredSet{},

		runTemplate:  opts.RunTemplate,
		runTickEvery: runTickEvery,
	}
	m.help.Styles = theme.Help
	m.recs = NewTable(recColumns(opts.Metric, m.measured), recID, recSearch)
	m.recs.ShareSelection(m.sel)
	m.mism = NewTable(mismatchColumns(opts.Metric, m.measured), recID, recSearch)
	m.mism.ShareSelection(m.sel)
	m.hw = NewTable(hwColumns(opts.Metric), hwID, hwSearch)
	m.bench = NewTable(benchColumns(), benchID, benchSearch)
	m.sessions = NewTable(sessionColumns(), sessionID, sessionSearch)
	m.filter = newInput("/ ", "model, hardware or type")
	m.layout()
	return m
}

// newInput makes a text input with a steady cursor (no blink timer).
func newInput(prompt, placeholder string) textinput.Model {
	ti := textinput.New()
	ti.Prompt = prompt
	ti.Placeholder = placeholder
	st := ti.Styles()
	st.Cursor.Blink = false
	ti.SetStyles(st)
	return ti
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
	m := New(ctx, opts)
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	popts = append(popts, opts.ProgramOptions...)
	_, err := tea.NewProgram(m, popts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && parent.Err() != nil {
		return parent.Err() // ended by a signal, not a failure of ours
	}
	return err
}

// Selected returns the selected rows of the current report, in rank order.
func (m *Model) Selected() []rec { return m.recs.Selected() }

// Report returns the report on screen (nil before the first ranking).
func (m *Model) Report() *engine.Report { return m.report }

// activeTable returns the table of the active view as the operations every
// table supports.
func (m *Model) activeTable() tableOps {
	switch m.ctx.View {
	case viewRecs:
		return m.recs
	case viewMismatches:
		return m.mism
	case viewHardware:
		return m.hw
	case viewBenchmarks:
		return m.bench
	default:
		return m.sessions
	}
}

// tableOps is what the root does to any table, whatever its row type.
type tableOps interface {
	Move(int)
	Top()
	Bottom()
	PageSize() int
	SetFilter(string)
	Filter() string
	CycleSort()
	ReverseSort()
	SortState() (string, bool)
	ToggleSelect()
	SelectAll()
	ClearSelection()
	SelectionLen() int
	Len() int
	Total() int
	Cursor() int
	CurrentID() (string, bool)
	SetSize(w, h int, compact bool, th *Theme)
	View(empty string) string
}

// tables lists every table (for resizing and theming).
func (m *Model) tables() []tableOps {
	return []tableOps{m.recs, m.mism, m.hw, m.bench, m.sessions}
}
