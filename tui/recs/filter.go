package recs

import (
	"strconv"
	"strings"
)

// Match reports whether a row matches a lower-cased filter. Every word
// must match: "b:8" (or batch:8) the batch size, "p:int8" the precision,
// "hw:cuda" the hardware, "m:gpt" the model, and a plain word any of
// model, type, hardware, backend or precision. backend maps a hardware id
// to its backend (catalog hardware such as a100 runs on cuda).
func Match(r rec, q string, backend func(string) string) bool {
	for _, w := range strings.Fields(q) {
		if !matchWord(r, w, backend) {
			return false
		}
	}
	return true
}

func matchWord(r rec, w string, backend func(string) string) bool {
	field, val, ok := strings.Cut(w, ":")
	if !ok {
		return strings.Contains(searchText(r, backend), w)
	}
	switch field {
	case "b", "batch":
		n, err := strconv.Atoi(val)
		return err == nil && r.BatchSize == n
	case "p", "prec", "precision":
		return string(r.Precision) == val
	case "hw", "hardware":
		return strings.ToLower(r.Hardware) == val || backendOf(r.Hardware, backend) == val
	case "m", "model":
		return strings.Contains(strings.ToLower(r.ModelName), val)
	}
	return strings.Contains(searchText(r, backend), w)
}

func backendOf(hw string, backend func(string) string) string {
	if backend == nil {
		return ""
	}
	return strings.ToLower(backend(hw))
}

// searchText is what a plain word matches against.
func searchText(r rec, backend func(string) string) string {
	return strings.ToLower(r.ModelName + " " + r.ModelType + " " + r.Hardware + " " + backendOf(r.Hardware, backend) + " " + string(r.Precision))
}

// search is the table's fallback text (unused when Match is set, kept so
// the table has one).
func search(r rec) string { return searchText(r, nil) }
