package common

import (
	"strings"

	"perfpilot/safetext"
)

// Safe renders text that came from data (stored ids, file names, error
// messages quoting them, command output) so that it cannot drive the
// terminal: control characters, escape sequences and bidi overrides are
// shown escaped (\x1b, \u202e) by the project's one sanitiser,
// safetext.Clean. Tabs become spaces so columns stay aligned.
func Safe(s string) string { return safetext.Clean(strings.ReplaceAll(s, "\t", "    ")) }

// SafeLine is Safe for one line of a command's output: only what follows
// its last carriage return is shown (progress bars redraw with \r).
func SafeLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	return Safe(s)
}
