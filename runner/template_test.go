package runner

import (
	"slices"
	"strings"
	"testing"

	"perfpilot/engine"
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
		{`'my bench' "a b" c\ d '{model}' "x{hardware}y" 'lit;$(x)'`, []string{"my bench", "a b", "c d", "bert-base-uncased", "xcpuy", "lit;$(x)"}},
		{`run --json '{"a": 1}' "say \"hi\" \$HOME"`, []string{"run", "--json", `{"a": 1}`, `say "hi" $HOME`}},
		{"  spaced\t\tout  ", []string{"spaced", "out"}},
		{`sh ./bench.sh {model}`, []string{"sh", "./bench.sh", "bert-base-uncased"}},
		{`sh -c 'exec bench "$1"' sh {model}`, []string{"sh", "-c", `exec bench "$1"`, "sh", "bert-base-uncased"}},
	}
	for _, tc := range tests {
		tm, err := ParseTemplate(tc.tmpl)
		if err != nil {
			t.Errorf("ParseTemplate(%q): %v", tc.tmpl, err)
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
		`bench {model}; rm -rf /`:       "unquoted",
		`bench {model} > out.txt`:       "unquoted",
		`bench {model} | tee x`:         "unquoted",
		`bench $HOME {model}`:           "unquoted",
		`bench "$HOME" {model}`:         "inside double quotes",
		"bench `id`":                    "unquoted",
		`bench 'open`:                   "unterminated single",
		`bench "open`:                   "unterminated double",
		`bench \`:                       "trailing backslash",
		"bench\n{model}":                "single line",
		`{model} --x`:                   "program",
		`./{hardware}/bench`:            "program",
		`bench --x {nope}`:              "unknown placeholder",
		`sh -c 'bench {model}'`:         "-c script",
		`bash -ec "bench --m={model}"`:  "-c script",
		`/bin/sh -c "bench {hardware}"`: "-c script",
		`   `:                           "", // empty means the default: accepted
	} {
		_, err := ParseTemplate(tmpl)
		if want == "" {
			if err != nil {
				t.Errorf("ParseTemplate(%q): %v", tmpl, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTemplate(%q) = %v; want error with %q", tmpl, err, want)
		}
	}
}

// Substituted values stay inside their word whatever they hold, values are
// not substituted twice, and Display quotes them so the template splitter
// (a shell subset) reads the same argv back.
func TestTemplateHostileValues(t *testing.T) {
	tm, err := ParseTemplate(`bench --model {model} --hw=[{hardware}] {output_dir}`)
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
		back, err := splitWords(Display(argv))
		if err != nil || !slices.Equal(back, argv) {
			t.Errorf("value %q: Display %s reads back as %q, %v", v, Display(argv), back, err)
		}
	}
}
