package formats

import (
	"fmt"
	"strings"
	"testing"

	"perfpilot/engine"
)

// TestJSONDuplicateKeys: a key given twice in one object is an error at
// any depth — in a row, inside a value nested in a row, in the wrapper
// object or a member it does not read — naming the line and the key's
// path; the same key spelled with escapes is the same key. Two result
// arrays in one wrapper are an error too (one would be ignored).
func TestJSONDuplicateKeys(t *testing.T) {
	cat := engine.MustBuiltinCatalog()
	row := `"model_name": "gpt2", "hardware": "cpu", "batch_size": 1, "latency_ms": 10`
	// nest wraps a duplicated pair d levels deep inside an unknown field.
	nest := func(d int, pair string) string {
		s := "{" + pair + "}"
		for i := 0; i < d; i++ {
			if i%2 == 0 {
				s = `{"k` + fmt.Sprint(i) + `": ` + s + `}`
			} else {
				s = "[1, " + s + "]"
			}
		}
		return s
	}
	type tc struct{ name, doc, want string }
	var cases []tc
	for _, pair := range []string{`"a": 1, "a": 2`, `"a": 1, "\u0061": 2`, `"a": {}, "a": []`, `"x": null, "b": 1, "x": null`} {
		for d := 0; d < 6; d++ {
			v := nest(d, pair)
			cases = append(cases,
				tc{fmt.Sprintf("row extra %d %s", d, pair), "[\n{" + row + `, "extra": ` + v + "}\n]", "fuzz.json:2: extra."},
				tc{fmt.Sprintf("wrapper member %d %s", d, pair), "{\"meta\": " + v + ",\n\"results\": [{" + row + "}]}", "fuzz.json:1: meta"},
			)
		}
	}
	cases = append(cases,
		tc{"row key", "[{" + row + `, "latency_ms": 11}]`, "fuzz.json:1: latency_ms: duplicate key"},
		tc{"wrapper results twice", `{"results": [], "results": [{` + row + `}]}`, `fuzz.json:1: results: duplicate key`},
		tc{"wrapper meta twice", `{"meta": 1, "results": [{` + row + `}], "meta": 2}`, `fuzz.json:1: meta: duplicate key`},
		tc{"two result arrays", `{"results": [{` + row + `}], "Benchmarks": [{` + row + `}]}`, `two result arrays`},
	)
	for _, c := range cases {
		_, err := ParseResults("fuzz.json", strings.NewReader(c.doc), cat, ParseOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "duplicate key") && !strings.Contains(c.want, "two result") {
			t.Errorf("%s: %v; want an error containing %q and \"duplicate key\"\n%s", c.name, err, c.want, c.doc)
		}
	}
	// Equal keys in different objects are not duplicates.
	ok := `{"meta": {"a": 1, "b": {"a": 2}}, "results": [{` + row + `, "extra": [{"a": 1}, {"a": 2}]}]}`
	if _, err := ParseResults("fuzz.json", strings.NewReader(ok), cat, ParseOptions{}); err != nil {
		t.Errorf("distinct objects with the same keys: %v", err)
	}
}
