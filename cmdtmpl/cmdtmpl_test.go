package cmdtmpl

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"perfpilot/engine"
	"perfpilot/internal/hostile"
	"perfpilot/safetext"
)

func TestTemplateWords(t *testing.T) {
	cfg := engine.Config{Model: "bert-base-uncased", Hardware: "cpu", BatchSize: 8, Precision: engine.FP16, SequenceLength: 128}
	vals := Values(cfg, "out dir")
	tests := []struct {
		tmpl string
		want []string
	}{
		{"", []string{"python", "run_benchmark.py", "--model", "bert-base-uncased", "--hardware", "cpu", "--batch-size", "8",
			"--precision", "fp16", "--output-dir", "out dir"}},
		{`bench --tag=m:{model}/b{batch_size} --seq {sequence_length}`, []string{"bench", "--tag=m:bert-base-uncased/b8", "--seq", "128"}},
		{`'my bench' "a b" c\ d {model} x{hardware}y 'lit;$(x)' '{a,b}'`, []string{"my bench", "a b", "c d", "bert-base-uncased", "xcpuy", "lit;$(x)", "{a,b}"}},
		{`run --json '{"a": 1}' "say \"hi\" \$HOME"`, []string{"run", "--json", `{"a": 1}`, `say "hi" $HOME`}},
		{"  spaced\t\tout  ", []string{"spaced", "out"}},
		{`sh ./bench.sh {model}`, []string{"sh", "./bench.sh", "bert-base-uncased"}},
		{`timeout 10 python -u bench.py -e 5 {model}`, []string{"timeout", "10", "python", "-u", "bench.py", "-e", "5", "bert-base-uncased"}},
		{`env CUDA_VISIBLE_DEVICES=0 ./bench --m {model}`, []string{"env", "CUDA_VISIBLE_DEVICES=0", "./bench", "--m", "bert-base-uncased"}},
	}
	for _, tc := range tests {
		tm, err := Parse(tc.tmpl)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.tmpl, err)
			continue
		}
		got, err := tm.Argv(vals)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Argv(%q) = %q, %v; want %q", tc.tmpl, got, err, tc.want)
		}
	}
}

func TestTemplateRefused(t *testing.T) {
	for tmpl, want := range map[string]string{
		`bench {model}; rm -rf /`:            "unquoted",
		`bench {model} > out.txt`:            "unquoted",
		`bench {model} | tee x`:              "unquoted",
		`bench $HOME {model}`:                "unquoted",
		`bench "$HOME" {model}`:              "inside double quotes",
		"bench `id`":                         "unquoted",
		`bench 'open`:                        "unterminated single",
		`bench "open`:                        "unterminated double",
		`bench \`:                            "trailing backslash",
		"bench\n{model}":                     "single line",
		`{model} --x`:                        "program",
		`./{hardware}/bench`:                 "program",
		`bench --x {nope}`:                   "unknown placeholder",
		`sh -c 'bench {model}'`:              "inside quotes",
		`bash -ec "bench --m={model}"`:       "inside quotes",
		`x "{model}" '{hardware}'`:           "inside quotes",
		`sh -c bench\ {model}`:               "code flag",
		`sh -c 'exec bench "$1"' sh {model}`: "code flag",
		`timeout 10 sh -c true {model}`:      "code flag",
		`env sh -c x {model}`:                "code flag",
		`nice bash -c x {model}`:             "code flag",
		`xargs sh -c x {model}`:              "code flag",
		`busybox sh -c x {model}`:            "code flag",
		`python -c x={model}`:                "code flag",
		`python3.12 -I -c pass {model}`:      "code flag",
		`perl -e x {model}`:                  "code flag",
		`perl -ne x {model}`:                 "code flag",
		`node --eval=x {model}`:              "code flag",
		`ruby -e x {model}`:                  "code flag",
		`php -r x {model}`:                   "code flag",
		`env -S {model}`:                     "code flag",
		`su -c x nobody {model}`:             "code flag",
		`awk {model}`:                        "evaluates",
		`ssh host bench {model}`:             "evaluates",
		`make bench MODEL={model}`:           "evaluates",
		`timeout 10 {model}`:                 "program or script",
		`env A=1 {model} x`:                  "program or script",
		`python {model}`:                     "program or script",
		`nice -n 5 {output_dir}/bench`:       "program or script",
		`   `:                                "", // empty means the default: accepted
	} {
		_, err := Parse(tmpl)
		if want == "" {
			if err != nil {
				t.Errorf("Parse(%q): %v", tmpl, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want error with %q", tmpl, err, want)
		}
	}
}

// Substituted values stay inside their word whatever they hold, values are
// not substituted twice, and Display quotes them so the template splitter
// (a shell subset) reads the same argv back.
func TestTemplateHostileValues(t *testing.T) {
	tm, err := Parse(`bench --model {model} --hw=[{hardware}] {output_dir}`)
	if err != nil {
		t.Fatal(err)
	}
	hostile := []string{`$(touch x)`, "a; rm -rf /", `it's "quoted"`, "back`tick`", "new\nline", "{hardware}", "  ", "", "-rf", `\`}
	for _, v := range hostile {
		argv, err := tm.Argv(map[string]string{"model": v, "hardware": v, "output_dir": v})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"bench", "--model", v, "--hw=[" + v + "]", v}
		if !slices.Equal(argv, want) {
			t.Errorf("value %q: argv %q, want %q", v, argv, want)
		}
		if strings.Contains(v, "\n") {
			continue // a newline cannot be shown on one template line
		}
		back, err := Split(Line(argv))
		if err != nil || !slices.Equal(back, argv) {
			t.Errorf("value %q: Display %s reads back as %q, %v", v, Line(argv), back, err)
		}
	}
}

