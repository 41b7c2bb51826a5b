package store

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"perfpilot/engine"
)

// DefaultScriptTemplate is the seed's benchmark command, with precision.
const DefaultScriptTemplate = "python run_benchmark.py --model {model} --hardware {hardware} --batch-size {batch_size} --precision {precision} --output-dir {output_dir}"

// DefaultOutputDir is the seed's benchmark output folder.
const DefaultOutputDir = "benchmark_results"

// ScriptPlaceholders are the names a script template may use.
var ScriptPlaceholders = []string{"model", "hardware", "batch_size", "precision", "sequence_length", "output_dir"}

// ExportJSON renders the report in the seed-compatible shape (SPEC §4) with
// only the given rows as its recommendations.
func ExportJSON(rep *engine.Report, rows []engine.Recommendation) ([]byte, error) {
	if rep == nil {
		return nil, errors.New("export JSON: no report")
	}
	out := *rep
	out.Recommendations = rows
	if out.Recommendations == nil {
		out.Recommendations = []engine.Recommendation{}
	}
	out.FinalRecommendations = len(rows)
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// ExportCSV renders one line per recommendation with every scalar field,
// alternatives as "hw:score;hw:score", and the value and 80% interval of
// each predicted metric.
func ExportCSV(rows []engine.Recommendation, metric engine.Metric) ([]byte, error) {
	header := []string{"rank", "model_name", "model_type", "hardware", "batch_size", "precision", "sequence_length",
		"optimization_metric", "expected_information_gain", "uncertainty", "diversity", "recommended_hardware",
		"hardware_match", "hardware_score", "decision_value", "expected_improvement_pct", "combined_score", "alternatives"}
	for _, m := range []string{"throughput", "latency_ms", "memory_mb"} {
		header = append(header, "predicted_"+m, "predicted_"+m+"_low", "predicted_"+m+"_high", m+"_measured")
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, r := range rows {
		alts := make([]string, len(r.Alternatives))
		for i, a := range r.Alternatives {
			alts[i] = a.Hardware + ":" + f(a.Score)
		}
		rec := []string{strconv.Itoa(r.Rank), r.ModelName, r.ModelType, r.Hardware, strconv.Itoa(r.BatchSize),
			string(r.Precision), strconv.Itoa(r.SequenceLength), string(metric), f(r.ExpectedInformationGain),
			f(r.Uncertainty), f(r.Diversity), r.RecommendedHardware, strconv.FormatBool(r.HardwareMatch),
			f(r.HardwareScore), f(r.DecisionValue), f(r.ExpectedImprovementPct), f(r.CombinedScore), strings.Join(alts, ";")}
		for _, iv := range []engine.Interval{r.Predicted.Throughput, r.Predicted.LatencyMS, r.Predicted.MemoryMB} {
			rec = append(rec, f(iv.Value), f(iv.Low), f(iv.High), strconv.FormatBool(iv.Measured))
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("export CSV: %w", err)
	}
	return buf.Bytes(), nil
}

// segment is a piece of a parsed script template: literal text, or a
// placeholder when name is set.
type segment struct {
	text, name string
}

// parseTemplate splits a template into literals and {placeholders}. Only
// {lower_case_words} are placeholders, and "${...}" is left to the shell,
// so brace expansion and parameter expansion still work in templates.
func parseTemplate(tmpl string) ([]segment, error) {
	if strings.ContainsAny(tmpl, "\r\n") {
		return nil, errors.New("script template must be a single line")
	}
	var segs []segment
	lit := 0
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '{' || (i > 0 && tmpl[i-1] == '$') {
			continue
		}
		j := i + 1
		for j < len(tmpl) && (tmpl[j] == '_' || 'a' <= tmpl[j] && tmpl[j] <= 'z') {
			j++
		}
		if j == i+1 || j >= len(tmpl) || tmpl[j] != '}' {
			continue
		}
		name := tmpl[i+1 : j]
		known := false
		for _, p := range ScriptPlaceholders {
			known = known || p == name
		}
		if !known {
			return nil, fmt.Errorf("unknown placeholder {%s} in script template (valid: {%s})", name, strings.Join(ScriptPlaceholders, "}, {"))
		}
		segs = append(segs, segment{text: tmpl[lit:i]}, segment{name: name})
		lit = j + 1
		i = j
	}
	return append(segs, segment{text: tmpl[lit:]}), nil
}

// ExportScript renders a bash script with one benchmark command per row
// from the template (DefaultScriptTemplate when empty). Every substituted
// value is shell-quoted, so hostile names stay inert arguments.
func ExportScript(rows []engine.Recommendation, template, outputDir string) (string, error) {
	if template == "" {
		template = DefaultScriptTemplate
	}
	if outputDir == "" {
		outputDir = DefaultOutputDir
	}
	segs, err := parseTemplate(template)
	if err != nil {
		return "", fmt.Errorf("export script: %w", err)
	}
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\n# Benchmark commands generated by perfpilot.\nset -euo pipefail\n")
	for i, r := range rows {
		values := map[string]string{
			"model": r.ModelName, "hardware": r.Hardware, "batch_size": strconv.Itoa(r.BatchSize),
			"precision": string(r.Precision), "sequence_length": strconv.Itoa(r.SequenceLength), "output_dir": outputDir,
		}
		rank := r.Rank
		if rank == 0 {
			rank = i + 1
		}
		fmt.Fprintf(&b, "\n# %d. %s\n", rank, commentSafe(r.Config().String()))
		for _, s := range segs {
			if s.name == "" {
				b.WriteString(s.text)
			} else {
				b.WriteString(ShellQuote(values[s.name]))
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// ShellQuote returns s as one bash word: unchanged when it only holds
// characters no shell treats specially, else in single quotes, or in bash's
// $'...' form when it holds control characters, so a newline in a value
// cannot split a command over two lines.
func ShellQuote(s string) string {
	safe, control := s != "", false
	for i := 0; i < len(s); i++ {
		c := s[i]
		safe = safe && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_-./:@+,", c) >= 0)
		control = control || c < 0x20 || c == 0x7f
	}
	switch {
	case safe:
		return s
	case !control:
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c) // always two digits, so a following hex digit stays literal
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// commentSafe escapes control characters and Unicode line breaks so a
// value cannot end a comment line and start a command.
func commentSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// WriteFileAtomic writes data to path (mode 0644) so readers see the old
// file or the new one, never a partial one. Without force an existing file
// is left alone and the error wraps fs.ErrExist.
func WriteFileAtomic(path string, data []byte, force bool) error {
	return writeAtomic(path, data, 0o644, force)
}

// WriteScript writes a script from ExportScript atomically, executable.
func WriteScript(path, script string, force bool) error {
	return writeAtomic(path, []byte(script), 0o755, force)
}

func writeAtomic(path string, data []byte, perm fs.FileMode, force bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if force {
		if err = os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	} else {
		// A hard link appears atomically and fails if the name is taken,
		// so there is no window in which another writer's file is clobbered.
		if err = os.Link(tmpName, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("refusing to overwrite %s (use --force): %w", path, fs.ErrExist)
			}
			return fmt.Errorf("write %s: %w", path, err)
		}
		os.Remove(tmpName)
	}
	return syncDir(dir)
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
