package formats

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"perfpilot/engine"
)

// TestPlausibility: a row whose throughput and latency disagree with its
// batch by more than 2×, a value beyond physical sense, or a precision the
// catalog says its hardware lacks is refused naming the line and field;
// with AllowImplausible it is kept, flagged with the same reason. Rows
// within the bounds pass untouched.
func TestPlausibility(t *testing.T) {
	cat := engine.MustBuiltinCatalog()
	type tc struct {
		name, hw, prec string
		batch          int
		thr, lat, mem  float64
		wantField      string // "" when plausible
	}
	var cases []tc
	for _, batch := range []int{1, 8, 64} {
		for _, lat := range []float64{0.5, 10, 1e4} {
			for _, ratio := range []float64{0.01, 0.4, 0.49, 0.51, 1, 1.99, 2.01, 2.5, 100} {
				want := ""
				if ratio < 0.5 || ratio > 2 {
					want = "throughput"
				}
				thr := ratio * float64(batch) * 1000 / lat
				if thr > 1e9 || thr < 1e-6 {
					continue
				}
				cases = append(cases, tc{fmt.Sprintf("b%d lat %g ratio %g", batch, lat, ratio), "cpu", "fp32", batch, thr, lat, 0, want})
			}
		}
	}
	for _, c := range []tc{
		{"throughput above 1e9", "cuda", "fp16", 1, 2e9, 0, 0, "throughput"},
		{"throughput 1e9", "cuda", "fp16", 1, 1e9, 0, 0, ""},
		{"throughput below 1e-6", "cpu", "fp32", 1, 1e-7, 0, 0, "throughput"},
		{"throughput 1e-300", "cpu", "fp32", 1, 1e-300, 0, 0, "throughput"},
		{"throughput 1e-6", "cpu", "fp32", 1, 1e-6, 0, 0, ""},
		{"latency below 1 µs", "cpu", "fp32", 1, 0, 9e-4, 0, "latency_ms"},
		{"latency 1e-300", "cpu", "fp32", 1, 0, 1e-300, 0, "latency_ms"},
		{"latency 1 µs", "cpu", "fp32", 1, 0, 1e-3, 0, ""},
		{"latency above 1e9", "cpu", "fp32", 1, 0, 2e9, 0, "latency_ms"},
		{"memory above 1e9", "cpu", "fp32", 1, 0, 10, 2e9, "memory_mb"},
		{"memory 1e300", "cpu", "fp32", 1, 0, 10, 1e300, "memory_mb"},
		{"memory below 1 KB", "cpu", "fp32", 1, 0, 10, 1e-4, "memory_mb"},
		{"memory 1e-300", "cpu", "fp32", 1, 0, 10, 1e-300, "memory_mb"},
		{"memory 1 KB", "cpu", "fp32", 1, 0, 10, 1e-3, ""},
	} {
		cases = append(cases, c)
	}
	// Every precision every catalog device lacks.
	for _, id := range cat.HardwareIDs() {
		h := cat.Hardware(id)
		for _, p := range engine.Precisions {
			want := ""
			if !h.Supports(p) {
				want = "precision"
			}
			cases = append(cases, tc{id + " " + string(p), id, string(p), 1, 0, 10, 0, want})
		}
	}
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return fmt.Sprint(v)
	}
	implausible := 0
	for _, c := range cases {
		doc := "model_name,hardware,batch_size,precision,throughput,latency_ms,memory_mb\n" +
			fmt.Sprintf("bert-base-uncased,%s,%d,%s,%s,%s,%s\n", c.hw, c.batch, c.prec, num(c.thr), num(c.lat), num(c.mem))
		pf, err := ParseResults("f.csv", strings.NewReader(doc), cat, ParseOptions{})
		if c.wantField == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", c.name, err)
			} else if pf.Results[0].Flag != "" {
				t.Errorf("%s: flagged %q", c.name, pf.Results[0].Flag)
			}
			continue
		}
		implausible++
		var ie *ImportError
		if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), "f.csv:2: "+c.wantField+": implausible: ") {
			t.Errorf("%s: %v; want f.csv:2: %s: implausible: …", c.name, err, c.wantField)
			continue
		}
		pf, err = ParseResults("f.csv", strings.NewReader(doc), cat, ParseOptions{AllowImplausible: true})
		if err != nil || len(pf.Results) != 1 || "f.csv:2: "+c.wantField+": "+pf.Results[0].Flag != strings.SplitN(ie.Error(), " (check", 2)[0] {
			t.Errorf("%s with AllowImplausible: %v, %+v", c.name, err, pf)
		}
	}
	if implausible < 30 || len(cases)-implausible < 30 {
		t.Fatalf("%d implausible and %d plausible cases: too few of one", implausible, len(cases)-implausible)
	}
}
