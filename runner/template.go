package runner

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"perfpilot/engine"
	"perfpilot/store"
)

// Template is a benchmark command template split into argv words. It is run
// without a shell: values are substituted inside the words after splitting,
// so a value can never become a second word, a redirection or a command.
type Template struct {
	text  string
	words [][]piece
}

// piece is a part of a word: literal text, or a placeholder when name is set.
type piece struct {
	text, name string
}

// ParseTemplate splits a template into words with simple shell-like rules
// applied to the template text only: blanks separate words, 'single quotes'
// keep everything literally, "double quotes" keep blanks and honour \" \\ \$
// and \`, and a backslash outside quotes escapes the next character.
// Unquoted shell operators (| & ; < > ( ) and $, `) are refused, because no
// shell runs them. The program (the first word) may not hold placeholders,
// and a shell's -c script may not either: both would let a value run as code.
// An empty template means store.DefaultScriptTemplate.
func ParseTemplate(tmpl string) (*Template, error) {
	if strings.TrimSpace(tmpl) == "" {
		tmpl = store.DefaultScriptTemplate
	}
	raw, err := splitWords(tmpl)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("template: no command")
	}
	t := &Template{text: tmpl}
	for _, w := range raw {
		pieces, err := placeholders(w)
		if err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		t.words = append(t.words, pieces)
	}
	if hasPlaceholder(t.words[0]) {
		return nil, fmt.Errorf("template: the program %q may not contain a placeholder", raw[0])
	}
	if isShell(raw[0]) {
		for i, w := range raw[1:] {
			if strings.HasPrefix(w, "-") && strings.Contains(w, "c") && i+2 < len(raw) && !strings.HasPrefix(w, "--") {
				if hasPlaceholder(t.words[i+2]) {
					return nil, fmt.Errorf("template: placeholders inside a %s -c script would be run as shell code; pass them as separate words instead", filepath.Base(raw[0]))
				}
			}
		}
	}
	return t, nil
}

// String returns the template text.
func (t *Template) String() string { return t.text }

// Argv substitutes values into the words. Every {name} must be in values.
func (t *Template) Argv(values map[string]string) ([]string, error) {
	argv := make([]string, len(t.words))
	for i, w := range t.words {
		var b strings.Builder
		for _, p := range w {
			if p.name == "" {
				b.WriteString(p.text)
				continue
			}
			v, ok := values[p.name]
			if !ok {
				return nil, fmt.Errorf("template: no value for {%s}", p.name)
			}
			b.WriteString(v)
		}
		argv[i] = b.String()
	}
	return argv, nil
}

// Values are the placeholder values for a configuration.
func Values(cfg engine.Config, outputDir string) map[string]string {
	return map[string]string{
		"model": cfg.Model, "hardware": cfg.Hardware, "batch_size": strconv.Itoa(cfg.BatchSize),
		"precision": string(cfg.Precision), "sequence_length": strconv.Itoa(cfg.SequenceLength), "output_dir": outputDir,
	}
}

// Display renders argv as one shell-quoted line, for --dry-run and logs.
func Display(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = store.ShellQuote(a)
	}
	return strings.Join(q, " ")
}

func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\n' || c == '\r':
			return nil, errors.New("must be a single line")
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				d := s[i]
				if d == '"' {
					closed = true
					break
				}
				if d == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
					cur.WriteByte(s[i])
					continue
				}
				if d == '$' || d == '`' {
					return nil, fmt.Errorf("%q inside double quotes: the command runs without a shell, so nothing is expanded (use single quotes for a literal)", string(d))
				}
				cur.WriteByte(d)
			}
			if !closed {
				return nil, errors.New("unterminated double quote")
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("|&;<>()$`", c) >= 0:
			return nil, fmt.Errorf("unquoted %q: the command runs without a shell, so pipes, redirections, expansions and command lists do not work (quote it for a literal, or put the logic in a script)", string(c))
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// placeholders splits a word into literals and {placeholders}; only
// {lower_case_words} are placeholders and they must be known.
func placeholders(w string) ([]piece, error) {
	var out []piece
	lit := 0
	for i := 0; i < len(w); i++ {
		if w[i] != '{' {
			continue
		}
		j := i + 1
		for j < len(w) && (w[j] == '_' || 'a' <= w[j] && w[j] <= 'z') {
			j++
		}
		if j == i+1 || j >= len(w) || w[j] != '}' {
			continue
		}
		name := w[i+1 : j]
		known := false
		for _, p := range store.ScriptPlaceholders {
			known = known || p == name
		}
		if !known {
			return nil, fmt.Errorf("unknown placeholder {%s} (valid: {%s})", name, strings.Join(store.ScriptPlaceholders, "}, {"))
		}
		if i > lit {
			out = append(out, piece{text: w[lit:i]})
		}
		out = append(out, piece{name: name})
		lit = j + 1
		i = j
	}
	if lit < len(w) || len(out) == 0 {
		out = append(out, piece{text: w[lit:]})
	}
	return out, nil
}

func hasPlaceholder(w []piece) bool {
	for _, p := range w {
		if p.name != "" {
			return true
		}
	}
	return false
}

func isShell(prog string) bool {
	switch filepath.Base(prog) {
	case "sh", "bash", "dash", "zsh", "ksh", "fish", "ash", "busybox":
		return true
	}
	return false
}
