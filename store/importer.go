package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"perfpilot/engine"
)

// ParsedFile is an import file that parsed and validated completely.
type ParsedFile struct {
	Name    string
	Format  string // "csv" or "json"
	Results []engine.Result
	// UnknownColumns are columns (CSV) or keys (JSON) that were ignored, in
	// order of first appearance.
	UnknownColumns []string
}

// RowError is one problem in an import file. Line 0 means the whole file.
type RowError struct {
	Line   int
	Field  string
	Reason string
}

// ImportError rejects a whole import file and lists every problem found.
type ImportError struct {
	File string
	Rows []RowError
}

// Error lists the problems one per line as FILE:LINE: FIELD: reason.
func (e *ImportError) Error() string {
	var b strings.Builder
	for i, r := range e.Rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		if r.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(r.Line))
		}
		b.WriteString(": ")
		if r.Field != "" {
			b.WriteString(r.Field)
			b.WriteString(": ")
		}
		b.WriteString(r.Reason)
	}
	return b.String()
}

// field is a canonical import column.
type field int

const (
	fModel field = iota
	fHardware
	fBatch
	fPrecision
	fSeq
	fThroughput
	fLatency
	fMemory
	fModelType
	fTimestamp
	fSource
	fStack
	nFields
)

var fieldNames = [nFields]string{"model_name", "hardware", "batch_size", "precision", "sequence_length",
	"throughput", "latency_ms", "memory_mb", "model_type", "timestamp", "source", "stack"}

// columnAliases maps every accepted column name (lower case) to its field:
// ours, and the seed system's names.
var columnAliases = map[string]field{
	"model_name": fModel, "model": fModel,
	"hardware": fHardware, "hardware_platform": fHardware,
	"batch_size":      fBatch,
	"precision":       fPrecision,
	"sequence_length": fSeq,
	"throughput":      fThroughput,
	"latency_ms":      fLatency, "latency": fLatency, "latency_mean": fLatency,
	"memory_mb": fMemory, "memory": fMemory, "memory_usage": fMemory,
	"model_type": fModelType, "category": fModelType,
	"timestamp": fTimestamp,
	"source":    fSource,
	"stack":     fStack,
}

const noMetricReason = "no metric: give at least one of throughput, latency_ms (or latency, latency_mean), memory_mb (or memory, memory_usage)"

// rawRow is one record's cells by field, before validation.
type rawRow struct {
	vals [nFields]string
	has  [nFields]bool
	line int
	// lines holds each field's physical line when it differs from line
	// (a quoted CSV cell spanning lines); 0 means line.
	lines [nFields]int
}

// parser holds the state shared by the CSV and JSON readers.
type parser struct {
	file     string
	cat      *engine.Catalog
	source   string
	out      ParsedFile
	errs     []RowError
	unknown  map[string]bool
	rowCount int
}

// ParseResults reads a CSV (with a header row) or JSON import file and
// validates every row against the catalog. Rows without a source get
// defaultSource, or "import:<base name>" when that is empty. A file with
// any bad row is rejected whole with an *ImportError listing all of them.
func ParseResults(name string, r io.Reader, cat *engine.Catalog, defaultSource string) (*ParsedFile, error) {
	if defaultSource == "" {
		defaultSource = "import:" + filepath.Base(name)
	}
	p := &parser{file: name, cat: cat, source: defaultSource, unknown: map[string]bool{}}
	p.out.Name = name
	br := bufio.NewReaderSize(r, 16<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	head, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(trimmed) == 0 && len(head) < 4096:
		return nil, p.fail(0, "", "empty file")
	case looksBinary(head, len(head) == 4096):
		return nil, p.fail(0, "", "not CSV or JSON (binary data)")
	case trimmed[0] == '[' || trimmed[0] == '{':
		p.out.Format = "json"
		err = p.readJSON(br)
	default:
		p.out.Format = "csv"
		err = p.readCSV(br)
	}
	if err != nil {
		return nil, err
	}
	if len(p.errs) == 0 && p.rowCount == 0 {
		p.errs = append(p.errs, RowError{Reason: "no rows"})
	}
	if len(p.errs) > 0 {
		return nil, &ImportError{File: name, Rows: p.errs}
	}
	return &p.out, nil
}

func (p *parser) fail(line int, field, reason string) error {
	return &ImportError{File: p.file, Rows: append(p.errs, RowError{Line: line, Field: field, Reason: reason})}
}

