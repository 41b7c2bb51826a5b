package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every binding of the dashboard, in one place; help is generated
// from it.
type KeyMap struct {
	// Movement.
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	// Views.
	View1, View2, View3, View4, View5, NextView, PrevView key.Binding
	// Metric and budget.
	Throughput, Latency, Memory, BudgetUp, BudgetDown key.Binding
	// Table.
	Filter, Sort, SortReverse, Select, SelectAll, Clear key.Binding
	// Actions.
	Detail, Export, Run, Save, Recompute, Import, Help, Quit key.Binding
	// Hardware view.
	NextModel, PrevModel, NextBatch, PrevBatch, NextPrecision, PrevPrecision key.Binding
	// Sessions view.
	OpenSession, RenameSession, DeleteSession key.Binding
	// Dialogs.
	Yes, No, Accept, Cancel, NextChoice, PrevChoice key.Binding
}

// DefaultKeyMap returns the bindings described in the help screen.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		Top:      b([]string{"g", "home"}, "g", "top"),
		Bottom:   b([]string{"G", "end"}, "G", "bottom"),
		PageUp:   b([]string{"pgup"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown"}, "pgdn", "page down"),

		View1:    b([]string{"1"}, "1", "recommendations"),
		View2:    b([]string{"2"}, "2", "mismatches"),
		View3:    b([]string{"3"}, "3", "hardware"),
		View4:    b([]string{"4"}, "4", "benchmarks"),
		View5:    b([]string{"5"}, "5", "sessions"),
		NextView: b([]string{"tab"}, "tab", "next view"),
		PrevView: b([]string{"shift+tab"}, "shift+tab", "previous view"),

		Throughput: b([]string{"t"}, "t", "throughput"),
		Latency:    b([]string{"l"}, "l", "latency"),
		Memory:     b([]string{"m"}, "m", "memory"),
		BudgetUp:   b([]string{"+", "="}, "+", "budget +1"),
		BudgetDown: b([]string{"-", "_"}, "-", "budget −1"),

		Filter:      b([]string{"/"}, "/", "filter"),
		Sort:        b([]string{"s"}, "s", "sort column"),
		SortReverse: b([]string{"S"}, "S", "reverse sort"),
		Select:      b([]string{"space"}, "space", "select"),
		SelectAll:   b([]string{"ctrl+a"}, "ctrl+a", "select all"),
		Clear:       b([]string{"esc"}, "esc", "clear filter/selection"),

		Detail:    b([]string{"enter"}, "enter", "detail"),
		Export:    b([]string{"e"}, "e", "export"),
		Run:       b([]string{"x"}, "x", "run selected"),
		Save:      b([]string{"ctrl+s"}, "ctrl+s", "save session"),
		Recompute: b([]string{"r"}, "r", "recompute"),
		Import:    b([]string{"i"}, "i", "import results"),
		Help:      b([]string{"?"}, "?", "help"),
		Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),

		NextModel:     b([]string{"o"}, "o/O", "model"),
		PrevModel:     b([]string{"O"}, "O", "previous model"),
		NextBatch:     b([]string{"b"}, "b/B", "batch"),
		PrevBatch:     b([]string{"B"}, "B", "previous batch"),
		NextPrecision: b([]string{"p"}, "p/P", "precision"),
		PrevPrecision: b([]string{"P"}, "P", "previous precision"),

		OpenSession:   b([]string{"enter"}, "enter", "open session"),
		RenameSession: b([]string{"n"}, "n", "rename"),
		DeleteSession: b([]string{"d", "delete"}, "d", "delete"),

		Yes:        b([]string{"y", "Y"}, "y", "yes"),
		No:         b([]string{"n", "N", "esc", "enter"}, "n/enter", "no"),
		Accept:     b([]string{"enter"}, "enter", "accept"),
		Cancel:     b([]string{"esc"}, "esc", "cancel"),
		NextChoice: b([]string{"tab", "down", "right"}, "tab", "next format"),
		PrevChoice: b([]string{"shift+tab", "up", "left"}, "shift+tab", "previous format"),
	}
}

// helpKeys adapts a list of bindings to help.KeyMap.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }

// viewKeys are the bindings specific to a view.
func (k KeyMap) viewKeys(v viewID) []key.Binding {
	switch v {
	case viewRecs, viewMismatches:
		return []key.Binding{k.Detail, k.Select, k.Export, k.Run}
	case viewHardware:
		return []key.Binding{k.NextModel, k.NextBatch, k.NextPrecision}
	case viewSessions:
		return []key.Binding{k.OpenSession, k.RenameSession, k.DeleteSession}
	}
	return nil
}

// ShortHelp is the one-line help bar for a view.
func (k KeyMap) ShortHelp(v viewID) []key.Binding {
	out := []key.Binding{k.Help, k.Quit}
	out = append(out, k.viewKeys(v)...)
	return append(out, k.Filter, k.Sort, k.Throughput, k.Latency, k.Memory, k.BudgetUp, k.BudgetDown, k.Save, k.NextView)
}

// FullHelp is the `?` screen for a view, in columns.
func (k KeyMap) FullHelp(v viewID) [][]key.Binding {
	cols := [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.View1, k.View2, k.View3, k.View4, k.View5, k.NextView, k.PrevView},
		{k.Throughput, k.Latency, k.Memory, k.BudgetUp, k.BudgetDown, k.Recompute},
		{k.Filter, k.Sort, k.SortReverse, k.Select, k.SelectAll, k.Clear},
		{k.Detail, k.Export, k.Run, k.Save, k.Import, k.Help, k.Quit},
	}
	switch v {
	case viewHardware:
		cols = append(cols, []key.Binding{k.NextModel, k.PrevModel, k.NextBatch, k.PrevBatch, k.NextPrecision, k.PrevPrecision})
	case viewSessions:
		cols = append(cols, []key.Binding{k.OpenSession, k.RenameSession, k.DeleteSession})
	}
	return cols
}
