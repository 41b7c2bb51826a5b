// Package cmdtmpl is perfpilot's one parser of benchmark command templates,
// shared by `perfpilot run` (which executes the argv without a shell) and
// `export --format sh` (which writes the same argv, each word quoted once).
//
// The rules, stated once (README "Safety"):
//
//  1. The template is split into words like a shell line — blanks separate,
//     'single' and "double" quotes group, a backslash escapes — but nothing
//     is ever expanded: unquoted | & ; < > ( ) $ ` are refused, and so are $
//     and ` inside double quotes.
//  2. Placeholders ({model} …) are replaced inside their word after the
//     split, so a value is always part of exactly one argv word. They must
//     stand outside quotes (inside quotes they would look like shell text
//     that perfpilot does not have).
//  3. A value never chooses what runs, or how: no placeholder in the
//     program word, nor in the part of the line a wrapper, shell or
//     interpreter reads for itself — its options and their values, its
//     operands and the program or script it runs (runners.go).
//  4. A value never reaches code: once a shell or interpreter has a code
//     flag (sh -c, python -W x -c, perl -e, env -S …) no placeholder may
//     follow, and after programs that always evaluate their arguments
//     (eval, ssh, awk …) none may follow at all.
package cmdtmpl

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"perfpilot/engine"
	"perfpilot/safetext"
)

// Default is the seed's benchmark command, with precision.
const Default = "python run_benchmark.py --model {model} --hardware {hardware} --batch-size {batch_size} --precision {precision} --output-dir {output_dir}"

// DefaultOutputDir is the seed's benchmark output folder.
const DefaultOutputDir = "benchmark_results"

// Placeholders are the names a template may use.
var Placeholders = []string{"model", "hardware", "batch_size", "precision", "sequence_length", "output_dir",
	"phase", "gpu_count", "parallelism", "prompt_tokens", "output_tokens", "precision_label"}

// PlaceholderList is every placeholder as help text shows it: "{model} {hardware} …".
func PlaceholderList() string { return "{" + strings.Join(Placeholders, "} {") + "}" }

// Template is a parsed command template: argv words made of literal text
// and placeholders.
type Template struct {
	words [][]piece
}

// piece is part of a word: literal text, or a placeholder when name is set.
type piece struct {
	text, name string
}

// Parse splits a template into words and checks the rules of the package
// comment. An empty template means Default. Errors are one line and say how
// to write the template instead.
func Parse(text string) (*Template, error) {
	if strings.TrimSpace(text) == "" {
		text = Default
	}
	words, err := split(text, true)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(words) == 0 {
		return nil, errors.New("template: no command")
	}
	t := &Template{words: words}
	if err := t.checkRunners(); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return t, nil
}

// Argv substitutes values into the words. Every placeholder must have a value.
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

// Values are the placeholder values of a configuration. The text-
// generation ones ({prompt_tokens}, {output_tokens}, {gpu_count}, …) are
// what an LLM benchmark needs: llama-bench -p {prompt_tokens} -n
// {output_tokens}, vllm bench serve --max-concurrency {batch_size}.
func Values(cfg engine.Config, outputDir string) map[string]string {
	return map[string]string{
		"model": cfg.Model, "hardware": cfg.Hardware, "batch_size": strconv.Itoa(cfg.BatchSize),
		"precision": string(cfg.Precision), "sequence_length": strconv.Itoa(cfg.SequenceLength), "output_dir": outputDir,
		"phase": cfg.Phase.String(), "gpu_count": strconv.Itoa(cfg.GPUs()), "parallelism": string(cfg.Parallelism),
		"prompt_tokens": strconv.Itoa(cfg.PromptTokens), "output_tokens": strconv.Itoa(cfg.OutputTokens),
		"precision_label": cfg.PrecisionLabel,
	}
}

// Line renders argv as one shell line, each word quoted once (Quote): what
// `export --format sh` writes and `run --dry-run` shows. Split reads it
// back as the same argv when no word holds a control character.
func Line(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}

// Quote returns s as one bash word: unchanged when it only holds characters
// no shell treats specially, else in single quotes, or in bash's $'...' form
// when it holds a character that could drive or fool a terminal (controls,
// bidi overrides, zero-width marks: safetext.Dangerous) or invalid UTF-8,
// each written as \xHH bytes, so a newline in a value cannot split a command
// over two lines and a script shows exactly what it runs.
func Quote(s string) string {
	safe := s != ""
	for i := 0; i < len(s); i++ {
		c := s[i]
		safe = safe && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_-./:@+,", c) >= 0)
	}
	switch {
	case safe:
		return s
	case safetext.Clean(s) == s:
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == utf8.RuneError && n <= 1, safetext.Dangerous(r):
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, `\x%02x`, c) // always two digits, so a following hex digit stays literal
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}

