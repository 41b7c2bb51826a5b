// Package hostile generates hostile input for perfpilot's safety tests
// (README "Safety"): values that try to reach a shell, an interpreter, a terminal,
// a spreadsheet or a parser's limits. Every value that could run a command
// runs `touch CANARY`, so a test only has to check that the canary file
// never appears.
package hostile

import (
	"fmt"
	"strings"
)

// Injections are values that would create canary if any shell, interpreter
// or expansion ever evaluated them: each way into a shell, written to break
// out of a bare word, a single-quoted string and a double-quoted string,
// plus code for interpreters and option injection.
func Injections(canary string) []string {
	cmd := "touch " + canary
	ways := []string{
		"$(" + cmd + ")",
		"`" + cmd + "`",
		"; " + cmd + ";",
		"| " + cmd + " #",
		"&& " + cmd + " #",
		"\n" + cmd + "\n",
		"$(x=" + canary + ";touch $x)",
		";${IFS}touch${IFS}" + canary + ";",
		"& " + cmd + " #",
	}
	var out []string
	for _, w := range ways {
		out = append(out, w, "'"+w+"'", `"`+w+`"`)
	}
	return append(out,
		"__import__('os').system('"+cmd+"')",
		"system('"+cmd+"')",
		"-e system('"+cmd+"')",
		"--output="+canary,
		"{model}$("+cmd+")",
	)
}

// Terminal are values that would act on a terminal if printed raw:
// escape sequences, C0 and C1 controls, bidi overrides, invisible marks.
func Terminal() []string {
	return []string{
		"\x1b[2J\x1b[Hcleared", "\x1b]0;pwned\x07", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "nul\x00byte",
		"cr\roverwrite", "tab\there", "del\x7fete", "c1\u009b31mred", "bidi\u202eexe.txt", "iso\u2066late\u2069",
		"zero\u200bwidth", "bom\ufeff", "line\u2028sep", "bell\a", "bs\b\b\bx", "\x1bP+q\x1b\\", "vt\vff\f",
	}
}

// Spreadsheet are cells a spreadsheet would run as formulas.
func Spreadsheet() []string {
	return []string{"=1+1", "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", "=HYPERLINK(\"http://x\")"}
}

// Numbers are hostile numeric texts for flags and fields.
func Numbers() []string {
	return []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "infinity", "-1", "-0.5", "1e309", "-1e309", "0x1p-2000",
		"1e-400", "", " ", "1,5", "1_000", "0x10", "٣", "1e", "--1", "9999999999999999999999"}
}

// Long returns a value of n bytes.
func Long(n int) string { return strings.Repeat("a", n) }

// All is every generated value for a surface that takes text.
func All(canary string) []string {
	out := append(Injections(canary), Terminal()...)
	out = append(out, Spreadsheet()...)
	return append(out, Long(100_000), "", " ", "-rf", "--help", "模型/名前", "e\u0301\u0301\u0301", fmt.Sprintf("%0300d", 7))
}
