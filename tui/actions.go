package tui

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"perfpilot/engine"
	"perfpilot/tui/common"
	"perfpilot/tui/detail"
	"perfpilot/tui/dialog"
)

// Actions started by keys.

// filterable is what the filter line drives in the active view.
type filterable interface {
	Filter() string
	SetFilter(string)
}

// activeTable is the active view's filter target (nil: none).
func (m *Model) activeTable() filterable {
	switch m.view {
	case viewRecs:
		return m.recs.Table()
	case viewMismatches:
		return m.mism.Table()
	case viewOverview:
		return m.overview
	case viewHardware:
		return m.hw.Table()
	case viewBenchmarks:
		return m.bench.Table()
	case viewSessions:
		return m.sessions.Table()
	}
	return nil
}

func (m *Model) focusedInput() *textinput.Model {
	if m.filtering {
		return &m.filter
	}
	if m.dialog != nil {
		return m.dialog.Input()
	}
	return nil
}

func (m *Model) startFilter() tea.Cmd {
	t := m.activeTable()
	if t == nil {
		return nil
	}
	m.filtering = true
	m.filter.SetValue(t.Filter())
	m.filter.CursorEnd()
	return m.filter.Focus()
}

func (m *Model) afterFilterEdit() {
	if t := m.activeTable(); m.filtering && t != nil {
		t.SetFilter(m.filter.Value())
	}
}

func (m *Model) currentRec() (rec, bool) {
	if m.view == viewMismatches {
		return m.mism.Current()
	}
	return m.recs.Current()
}

func (m *Model) reportMetric() engine.Metric {
	if m.report != nil && m.report.OptimizationMetric != "" {
		return m.report.OptimizationMetric
	}
	return m.ctx.Metric
}

func (m *Model) detailKey(r rec) rankKey {
	return keyOf(r.Config(), m.reportMetric())
}

// requestDetail ranks hardware for the row under the cursor.
func (m *Model) requestDetail() tea.Cmd {
	r, ok := m.currentRec()
	if !ok {
		return nil
	}
	m.detail.SetData(detail.Data{Row: r, Metric: m.reportMetric(), Mark: m.marks[r.Config()]})
	m.layout()
	return m.startRanking(jobDetail, m.detailKey(r))
}

// followCursor refreshes what depends on the row under the cursor.
func (m *Model) followCursor() tea.Cmd {
	if m.detailOpen && m.view.isRecs() {
		return m.requestDetail()
	}
	return nil
}

// refreshView asks for what the active view shows when it depends on the
// data or the metric.
func (m *Model) refreshView() tea.Cmd {
	switch m.view {
	case viewHardware:
		if !m.hw.Picked() {
			if r, ok := m.recs.Current(); ok {
				m.hw.PickFrom(r.ModelName, r.BatchSize, r.Precision)
			} else if len(m.space.Models) > 0 {
				m.hw.PickFrom(m.space.Models[0], 1, engine.FP32)
			}
		}
		if p, ok := m.hw.Pick(); ok && m.hw.Picked() {
			return m.startRanking(jobHardware, keyOf(engine.Config{Model: p.Model, BatchSize: p.Batch, Precision: p.Precision}, m.ctx.Metric))
		}
	case viewOverview:
		return m.startOverview()
	case viewPareto:
		return m.startPareto()
	case viewRecs, viewMismatches:
		return m.followCursor()
	}
	return nil
}

func (m *Model) switchView(v viewID) tea.Cmd {
	if m.filtering {
		m.filtering = false
		m.filter.Blur()
	}
	m.view = v
	if t := m.activeTable(); t != nil {
		m.filter.SetValue(t.Filter())
	}
	m.layout()
	return m.refreshView()
}

func (m *Model) setMetric(metric engine.Metric) tea.Cmd {
	if metric == m.ctx.Metric && m.report != nil && m.report.OptimizationMetric == metric && !m.jobs.isPending(jobRank) {
		m.say("already ranked by " + string(metric))
		return nil
	}
	m.ctx.Metric = metric
	m.say("re-ranking by " + string(metric) + "…")
	return tea.Batch(m.startRank(false), m.refreshView())
}

func (m *Model) setBudget(b int) tea.Cmd {
	if b < 1 {
		m.say("the budget cannot go below 1")
		return nil
	}
	m.budget = b
	m.say(fmt.Sprintf("budget %d: re-ranking…", b))
	return m.startRank(false)
}