// Split splits a line into words with the template's quoting rules and no
// placeholders: the inverse of Line.
func Split(line string) ([]string, error) {
	words, err := split(line, false)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(words))
	for i, w := range words {
		for _, p := range w {
			out[i] += p.text
		}
	}
	return out, nil
}

// word accumulates one word's pieces.
type word struct {
	pieces []piece
	lit    strings.Builder
}

func (w *word) flush() {
	if w.lit.Len() > 0 {
		w.pieces = append(w.pieces, piece{text: w.lit.String()})
		w.lit.Reset()
	}
}

// split is the tokenizer. With placeholders set, {name} outside quotes
// becomes a placeholder piece and {name} inside quotes is refused.
func split(s string, placeholders bool) ([][]piece, error) {
	var words [][]piece
	var cur *word
	start := func() {
		if cur == nil {
			cur = &word{}
		}
	}
	end := func() {
		if cur != nil {
			cur.flush()
			if len(cur.pieces) == 0 {
				cur.pieces = []piece{{}}
			}
			words = append(words, cur.pieces)
			cur = nil
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			end()
		case c == '\n' || c == '\r':
			return nil, errors.New("must be a single line")
		case c == '\'':
			start()
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			q := s[i+1 : i+1+j]
			if placeholders {
				if name := findPlaceholder(q); name != "" {
					return nil, quotedPlaceholder(name)
				}
			}
			cur.lit.WriteString(q)
			i += j + 1
		case c == '"':
			start()
			closed := false
			var q strings.Builder
			for i++; i < len(s); i++ {
				d := s[i]
				if d == '"' {
					closed = true
					break
				}
				if d == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
					q.WriteByte(s[i])
					continue
				}
				if d == '$' || d == '`' {
					return nil, fmt.Errorf("%q inside double quotes: the command runs without a shell, so nothing is expanded (use single quotes for a literal)", string(d))
				}
				q.WriteByte(d)
			}
			if !closed {
				return nil, errors.New("unterminated double quote")
			}
			if placeholders {
				if name := findPlaceholder(q.String()); name != "" {
					return nil, quotedPlaceholder(name)
				}
			}
			cur.lit.WriteString(q.String())
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			start()
			i++
			cur.lit.WriteByte(s[i])
		case strings.IndexByte("|&;<>()$`", c) >= 0:
			return nil, fmt.Errorf("unquoted %q: the command runs without a shell, so pipes, redirections, expansions and command lists do not work (quote it for a literal, or put the logic in a script)", string(c))
		case c == '{' && placeholders:
			start()
			name, n := placeholderAt(s[i:])
			if n == 0 {
				cur.lit.WriteByte(c)
				continue
			}
			if !slices.Contains(Placeholders, name) {
				return nil, fmt.Errorf("unknown placeholder {%s} (valid: {%s})", name, strings.Join(Placeholders, "}, {"))
			}
			cur.flush()
			cur.pieces = append(cur.pieces, piece{name: name})
			i += n - 1
		default:
			start()
			cur.lit.WriteByte(c)
		}
	}
	end()
	return words, nil
}

// placeholderAt reports the {lower_case} name at the start of s and its
// length in bytes, or 0 when s does not start with one.
func placeholderAt(s string) (string, int) {
	j := 1
	for j < len(s) && (s[j] == '_' || 'a' <= s[j] && s[j] <= 'z') {
		j++
	}
	if j == 1 || j >= len(s) || s[j] != '}' {
		return "", 0
	}
	return s[1:j], j + 1
}

func findPlaceholder(s string) string {
	for i := strings.IndexByte(s, '{'); i >= 0; {
		if name, n := placeholderAt(s[i:]); n > 0 && slices.Contains(Placeholders, name) {
			return name
		}
		k := strings.IndexByte(s[i+1:], '{')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return ""
}

func quotedPlaceholder(name string) error {
	return fmt.Errorf("{%s} inside quotes: write it unquoted, e.g. --x {%s}; its value is always passed as one argument whatever it holds", name, name)
}

func (t *Template) hasPlaceholder(i int) bool {
	return slices.ContainsFunc(t.words[i], func(p piece) bool { return p.name != "" })
}

func (t *Template) literal(i int) (string, bool) {
	if t.hasPlaceholder(i) {
		return "", false
	}
	var b strings.Builder
	for _, p := range t.words[i] {
		b.WriteString(p.text)
	}
	return b.String(), true
}
