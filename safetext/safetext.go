// Package safetext is perfpilot's one sanitiser for text that came from
// data (catalog and result ids, file contents, command output): it decides
// which ids are acceptable, shows any text on a terminal without letting it
// drive the terminal, and quotes bad values in error messages briefly.
// cmd and tui both use it; nothing from data is printed without it.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxID is the longest id accepted, in bytes.
const MaxID = 256

// MaxQuoted is how many characters of a bad value an error message quotes.
const MaxQuoted = 80

// Dangerous reports characters that must never reach a terminal raw: C0
// and C1 controls, DEL, and invisible format characters (bidi overrides
// and isolates, zero-width characters, BOM, line and paragraph separators)
// that reorder or hide what is shown.
func Dangerous(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// runeName names a dangerous character for an error message.
func runeName(r rune) string {
	names := map[rune]string{0: "NUL", '\t': "TAB", '\n': "LF", '\r': "CR", 0x1b: "ESC", 0x7f: "DEL",
		'\u202e': "RIGHT-TO-LEFT OVERRIDE", '\u202d': "LEFT-TO-RIGHT OVERRIDE", '\u200b': "ZERO WIDTH SPACE",
		'\u2066': "LEFT-TO-RIGHT ISOLATE", '\u2067': "RIGHT-TO-LEFT ISOLATE", '\u2068': "FIRST STRONG ISOLATE",
		'\u2069': "POP DIRECTIONAL ISOLATE", '\ufeff': "BYTE ORDER MARK"}
	if n, ok := names[r]; ok {
		return fmt.Sprintf("U+%04X (%s)", r, n)
	}
	return fmt.Sprintf("U+%04X", r)
}

// CheckID accepts an id (model, hardware, session or source name) that is
// safe to store, print and pass as an argument: valid UTF-8, 1 to MaxID
// bytes, no control or invisible format characters, no leading or trailing
// blank, and not starting with '-' (so it can never be read as an option).
// The error names the character and where it is.
func CheckID(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty")
	case len(s) > MaxID:
		return fmt.Errorf("%s is %d bytes long (at most %d)", Quote(s), len(s), MaxID)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", Quote(s))
	}
	for i, r := range s {
		if Dangerous(r) {
			return fmt.Errorf("%s contains the control character %s at byte %d", Quote(s), runeName(r), i)
		}
	}
	switch {
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%s starts or ends with a blank", Quote(s))
	case strings.HasPrefix(s, "-"):
		return fmt.Errorf("%s starts with '-' (it would read as an option)", Quote(s))
	}
	return nil
}

// Clean returns s fit for a terminal: every dangerous character is shown
// as a visible escape (\x1b, \u202e) instead of acting on the terminal, and
// invalid UTF-8 bytes as \xNN.
func Clean(s string) string {
	clean := true
	for _, r := range s {
		if Dangerous(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && Dangerous(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case Dangerous(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// CleanLines is Clean for multi-line text (an error, an exported file
// shown on a terminal): each line is cleaned and the newlines stay.
func CleanLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Clean(l)
	}
	return strings.Join(lines, "\n")
}

// Quote renders a value for an error message: Go-quoted (so every control
// character is escaped) and cut to MaxQuoted characters with an ellipsis
// and the full length.
func Quote(s string) string {
	if utf8.RuneCountInString(s) <= MaxQuoted {
		return fmt.Sprintf("%q", s)
	}
	r := []rune(s)
	return fmt.Sprintf("%q… (%d bytes)", string(r[:MaxQuoted]), len(s))
}

// CleanJSON escapes, inside JSON text, every dangerous character that
// encoding/json leaves raw (DEL, C1 controls, bidi and other format
// characters) as \uXXXX: the JSON means the same, and printing it cannot
// drive a terminal. encoding/json escapes C0 controls in strings, so a raw
// tab, CR or LF is layout between tokens and stays.
func CleanJSON(b []byte) []byte {
	inJSON := func(r rune) bool { return Dangerous(r) && r != '\n' && r != '\t' && r != '\r' }
	clean := true
	for _, r := range string(b) {
		if inJSON(r) {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for _, r := range string(b) {
		if inJSON(r) {
			if r == utf8.RuneError {
				r = '\ufffd'
			}
			out = fmt.Appendf(out, `\u%04x`, r)
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}
