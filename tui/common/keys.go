package common

import "charm.land/bubbles/v2/key"

// TableKeys are the keys every table handles itself (tui/table).
type TableKeys struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Select, SelectAll, Sort, SortReverse    key.Binding
}

// KeyMap is every binding of the dashboard: the single source of key
// names. Components match against it; help is generated from it.
type KeyMap struct {
	Table TableKeys
	// Views, in tab order.
	Views              []key.Binding
	NextView, PrevView key.Binding
	// Metric and budget.
	Throughput, Latency, Memory, BudgetUp, BudgetDown, Tokens key.Binding
	// Global actions.
	Filter, Export, Run, Save, Recompute, Import, Log, Help, Quit, Interrupt, Back key.Binding
	// Recommendation views.
	Detail, ShowSelection key.Binding
	// Hardware, overview and Pareto views.
	NextModel, PrevModel, NextBatch, PrevBatch, NextPrecision, PrevPrecision, Left, Right key.Binding
	// Sessions view.
	OpenSession, RenameSession, DeleteSession key.Binding
	// Benchmarks view.
	Exclude key.Binding
	// Dialogs.
	Yes, No, Accept, Cancel, NextChoice, PrevChoice, Edit key.Binding
}

func bind(keys []string, k, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
}

// DefaultKeyMap returns the bindings described in the help screen. The
// view keys follow ViewNames.
func DefaultKeyMap(viewNames []string) *KeyMap {
	k := &KeyMap{
		Table: TableKeys{
			Up:          bind([]string{"up", "k"}, "↑/k", "up"),
			Down:        bind([]string{"down", "j"}, "↓/j", "down"),
			Top:         bind([]string{"g", "home"}, "g", "top"),
			Bottom:      bind([]string{"G", "end"}, "G", "bottom"),
			PageUp:      bind([]string{"pgup"}, "pgup", "page up"),
			PageDown:    bind([]string{"pgdown"}, "pgdn", "page down"),
			Select:      bind([]string{"space"}, "space", "select"),
			SelectAll:   bind([]string{"ctrl+a"}, "ctrl+a", "select all"),
			Sort:        bind([]string{"s"}, "s", "sort column"),
			SortReverse: bind([]string{"S"}, "S", "reverse sort"),
		},
		NextView: bind([]string{"tab"}, "tab", "next view"),
		PrevView: bind([]string{"shift+tab"}, "shift+tab", "previous view"),

		Throughput: bind([]string{"t"}, "t", "throughput"),
		Latency:    bind([]string{"l"}, "l", "latency"),
		Memory:     bind([]string{"m"}, "m", "memory"),
		BudgetUp:   bind([]string{"+", "="}, "+", "budget +1"),
		BudgetDown: bind([]string{"-", "_"}, "-", "budget −1"),
		Tokens:     bind([]string{"T"}, "T", "LLM prompt+output tokens"),

		Filter:    bind([]string{"/"}, "/", "filter"),
		Export:    bind([]string{"e"}, "e", "export"),
		Run:       bind([]string{"x"}, "x", "run selected"),
		Save:      bind([]string{"ctrl+s"}, "ctrl+s", "save session"),
		Recompute: bind([]string{"r"}, "r", "recompute"),
		Import:    bind([]string{"i"}, "i", "import results"),
		Log:       bind([]string{"L"}, "L", "message log"),
		Help:      bind([]string{"?"}, "?", "help"),
		Quit:      bind([]string{"q", "ctrl+c"}, "q", "quit"),
		Interrupt: bind([]string{"ctrl+c"}, "ctrl+c", "stop a run"),
		Back:      bind([]string{"esc"}, "esc", "close/clear"),

		Detail:        bind([]string{"enter"}, "enter", "detail"),
		ShowSelection: bind([]string{"v"}, "v", "show selection"),

		NextModel:     bind([]string{"o"}, "o/O", "model"),
		PrevModel:     bind([]string{"O"}, "O", "previous model"),
		NextBatch:     bind([]string{"b"}, "b/B", "batch"),
		PrevBatch:     bind([]string{"B"}, "B", "previous batch"),
		NextPrecision: bind([]string{"p"}, "p/P", "precision"),
		PrevPrecision: bind([]string{"P"}, "P", "previous precision"),
		Left:          bind([]string{"left", "h"}, "←/h", "left"),
		Right:         bind([]string{"right"}, "→", "right"),

		OpenSession:   bind([]string{"enter"}, "enter", "open session"),
		RenameSession: bind([]string{"n"}, "n", "rename"),
		DeleteSession: bind([]string{"d", "delete"}, "d", "delete"),

		Exclude: bind([]string{"X"}, "X", "exclude/include in learning"),

		Yes:        bind([]string{"y", "Y"}, "y", "yes"),
		No:         bind([]string{"n", "N", "esc", "enter", "q"}, "n/enter/esc", "no"),
		Accept:     bind([]string{"enter"}, "enter", "accept"),
		Cancel:     bind([]string{"esc"}, "esc", "cancel"),
		NextChoice: bind([]string{"tab", "down"}, "tab", "next format"),
		PrevChoice: bind([]string{"shift+tab", "up"}, "shift+tab", "previous format"),
		Edit:       bind([]string{"tab"}, "tab", "edit command"),
	}
	for i, name := range viewNames {
		n := string(rune('1' + i))
		k.Views = append(k.Views, bind([]string{n}, n, name))
	}
	return k
}
