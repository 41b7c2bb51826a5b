package runner

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// Whatever a command prints, parsing never fails on it and never yields a
// metric that is not a positive finite number.
func FuzzParseOutput(f *testing.F) {
	for _, s := range []string{`{"throughput": 1e308, "latency_ms": 1e-320}`, "Latency: 1e400 s", "Memory: .5 GiB", "Throughput: -0 it/s", "{}}{{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok, err := ParseOutput(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{m.Throughput, m.LatencyMS, m.MemoryMB} {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q: metric %v", s, v)
			}
		}
		if ok != m.Any() {
			t.Fatalf("%q: ok %v with %+v", s, ok, m)
		}
	})
}

// Any value substituted into any accepted template stays one argument, and
// the displayed command reads back as the same argv.
func FuzzTemplateValues(f *testing.F) {
	f.Add(`bench --m={model} '{hardware}'`, `$(touch x); 'q' "d"`)
	f.Fuzz(func(t *testing.T, tmpl, v string) {
		tm, err := ParseTemplate(tmpl)
		if err != nil {
			return
		}
		vals := map[string]string{"model": v, "hardware": v, "batch_size": v, "precision": v, "sequence_length": v, "output_dir": v}
		argv, err := tm.Argv(vals)
		if err != nil {
			t.Fatal(err)
		}
		empty, _ := tm.Argv(map[string]string{"model": "", "hardware": "", "batch_size": "", "precision": "", "sequence_length": "", "output_dir": ""})
		if len(argv) != len(empty) {
			t.Fatalf("value %q changed the word count: %q", v, argv)
		}
		if strings.ContainsAny(v, "\n\r") || strings.Contains(Display(argv), "$'") {
			return // control characters display in $'…', which the splitter does not read
		}
		back, err := splitWords(Display(argv))
		if err != nil || !slices.Equal(back, argv) {
			t.Fatalf("%q with %q: display %s reads back as %q, %v", tmpl, v, Display(argv), back, err)
		}
	})
}
