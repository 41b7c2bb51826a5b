package cmdtmpl

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// A runner is a program that runs another program or code given on its
// command line: a wrapper (timeout, env, sudo, docker run …), a shell or
// interpreter (sh, python, perl, node …). Its own part of the command line
// — its options, their values and the program or script it runs — is
// where a value could choose what runs or become code, so rule 3 keeps
// placeholders out of it; rule 4 refuses them after a code option. The
// lists are not a sandbox: they catch the ways a template can hand a value
// to code.
type runner struct {
	// value: short options that take a value (attached, or the next
	// word); long: long options that take one (--x value or --x=value).
	value string
	long  []string
	// code: short options whose value is code (sh -c) or whose presence
	// makes the operands code (sudo -s); longCode the long ones.
	code     string
	longCode []string
	// script: short options whose value is what runs (python -m);
	// longScript the long ones (java -jar, --module).
	script     string
	longScript []string
	// operands before the program: timeout DURATION, docker run IMAGE.
	operands int
	// known: the value lists are complete. For the others an unknown
	// option may take the next word as its value, and both readings are
	// checked.
	known bool
	// evaluator: every later word is code or a shell line (awk, ssh).
	evaluator bool
	// plus: +o style options (shells); singleDash: options are whole
	// words after one dash (gdb -ex, pwsh -Command).
	plus, singleDash bool
	// execs: options after which the next word is a program (find -exec).
	execs []string
}

var shell = runner{value: "oO", long: []string{"rcfile", "init-file"}, code: "c", known: true, plus: true}