// looksBinary spots data no text format has: NUL bytes or invalid UTF-8.
// When the sample was cut short, a rune split at its end is not held
// against it.
func looksBinary(b []byte, truncated bool) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	if truncated {
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	return !utf8.Valid(b)
}

func (p *parser) noteUnknown(col string) {
	if !p.unknown[col] {
		p.unknown[col] = true
		p.out.UnknownColumns = append(p.out.UnknownColumns, col)
	}
}

// readCSV streams records; line numbers are physical file lines.
func (p *parser) readCSV(r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted per row below, so every bad row is reported
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return p.fail(0, "", "empty file")
	}
	if err != nil {
		return p.csvSyntax(err)
	}
	headerLine, _ := cr.FieldPos(0)
	cols := make([]field, len(header)) // -1 marks an ignored column
	seen := map[field]string{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		f, ok := columnAliases[name]
		if !ok {
			cols[i] = -1
			shown := strings.TrimSpace(h)
			if shown == "" {
				shown = fmt.Sprintf("(column %d, no name)", i+1)
			}
			p.noteUnknown(shown)
			continue
		}
		if prev, dup := seen[f]; dup {
			reason := "duplicated column"
			if prev != name {
				reason = fmt.Sprintf("columns %q and %q both give %s", prev, name, fieldNames[f])
			}
			p.errs = append(p.errs, RowError{Line: headerLine, Field: name, Reason: reason})
		}
		seen[f] = name
		cols[i] = f
	}
	for _, f := range []field{fModel, fHardware, fBatch} {
		if _, ok := seen[f]; !ok {
			p.errs = append(p.errs, RowError{Line: headerLine, Field: fieldNames[f], Reason: "missing required column"})
		}
	}
	_, t := seen[fThroughput]
	_, l := seen[fLatency]
	_, m := seen[fMemory]
	if !t && !l && !m {
		p.errs = append(p.errs, RowError{Line: headerLine, Reason: "no metric column: " + noMetricReason[len("no metric: "):]})
	}
	if len(p.errs) > 0 {
		return nil // a broken header makes every row's errors noise
	}
	var row rawRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// After a quoting error the record boundaries are unknown, so
			// what follows cannot be trusted; stop here.
			return p.csvSyntax(err)
		}
		p.rowCount++
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			p.errs = append(p.errs, RowError{Line: line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header))})
			continue
		}
		row = rawRow{line: line}
		for i, v := range rec {
			f := cols[i]
			if f < 0 {
				continue
			}
			row.vals[f], row.has[f] = v, true
			if fl, _ := cr.FieldPos(i); fl != line {
				row.lines[f] = fl
			}
		}
		p.addRow(&row)
	}
}

func (p *parser) csvSyntax(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return p.fail(pe.Line, "", "invalid CSV: "+pe.Err.Error())
	}
	return fmt.Errorf("read %s: %w", p.file, err)
}

// lineCounter passes bytes through and remembers where newlines are, so a
// decoder offset can be turned into a line number without keeping the file.
// Offsets must be asked for in increasing order.
type lineCounter struct {
	r       io.Reader
	read    int64
	nls     []int64 // newline offsets not yet passed
	counted int     // newlines before nls[0]
}

func (lc *lineCounter) Read(b []byte) (int, error) {
	n, err := lc.r.Read(b)
	chunk := b[:n]
	for off := 0; ; {
		i := bytes.IndexByte(chunk[off:], '\n')
		if i < 0 {
			break
		}
		lc.nls = append(lc.nls, lc.read+int64(off+i))
		off += i + 1
	}
	lc.read += int64(n)
	return n, err
}

func (lc *lineCounter) lineAt(off int64) int {
	i := 0
	for i < len(lc.nls) && lc.nls[i] < off {
		i++
	}
	lc.counted += i
	lc.nls = lc.nls[i:]
	return lc.counted + 1
}