// Any value substituted into any accepted template stays one argument, and
// the displayed command reads back as the same argv.
func FuzzTemplateValues(f *testing.F) {
	f.Add(`bench --m={model} {hardware}`, `$(touch x); 'q' "d"`)
	f.Fuzz(func(t *testing.T, tmpl, v string) {
		tm, err := Parse(tmpl)
		if err != nil {
			return
		}
		vals, blank := map[string]string{}, map[string]string{}
		for _, name := range Placeholders {
			vals[name], blank[name] = v, ""
		}
		argv, err := tm.Argv(vals)
		if err != nil {
			t.Fatal(err)
		}
		empty, _ := tm.Argv(blank)
		if len(argv) != len(empty) {
			t.Fatalf("value %q changed the word count: %q", v, argv)
		}
		if strings.ContainsAny(v, "\n\r") || strings.Contains(Line(argv), "$'") {
			return // control characters display in $'…', which the splitter does not read
		}
		back, err := Split(Line(argv))
		if err != nil || !slices.Equal(back, argv) {
			t.Fatalf("%q with %q: display %s reads back as %q, %v", tmpl, v, Line(argv), back, err)
		}
	})
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"bert-base-uncased", "bert-base-uncased"},
		{"facebook/opt-125m", "facebook/opt-125m"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"x=1", "'x=1'"},
		{"~root", "'~root'"},
		{"a\nb'\\\x7f1", `$'a\x0ab\'\\\x7f1'`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// Quote never lets a character that can drive or fool a terminal (C0 and
// C1 controls, bidi overrides and isolates, zero-width and other invisible
// format characters, invalid UTF-8) into a script or a shown command raw:
// each is written as $'\xHH' bytes, which bash reads back exactly.
func TestQuoteEscapesInvisibles(t *testing.T) {
	var values []string
	for _, r := range []rune{0x80, 0x85, 0x9b, 0x9f, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x2060, 0xfeff, 0xfff9} {
		values = append(values, "a"+string(r)+"b")
	}
	for r := rune(0x202a); r <= 0x202e; r++ {
		values = append(values, "evil"+string(r)+"txt.exe")
	}
	for r := rune(0x2066); r <= 0x2069; r++ {
		values = append(values, string(r)+"x")
	}
	values = append(values, "bad\xffutf8", "\xe2\x80", "模型\u202e名", "it's\u202e", "a\x1b[2Jb")
	values = append(values, hostile.Terminal()...)
	bash, _ := exec.LookPath("bash")
	for _, v := range values {
		q := Quote(v)
		if safetext.Clean(q) != q {
			t.Errorf("Quote(%q) = %q holds a raw invisible or control character", v, q)
		}
		if bash == "" || strings.ContainsRune(v, 0) {
			continue
		}
		out, err := exec.Command(bash, "-c", "printf %s "+q).Output()
		if err != nil || string(out) != v {
			t.Errorf("bash reads Quote(%q) = %s back as %q (%v)", v, q, out, err)
		}
	}
	if got, want := Quote("bidi\u202eexe"), `$'bidi\xe2\x80\xaeexe'`; got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
}