// runners by program name (base name, version suffix removed: python3.12
// is python).
var runners = map[string]runner{
	"sh": shell, "bash": shell, "dash": shell, "zsh": shell, "ksh": shell, "mksh": shell, "oksh": shell, "pdksh": shell,
	"yash": shell, "ash": shell, "csh": shell, "tcsh": shell, "rc": shell, "es": shell,
	"fish":    {value: "dl", long: []string{"debug", "debug-output", "features"}, code: "cC", longCode: []string{"command", "init-command"}, known: true},
	"busybox": {known: true}, "toybox": {known: true},
	"python": {value: "WX", long: []string{"check-hash-based-pycs"}, code: "c", script: "m", known: true},
	"pypy":   {value: "WX", code: "c", script: "m", known: true},
	"perl":   {value: "IMmx", code: "eE", known: true},
	"ruby":   {value: "IrCEFx", code: "e", known: true},
	"node": {value: "rC", long: []string{"require", "import", "loader", "experimental-loader", "input-type", "conditions", "env-file", "title"},
		code: "ep", longCode: []string{"eval", "print"}},
	"nodejs": {value: "rC", long: []string{"require", "import", "loader", "experimental-loader", "input-type", "conditions", "env-file", "title"},
		code: "ep", longCode: []string{"eval", "print"}},
	"deno": {code: "e", longCode: []string{"eval"}, operands: 1}, "bun": {code: "e", longCode: []string{"eval", "print"}},
	"php":     {value: "cdfzt", code: "rBRE", known: true},
	"lua":     {value: "l", code: "e", known: true},
	"luajit":  {value: "lbj", code: "e", known: true},
	"tclsh":   {known: true},
	"wish":    {known: true},
	"Rscript": {code: "e", longCode: []string{"expr"}},
	"R":       {value: "f", code: "e", longCode: []string{"file"}},
	"julia":   {value: "LJCtp", code: "eE", longCode: []string{"eval", "print"}},
	"java": {long: []string{"cp", "classpath", "class-path", "p", "module-path", "upgrade-module-path", "add-modules", "limit-modules",
		"add-opens", "add-exports", "add-reads", "patch-module", "enable-native-access"}, longScript: []string{"jar", "m", "module"}, singleDash: true},
	"groovy": {code: "e"}, "scala": {code: "e"}, "jshell": {evaluator: true},
	"pwsh":       {longCode: pwshCode, singleDash: true},
	"powershell": {longCode: pwshCode, singleDash: true},
	"osascript":  {code: "e"},
	"guile":      {value: "lLx", code: "ce"},
	"racket":     {code: "ei", longCode: []string{"eval"}},
	"sbcl":       {longCode: []string{"eval"}},
	"clisp":      {code: "x"},
	"gdb":        {longCode: []string{"ex", "iex", "eval-command", "init-eval-command"}, singleDash: true},
	"script":     {value: "tTIOB", long: []string{"timing", "log-in", "log-out", "log-io", "log-timing", "logging-format", "output-limit"}, code: "c", longCode: []string{"command"}, known: true},
	"su":         {value: "sgGw", long: []string{"shell", "group", "supp-group", "whitelist-environment"}, code: "c", longCode: []string{"command", "session-command"}, operands: 1, known: true},
	"runuser":    {value: "ugGsw", long: []string{"user", "group", "supp-group", "shell", "whitelist-environment"}, code: "c", longCode: []string{"command", "session-command"}, known: true},
	"sudo":       {value: "ugCDhprtUT", long: []string{"user", "group", "close-from", "chdir", "host", "prompt", "role", "type", "other-user", "command-timeout"}, code: "si", longCode: []string{"shell", "login"}, known: true},
	"doas":       {value: "uC", code: "s", known: true},
	"env":        {value: "uCPa", long: []string{"unset", "chdir", "argv0", "default-signal", "ignore-signal", "block-signal"}, code: "S", longCode: []string{"split-string"}, known: true},
	"timeout":    {value: "sk", long: []string{"signal", "kill-after"}, operands: 1, known: true},
	"nice":       {value: "n", long: []string{"adjustment"}, known: true},
	"nohup":      {known: true},
	"setsid":     {known: true},
	"xargs":      {value: "adEILnPs", long: []string{"arg-file", "delimiter", "eof", "replace", "max-lines", "max-args", "max-procs", "max-chars", "process-slot-var"}, known: true},
	"stdbuf":     {value: "ioe", long: []string{"input", "output", "error"}, known: true},
	"taskset":    {operands: 1, known: true},
	"chrt":       {value: "TPD", long: []string{"sched-runtime", "sched-period", "sched-deadline"}, operands: 1, known: true},
	"ionice":     {value: "cnpPu", long: []string{"class", "classdata", "pid", "pgid", "uid"}, known: true},
	"time":       {value: "fo", long: []string{"format", "output"}, known: true},
	"command":    {known: true},
	"exec":       {value: "a", known: true},
	"flock":      {value: "wE", long: []string{"timeout", "conflict-exit-code"}, code: "c", longCode: []string{"command"}, operands: 1, known: true},
	"chroot":     {long: []string{"userspec", "groups"}, operands: 1, known: true},
	"strace":     {value: "abeEIoOpPsSuUX", known: true},
	"valgrind":   {known: true},
	"unshare":    {value: "SGRwC", long: []string{"setuid", "setgid", "root", "wd", "propagation", "map-user", "map-group", "map-users", "map-groups"}, known: true},
	"nsenter":    {value: "tSG", long: []string{"target", "setuid", "setgid"}, known: true},
	"firejail":   {known: true}, // its options are all --name or --name=value
	"numactl":    {}, "srun": {}, "mpirun": {}, "mpiexec": {}, "systemd-run": {}, "ltrace": {},
	"bwrap": {}, "prlimit": {}, "cgexec": {}, "caffeinate": {}, "start-stop-daemon": {},
	"npx": {}, "pnpx": {}, "bunx": {}, "npm": {operands: 1}, "pnpm": {operands: 1}, "yarn": {operands: 1},
	// A subcommand, then what runs: uv run X, docker run IMAGE X, kubectl exec POD -- X.
	"uv": {operands: 1}, "poetry": {operands: 1}, "pipenv": {operands: 1}, "pipx": {operands: 1}, "pdm": {operands: 1},
	"hatch": {operands: 1}, "conda": {operands: 1}, "mamba": {operands: 1}, "micromamba": {operands: 1},
	"docker": {operands: 2}, "podman": {operands: 2}, "nerdctl": {operands: 2}, "kubectl": {operands: 2}, "oc": {operands: 2},
	"singularity": {operands: 2}, "apptainer": {operands: 2}, "enroot": {operands: 2},
	"find": {execs: []string{"-exec", "-execdir", "-ok", "-okdir"}, known: true},
	"eval": {evaluator: true}, "ssh": {evaluator: true}, "watch": {evaluator: true}, "parallel": {evaluator: true},
	"awk": {evaluator: true}, "gawk": {evaluator: true}, "mawk": {evaluator: true}, "nawk": {evaluator: true},
	"sed": {evaluator: true}, "gsed": {evaluator: true}, "jq": {evaluator: true}, "bc": {evaluator: true}, "dc": {evaluator: true},
	"expect": {evaluator: true}, "m4": {evaluator: true}, "make": {evaluator: true}, "gmake": {evaluator: true}, "ex": {evaluator: true},
	"vi": {evaluator: true}, "vim": {evaluator: true}, "nvim": {evaluator: true}, "emacs": {evaluator: true},
}