// readJSON accepts a top-level array of objects, or an object holding such
// an array under "results", "benchmarks" or "recommendations".
func (p *parser) readJSON(r io.Reader) error {
	lc := &lineCounter{r: r}
	dec := json.NewDecoder(lc)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return p.jsonSyntax(lc, dec, err)
	}
	switch tok {
	case json.Delim('['):
		if err := p.readJSONArray(lc, dec); err != nil {
			return err
		}
	case json.Delim('{'):
		found := ""
		for dec.More() {
			ktok, err := dec.Token()
			if err != nil {
				return p.jsonSyntax(lc, dec, err)
			}
			key, _ := ktok.(string)
			line := lc.lineAt(dec.InputOffset())
			switch strings.ToLower(key) {
			case "results", "benchmarks", "recommendations":
				if found == "" {
					vtok, err := dec.Token()
					if err != nil {
						return p.jsonSyntax(lc, dec, err)
					}
					if vtok != json.Delim('[') {
						return p.fail(line, key, "expected an array of result objects")
					}
					found = key
					if err := p.readJSONArray(lc, dec); err != nil {
						return err
					}
					continue
				}
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return p.jsonSyntax(lc, dec, err)
			}
		}
		if _, err := dec.Token(); err != nil {
			return p.jsonSyntax(lc, dec, err)
		}
		if found == "" {
			return p.fail(1, "", `JSON object has no "results", "benchmarks" or "recommendations" array`)
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return p.fail(lc.lineAt(dec.InputOffset()), "", "invalid JSON: unexpected data after the top-level value")
	}
	return nil
}

// readJSONArray reads the elements after an opening '[' up to its ']'.
// Each element is decoded whole (one scan, no per-key tokens) and its raw
// length gives back the offset, and so the line, where it starts.
func (p *parser) readJSONArray(lc *lineCounter, dec *json.Decoder) error {
	var row rawRow
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return p.jsonSyntax(lc, dec, err)
		}
		p.rowCount++
		line := lc.lineAt(dec.InputOffset() - int64(len(raw)))
		var obj map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
			p.errs = append(p.errs, RowError{Line: line, Reason: "expected an object with a result"})
			continue
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys) // map order is random; errors and unknown keys must not be
		row = rawRow{line: line}
		var given [nFields]string
		nErrs := len(p.errs)
		for _, key := range keys {
			f, known := columnAliases[strings.ToLower(strings.TrimSpace(key))]
			if !known {
				p.noteUnknown(strings.TrimSpace(key))
				continue
			}
			v := obj[key]
			switch v[0] {
			case 'n': // null: treated as absent
				continue
			case '"':
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					p.errs = append(p.errs, RowError{Line: line, Field: key, Reason: err.Error()})
					continue
				}
				row.vals[f] = s
			case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				row.vals[f] = string(v)
			default:
				p.errs = append(p.errs, RowError{Line: line, Field: key, Reason: "expected a string or a number"})
				row.has[f] = true // given, if wrongly: not also "missing"
				continue
			}
			if row.has[f] {
				p.errs = append(p.errs, RowError{Line: line, Field: key, Reason: fmt.Sprintf("given twice (as %q and %q)", given[f], key)})
			}
			row.has[f], given[f] = true, key
		}
		for _, f := range []field{fModel, fHardware, fBatch} {
			if !row.has[f] {
				p.errs = append(p.errs, RowError{Line: line, Field: fieldNames[f], Reason: "missing"})
			}
		}
		if len(p.errs) == nErrs {
			p.addRow(&row)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return p.jsonSyntax(lc, dec, err)
	}
	return nil
}

func (p *parser) jsonSyntax(lc *lineCounter, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return p.fail(lc.lineAt(se.Offset), "", "invalid JSON: "+se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return p.fail(lc.lineAt(lc.read), "", "invalid JSON: unexpected end of file")
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return p.fail(lc.lineAt(ue.Offset), "", "invalid JSON: "+ue.Error())
	}
	return fmt.Errorf("read %s: %w", p.file, err)
}

