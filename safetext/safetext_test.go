package safetext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckID(t *testing.T) {
	good := []string{"bert-base-uncased", "meta-llama/Llama-2-7b-hf", "my gpu (A100)", "日本語モデル", "a$(b)c", "x;y"}
	for _, s := range good {
		if err := CheckID(s); err != nil {
			t.Errorf("CheckID(%q) = %v", s, err)
		}
	}
	bad := map[string]string{
		"":                       "empty",
		"a\x1b[31mred":           "U+001B (ESC) at byte 1",
		"nul\x00":                "U+0000 (NUL)",
		"two\nlines":             "U+000A (LF)",
		"cr\rx":                  "U+000D (CR)",
		"tab\tx":                 "U+0009 (TAB)",
		"evil\u202etxt.exe":      "RIGHT-TO-LEFT OVERRIDE",
		"zw\u200bsp":             "U+200B",
		"c1\u0085x":              "U+0085",
		"-rf":                    "starts with '-'",
		" padded":                "blank",
		"bad\xffutf8":            "not valid UTF-8",
		strings.Repeat("a", 300): "300 bytes long",
	}
	for s, want := range bad {
		err := CheckID(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckID(%q) = %v, want it to mention %q", s, err, want)
		}
	}
}

func TestCleanLeavesNothingDangerous(t *testing.T) {
	for _, s := range []string{"plain", "\x1b]0;title\x07", "a\u202eb", "\x9b31m", "bad\xff\xfe", "line\nbreak", "\u2028x\u2029"} {
		c := Clean(s)
		for _, r := range c {
			if Dangerous(r) {
				t.Errorf("Clean(%q) = %q still holds %U", s, c, r)
			}
		}
		if !utf8.ValidString(c) {
			t.Errorf("Clean(%q) = %q is not valid UTF-8", s, c)
		}
	}
	if Clean("bert-base-uncased") != "bert-base-uncased" {
		t.Error("Clean changed a plain id")
	}
}

func TestQuoteIsShort(t *testing.T) {
	q := Quote(strings.Repeat("x", 10000))
	if len(q) > 120 || !strings.Contains(q, "10000 bytes") {
		t.Errorf("Quote of a long value: %q", q)
	}
}

func TestCleanJSONStaysEquivalent(t *testing.T) {
	in := map[string]string{"id": "a\u202eb\x7fc\u0085d", "plain": "x"}
	raw, _ := json.MarshalIndent(in, "", "  ")
	out := CleanJSON(raw)
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["id"] != in["id"] || back["plain"] != "x" {
		t.Fatalf("CleanJSON changed the meaning: %s (%v)", out, err)
	}
	for _, r := range string(out) {
		if Dangerous(r) && r != '\n' {
			t.Fatalf("CleanJSON left %U in %s", r, out)
		}
	}
}