var pwshCode = []string{"c", "C", "command", "Command", "e", "ec", "EncodedCommand", "encodedcommand", "enc"}

// evalModules are python -m modules whose arguments are code.
var evalModules = []string{"timeit", "pdb", "code", "cProfile", "profile", "trace"}

var versionSuffix = regexp.MustCompile(`[0-9.]+(-dbg)?$`)

// runnerOf returns the runner a literal word names, if any.
func runnerOf(word string) (string, runner, bool) {
	name := filepath.Base(strings.TrimSpace(word))
	if r, ok := runners[name]; ok {
		return name, r, true
	}
	if trimmed := versionSuffix.ReplaceAllString(name, ""); trimmed != name && trimmed != "" {
		if r, ok := runners[trimmed]; ok {
			return name, r, true
		}
	}
	return name, runner{}, false
}

// Words a runner reads before its program: NAME=value settings (env,
// sudo), and for runners whose lists are incomplete also numbers,
// durations and CPU masks.
var (
	assignment  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	operandLike = regexp.MustCompile(`^[0-9][0-9.,:xa-fA-F-]*[smhd]?$`)
)

// checkRunners applies rules 3 and 4 to every literal word that names a
// runner.
func (t *Template) checkRunners() error {
	if t.hasPlaceholder(0) {
		return errors.New("the program (the first word) may not contain a placeholder: a value would choose what runs")
	}
	for i := range t.words {
		w, ok := t.literal(i)
		if !ok {
			continue
		}
		name, r, ok := runnerOf(w)
		if !ok {
			continue
		}
		if err := t.checkRunner(i, name, r); err != nil {
			return err
		}
	}
	return nil
}

// state is a place in a runner's own part of the line: the word, the
// operands still expected before the program, and whether -- ended the
// options.
type state struct {
	j, operands int
	endOpts     bool
}

// checkRunner walks every reading of the words after runner i (an option
// of a runner whose lists are incomplete may or may not take the next word
// as its value) up to the program or script it runs.
func (t *Template) checkRunner(i int, name string, r runner) error {
	if r.evaluator {
		if j := t.placeholderAfter(i); j >= 0 {
			return fmt.Errorf("%s evaluates its arguments as code, so no placeholder may follow it; call a script that takes the values as arguments", name)
		}
		return nil
	}
	if len(r.execs) > 0 { // find: only -exec and its kin run something
		for j := i + 1; j+1 < len(t.words); j++ {
			if w, ok := t.literal(j); ok && slices.Contains(r.execs, w) && t.hasPlaceholder(j+1) {
				return fmt.Errorf("word %d holds a placeholder where %s %s expects the program to run: a value would choose what runs", j+2, name, w)
			}
		}
		return nil
	}
	seen := map[state]bool{}
	queue := []state{{j: i + 1, operands: r.operands}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s.j >= len(t.words) || seen[s] {
			continue
		}
		seen[s] = true
		next, err := t.step(i, name, r, s)
		if err != nil {
			return err
		}
		queue = append(queue, next...)
	}
	return nil
}

// step reads word s.j of runner i's own part and returns the states that
// may follow; none once the program or script is reached.
func (t *Template) step(i int, name string, r runner, s state) ([]state, error) {
	w, lit := t.literal(s.j)
	if !lit {
		return nil, fmt.Errorf("word %d holds a placeholder where %s reads its own options or the program or script to run: a value would choose what runs; put placeholders after the program (e.g. %s ./bench.sh {model})",
			s.j+1, name, name)
	}
	opt := !s.endOpts && len(w) > 1 && (w[0] == '-' || r.plus && w[0] == '+')
	switch {
	case !s.endOpts && w == "--":
		return []state{{s.j + 1, s.operands, true}}, nil
	case opt && (strings.HasPrefix(w, "--") || r.singleDash):
		return t.longOption(i, name, r, s, strings.TrimLeft(w, "-"))
	case opt:
		return t.shortOptions(i, name, r, s, w[1:])
	case s.operands > 0:
		return []state{{s.j + 1, s.operands - 1, s.endOpts}}, nil
	case assignment.MatchString(w), !r.known && operandLike.MatchString(w):
		return []state{{s.j + 1, 0, s.endOpts}}, nil
	}
	return nil, nil // w is the program or the script: what follows is its own
}