// timeLayouts are the accepted timestamp forms; zone-less ones are UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// addRow validates one record and keeps it, or records every problem in it.
func (p *parser) addRow(row *rawRow) {
	nErrs := len(p.errs)
	bad := func(f field, format string, args ...any) {
		line := row.line
		if row.lines[f] > 0 {
			line = row.lines[f]
		}
		p.errs = append(p.errs, RowError{Line: line, Field: fieldNames[f], Reason: fmt.Sprintf(format, args...)})
	}
	val := func(f field) string { return strings.TrimSpace(row.vals[f]) }

	var res engine.Result
	res.Model, res.Hardware = val(fModel), val(fHardware)
	var model *engine.Model
	switch {
	case res.Model == "":
		bad(fModel, "empty")
	default:
		if model = p.cat.Model(res.Model); model == nil {
			bad(fModel, "unknown model %q: add it to a catalog file (--catalog)", res.Model)
		}
	}
	switch {
	case res.Hardware == "":
		bad(fHardware, "empty")
	case p.cat.Hardware(res.Hardware) == nil:
		bad(fHardware, "unknown hardware %q: add it to a catalog file (--catalog)", res.Hardware)
	}
	if n, ok := p.intField(fBatch, val(fBatch), bad); ok {
		if n <= 0 {
			bad(fBatch, "%d is not positive", n)
		}
		res.BatchSize = n
	}
	res.Precision = engine.FP32
	if s := val(fPrecision); s != "" {
		prec, err := engine.ParsePrecision(s)
		if err != nil {
			bad(fPrecision, "%v", err)
		}
		res.Precision = prec
	}
	if s := val(fSeq); s != "" {
		if n, ok := p.intField(fSeq, s, bad); ok {
			if n <= 0 {
				bad(fSeq, "%d is not positive", n)
			}
			res.SequenceLength = n
		}
	}
	measured := false
	for _, m := range []struct {
		f   field
		dst *float64
	}{{fThroughput, &res.Throughput}, {fLatency, &res.LatencyMS}, {fMemory, &res.MemoryMB}} {
		s := val(m.f)
		if s == "" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			bad(m.f, "%q is not a number", s)
		case err != nil || math.IsInf(v, 0) || math.IsNaN(v):
			bad(m.f, "%q is not a finite number", s)
		case v <= 0:
			bad(m.f, "%s is not positive", s)
		default:
			*m.dst = v
		}
		measured = true
	}
	if !measured {
		p.errs = append(p.errs, RowError{Line: row.line, Reason: noMetricReason})
	}
	res.ModelType = val(fModelType)
	if res.ModelType == "" && model != nil {
		res.ModelType = model.ModelType
	} else if res.ModelType != "" && !slices.Contains(engine.ModelTypes, res.ModelType) {
		bad(fModelType, "unknown model type %q (valid: %s)", res.ModelType, strings.Join(engine.ModelTypes, ", "))
	}
	if s := val(fTimestamp); s != "" {
		t, ok := parseImportTime(s)
		if !ok {
			bad(fTimestamp, "%q is not a time (use RFC 3339, \"2006-01-02 15:04:05\" or a date)", s)
		}
		res.Timestamp = t
	}
	res.Source = val(fSource)
	if res.Source == "" {
		res.Source = p.source
	}
	res.Stack = val(fStack)
	if len(p.errs) > nErrs {
		return
	}
	cfg, err := p.cat.Normalize(res.Config)
	if err != nil {
		p.errs = append(p.errs, RowError{Line: row.line, Reason: err.Error()})
		return
	}
	res.Config = cfg
	p.out.Results = append(p.out.Results, res)
}

// intField parses a whole number, accepting integral forms like "8.0".
func (p *parser) intField(f field, s string, bad func(field, string, ...any)) (int, bool) {
	if s == "" {
		bad(f, "empty")
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil && n >= math.MinInt32 && n <= math.MaxInt32 {
		return n, true
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		bad(f, "%q is not a number", s)
	case v != math.Trunc(v) || math.Abs(v) > math.MaxInt32:
		bad(f, "%q is not a whole number in range", s)
	default:
		return int(v), true
	}
	return 0, false
}

func parseImportTime(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// ImportSummary says what an import did.
type ImportSummary struct {
	File           string
	Format         string
	Rows           int // valid rows in the file
	Added          int
	Duplicates     int // exact duplicates of stored measurements, skipped
	UnknownColumns []string
}

// Import parses a results file and stores it in one transaction; a file
// with any bad row changes nothing (the error is an *ImportError).
func (db *DB) Import(ctx context.Context, name string, r io.Reader, cat *engine.Catalog, source string) (*ImportSummary, error) {
	pf, err := ParseResults(name, r, cat, source)
	if err != nil {
		return nil, err
	}
	added, dups, err := db.InsertResults(ctx, pf.Results)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", name, err)
	}
	return &ImportSummary{File: name, Format: pf.Format, Rows: len(pf.Results), Added: added, Duplicates: dups,
		UnknownColumns: pf.UnknownColumns}, nil
}