// quit leaves at once, or asks first when a selection is unsaved.
func (m *Model) quit() tea.Cmd {
	if n := m.sel.Len(); m.selectionUnsaved() {
		m.dialog = dialog.NewConfirm(m.ctx, "Quit?", fmt.Sprintf("%d selected row(s) are not saved in a session (ctrl+s saves). Quit anyway?", n),
			func() tea.Cmd { return tea.Quit }, nil)
		return nil
	}
	return tea.Quit
}

func (m *Model) openExport() tea.Cmd {
	if !m.view.isRecs() {
		m.say("export works on recommendations (views 1 and 2)")
		return nil
	}
	rows, cursor := m.runRowsNow()
	if m.report == nil || len(rows) == 0 {
		m.say("nothing to export yet")
		return nil
	}
	what := "the row under the cursor"
	switch {
	case cursor:
	case len(rows) == 1:
		what = "1 selected row"
	default:
		what = fmt.Sprintf("%d selected rows", len(rows))
	}
	rep := m.report
	name := "perfpilot-export-" + m.opts.Now().Format("20060102-150405") + ".json"
	if m.opts.ExportDir != "" {
		name = filepath.Join(m.opts.ExportDir, name)
	}
	m.dialog = dialog.NewExport(m.ctx, what, name,
		func(f dialog.Format, path string, force bool) tea.Cmd { return m.exportRows(rep, rows, f, path, force) },
		func() tea.Cmd { m.say("export cancelled"); return nil })
	return nil
}

func (m *Model) openSave() tea.Cmd {
	switch {
	case m.report == nil:
		m.say("nothing to save yet")
		return nil
	case m.refuseReadOnly("save sessions"):
		return nil
	}
	current := m.sessionName
	m.dialog = dialog.NewPrompt(m.ctx, "Save session as", "Saves the ranking, its parameters and the selected rows.", current,
		func(name string) tea.Cmd { return m.saveSession(name, name == current) },
		func() tea.Cmd { m.say("cancelled: not saved"); return nil })
	return nil
}

// openTokens asks for the prompt and output tokens of the text-generation
// candidates ("1024+256"; "default": each model's defaults) and re-ranks.
func (m *Model) openTokens() tea.Cmd {
	current := ""
	if m.tokens != [2]int{} {
		current = tokensText(m.tokens)
	}
	m.dialog = dialog.NewPrompt(m.ctx, "LLM request tokens", "prompt+output tokens of every text-generation row, e.g. 1024+256 or default+64; default: each model's own", current,
		func(s string) tea.Cmd {
			t, err := parseTokens(s)
			if err != nil {
				m.say(err.Error())
				return nil
			}
			m.tokens = t
			m.say("LLM tokens " + tokensText(t) + ": re-ranking…")
			return m.startRank(false)
		}, func() tea.Cmd { m.say("tokens unchanged"); return nil })
	return nil
}

// tokensText shows prompt+output tokens ("default" for the models' own).
func tokensText(t [2]int) string {
	if t == [2]int{} {
		return "default"
	}
	p, o := "default", "default"
	if t[0] > 0 {
		p = common.Itoa(t[0])
	}
	if t[1] > 0 {
		o = common.Itoa(t[1])
	}
	return p + "+" + o
}

// parseTokens reads "PROMPT+OUTPUT" (either may be "default"; "default"
// alone is both).
func parseTokens(s string) ([2]int, error) {
	var t [2]int
	s = strings.TrimSpace(s)
	if s == "" || s == "default" {
		return t, nil
	}
	parts := strings.Split(s, "+")
	if len(parts) != 2 {
		return t, fmt.Errorf("tokens %s: write PROMPT+OUTPUT, e.g. 1024+256", common.Safe(s))
	}
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "default" || p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > engine.MaxTokens {
			return t, fmt.Errorf("tokens %s: %s is not a whole number in 1..%d", common.Safe(s), common.Safe(p), engine.MaxTokens)
		}
		t[i] = n
	}
	return t, nil
}

func (m *Model) openImport() tea.Cmd {
	if m.refuseReadOnly("import") {
		return nil
	}
	m.dialog = dialog.NewPrompt(m.ctx, "Import results", "CSV or JSON file; a file with any bad row is rejected whole.", "",
		func(path string) tea.Cmd { return m.importFile(path) }, func() tea.Cmd { m.say("import cancelled"); return nil })
	return nil
}