// longOption reads --name[=value] (or gdb's -name).
func (t *Template) longOption(i int, name string, r runner, s state, opt string) ([]state, error) {
	key, _, attached := strings.Cut(opt, "=")
	switch {
	case slices.Contains(r.longCode, key):
		return nil, t.codeFrom(i, name, s.j)
	case slices.Contains(r.longScript, key):
		if j := s.j + 1; !attached && j < len(t.words) && t.hasPlaceholder(j) {
			return nil, fmt.Errorf("word %d holds a placeholder where %s -%s expects what to run: a value would choose what runs", j+1, name, key)
		}
		return nil, nil // what runs is named; its arguments follow
	case slices.Contains(r.long, key) && !attached:
		return t.valueWord(name, s, s.j+1)
	case slices.Contains(r.long, key), r.known, attached:
		return []state{{s.j + 1, s.operands, s.endOpts}}, nil
	}
	// Unknown: it may take the next word as its value, or not.
	return []state{{s.j + 1, s.operands, s.endOpts}, {s.j + 2, s.operands, s.endOpts}}, nil
}

// shortOptions reads a cluster of short options such as -xc or -Wignore.
func (t *Template) shortOptions(i int, name string, r runner, s state, cluster string) ([]state, error) {
	for k := 0; k < len(cluster); k++ {
		c := cluster[k]
		rest := cluster[k+1:]
		switch {
		case strings.IndexByte(r.code, c) >= 0:
			return nil, t.codeFrom(i, name, s.j)
		case strings.IndexByte(r.script, c) >= 0:
			mod := rest
			if rest == "" {
				lit, ok := t.literal(s.j + 1)
				if !ok && s.j+1 < len(t.words) {
					return nil, fmt.Errorf("word %d holds a placeholder where %s -%c expects what to run: a value would choose what runs", s.j+2, name, c)
				}
				mod = lit
			}
			if slices.Contains(evalModules, mod) {
				return nil, t.codeFrom(i, name+" -"+string(c)+" "+mod, s.j)
			}
			return nil, nil // the module's arguments follow
		case strings.IndexByte(r.value, c) >= 0:
			if rest != "" {
				return []state{{s.j + 1, s.operands, s.endOpts}}, nil
			}
			return t.valueWord(name, s, s.j+1)
		case !r.known:
			// An unknown option may take the rest of the word or the next
			// word as its value.
			next := []state{{s.j + 1, s.operands, s.endOpts}}
			if rest == "" {
				next = append(next, state{s.j + 2, s.operands, s.endOpts})
			}
			return next, nil
		}
	}
	return []state{{s.j + 1, s.operands, s.endOpts}}, nil
}

// valueWord skips an option's value at word j, which may not hold a
// placeholder (it is the runner's own setting).
func (t *Template) valueWord(name string, s state, j int) ([]state, error) {
	if j < len(t.words) && t.hasPlaceholder(j) {
		return nil, fmt.Errorf("word %d holds a placeholder as the value of an option of %s: a value would choose how or what runs; put placeholders after the program (e.g. %s ./bench.sh {model})",
			j+1, name, name)
	}
	return []state{{j + 1, s.operands, s.endOpts}}, nil
}

// codeFrom refuses any placeholder after word j, where runner i reads code.
func (t *Template) codeFrom(i int, name string, j int) error {
	if k := t.placeholderAfter(j - 1); k >= 0 {
		return fmt.Errorf("a placeholder after %s's code flag (word %d) would be run as code; put the command in a script file and pass the values as separate words (e.g. %s ./bench.sh {model})",
			name, j+1, strings.Fields(name)[0])
	}
	return nil
}

// placeholderAfter returns the first word after i holding a placeholder, or -1.
func (t *Template) placeholderAfter(i int) int {
	for j := i + 1; j < len(t.words); j++ {
		if t.hasPlaceholder(j) {
			return j
		}
	}
	return -1
}
