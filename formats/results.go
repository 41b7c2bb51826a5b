package formats

import (
	"bufio"
	"bytes"
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
	"perfpilot/safetext"
)

// ParsedFile is an import file that parsed and validated completely.
type ParsedFile struct {
	Name    string
	Format  string // "csv" or "json"
	Results []engine.Result
	// Lines holds the file line each result came from (Lines[i] for
	// Results[i]).
	Lines []int
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
	// Text generation (formats/generation.go).
	fPhase
	fGPUs
	fParallelism
	fPrompt
	fOutput
	fContext
	fContextSize
	fTokensPerS
	fPrecisionLabel
	fWeightBits
	fKVCache
	nFields
)

var fieldNames = [nFields]string{"model_name", "hardware", "batch_size", "precision", "sequence_length",
	"throughput", "latency_ms", "memory_mb", "model_type", "timestamp", "source", "stack",
	"phase", "gpu_count", "parallelism", "prompt_tokens", "output_tokens", "decode_context_mean", "context_size",
	"tokens_per_s", "precision_label", "weight_bits", "kv_cache_dtype"}

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
	"stack":     fStack, "engine": fStack,
	"phase":     fPhase,
	"gpu_count": fGPUs, "num_gpus": fGPUs,
	"parallelism": fParallelism, "split_mode": fParallelism,
	"prompt_tokens": fPrompt, "input_tokens": fPrompt,
	"output_tokens": fOutput, "generated_tokens": fOutput,
	"decode_context_mean": fContext, "context_tokens": fContext,
	"context_size": fContextSize, "n_ctx": fContextSize,
	"tokens_per_s": fTokensPerS, "tokens_per_second": fTokensPerS,
	"precision_label": fPrecisionLabel, "quantization": fPrecisionLabel,
	"weight_bits": fWeightBits, "bits_per_weight": fWeightBits,
	"kv_cache_dtype": fKVCache,
}

const noMetricReason = "no metric: give at least one of throughput, latency_ms (or latency, latency_mean), memory_mb (or memory, memory_usage), tokens_per_s"

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
	opts     ParseOptions
	out      ParsedFile
	errs     []RowError
	unknown  map[string]bool
	rowCount int
	limit    *recordLimit
}

// ParseOptions configure ParseResults.
type ParseOptions struct {
	// Source labels rows without one ("import:<base name>" when empty).
	Source string
	// AllowImplausible keeps rows that fail the plausibility checks,
	// flagged with the reason, instead of rejecting the file.
	AllowImplausible bool
}

// MaxRecord bounds one CSV record or JSON element, in bytes, so a huge line
// ends in an error after reading about this much instead of filling memory.
const MaxRecord = 1 << 20

// Physical limits of the plausibility check: beyond them a
// measurement is a unit or typing error.
const (
	maxThroughput = 1e9  // items/s
	minThroughput = 1e-6 // one item in 11.6 days: the slowest latency allows
	minLatencyMS  = 1e-3 // 1 µs
	maxLatencyMS  = 1e9  // 11.6 days
	minMemoryMB   = 1e-3 // 1 KB
	maxMemoryMB   = 1e9  // 1 PB
	// consistency bounds measured throughput / (batch × 1000 / latency).
	consistency = 2.0
)

// ParseResults reads a CSV (with a header row) or JSON import file and
// validates every row against the catalog. A file with any bad row is
// rejected whole with an *ImportError listing all of them.
func ParseResults(name string, r io.Reader, cat *engine.Catalog, opts ParseOptions) (*ParsedFile, error) {
	if opts.Source == "" {
		opts.Source = "import:" + filepath.Base(name)
	}
	p := &parser{file: name, cat: cat, opts: opts, unknown: map[string]bool{}}
	if err := safetext.CheckID(opts.Source); err != nil {
		return nil, p.fail(0, "source", err.Error())
	}
	p.out.Name = name
	p.limit = &recordLimit{r: r, line: 1}
	br := bufio.NewReaderSize(p.limit, 16<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	head, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, p.readErr(err)
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

// recordLimit fails a read once more than MaxRecord bytes (plus the
// readers' buffers) were read past the start of the current record, which
// the parser advances with mark.
type recordLimit struct {
	r        io.Reader
	read, at int64
	line     int // where the current record starts, for the error
	tooLong  bool
}

var errRecordTooLong = fmt.Errorf("a record is longer than %d bytes (is this a results file?)", MaxRecord)

func (l *recordLimit) Read(b []byte) (int, error) {
	if l.read-l.at > MaxRecord+64<<10 {
		l.tooLong = true
		return 0, errRecordTooLong
	}
	n, err := l.r.Read(b)
	l.read += int64(n)
	return n, err
}

func (l *recordLimit) mark(offset int64, line int) { l.at, l.line = offset, line }

// readErr turns a read failure into the file's error.
func (p *parser) readErr(err error) error {
	if errors.Is(err, errRecordTooLong) {
		return p.fail(p.limit.line, "", errRecordTooLong.Error())
	}
	return fmt.Errorf("read %s: %w", p.file, err)
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
	lc := &lineCounter{r: r}
	cr := csv.NewReader(lc)
	cr.FieldsPerRecord = -1 // counted per row below, so every bad row is reported
	cr.ReuseRecord = true
	header, err := cr.Read()
	p.limit.mark(cr.InputOffset(), lc.lineAt(cr.InputOffset()))
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
	_, tps := seen[fTokensPerS]
	if !t && !l && !m && !tps {
		p.errs = append(p.errs, RowError{Line: headerLine, Reason: "no metric column: " + noMetricReason[len("no metric: "):]})
	}
	if len(p.errs) > 0 {
		return nil // a broken header makes every row's errors noise
	}
	var row rawRow
	for {
		rec, err := cr.Read()
		// The csv reader reads ahead through its own buffer; the offset is
		// what it consumed, the limit allows for the rest.
		p.limit.mark(cr.InputOffset(), lc.lineAt(cr.InputOffset()))
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
	if errors.As(err, &pe) && !errors.Is(err, errRecordTooLong) {
		return p.fail(pe.Line, "", "invalid CSV: "+pe.Err.Error())
	}
	return p.readErr(err)
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
		seen := map[string]bool{}
		for dec.More() {
			p.limit.mark(dec.InputOffset(), lc.lineAt(valueStart(dec)))
			ktok, err := dec.Token()
			if err != nil {
				return p.jsonSyntax(lc, dec, err)
			}
			key, _ := ktok.(string)
			line := lc.lineAt(dec.InputOffset())
			if seen[key] {
				return p.fail(line, key, "duplicate key")
			}
			seen[key] = true
			switch strings.ToLower(key) {
			case "results", "benchmarks", "recommendations":
				if found != "" {
					return p.fail(line, key, fmt.Sprintf("two result arrays (%q and %q): keep one", found, key))
				}
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
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return p.jsonSyntax(lc, dec, err)
			}
			if dup := firstDuplicate(skip); dup != "" {
				return p.fail(line, key+"."+dup, "duplicate key")
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

// valueStart is where the decoder's next value begins: past the blanks and
// the comma it has buffered but not consumed (as far as its buffer shows),
// so that a record too long to read is reported at its own line.
func valueStart(dec *json.Decoder) int64 {
	off := dec.InputOffset()
	r := dec.Buffered()
	var b [1]byte
	for {
		if n, _ := r.Read(b[:]); n == 0 {
			return off
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
}

// readJSONArray reads the elements after an opening '[' up to its ']'.
// Each element is decoded whole (one scan, no per-key tokens) and its raw
// length gives back the offset, and so the line, where it starts.
func (p *parser) readJSONArray(lc *lineCounter, dec *json.Decoder) error {
	var row rawRow
	for dec.More() {
		var raw json.RawMessage
		p.limit.mark(dec.InputOffset(), lc.lineAt(valueStart(dec)))
		if err := dec.Decode(&raw); err != nil {
			return p.jsonSyntax(lc, dec, err)
		}
		p.rowCount++
		line := lc.lineAt(dec.InputOffset() - int64(len(raw)))
		keys, obj, dup := objectKeys(raw)
		if obj == nil {
			p.errs = append(p.errs, RowError{Line: line, Reason: "expected an object with a result"})
			continue
		}
		if dup != "" {
			p.errs = append(p.errs, RowError{Line: line, Field: dup, Reason: "duplicate key"})
			continue
		}
		slices.Sort(keys) // errors and unknown keys come out in a fixed order
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

// objectKeys decodes one JSON object's members in order. It returns nil
// when raw is not an object, and the path of the first key given twice in
// it or in any object nested in it, if any: the standard decoder would
// silently keep the last one.
func objectKeys(raw json.RawMessage) (keys []string, obj map[string]json.RawMessage, dup string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, ""
	}
	obj = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return nil, nil, ""
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, ""
		}
		if dup == "" {
			if _, seen := obj[key]; seen {
				dup = key
			} else if len(v) > 0 && (v[0] == '{' || v[0] == '[') { // only nested values can hide one
				if d := firstDuplicate(v); d != "" {
					dup = key + "." + d
				}
			}
		}
		obj[key] = v
		keys = append(keys, key)
	}
	return keys, obj, dup
}

// firstDuplicate returns the path ("extra.a") of the first key given twice
// in one object anywhere inside a JSON value, or "": encoding/json would
// silently keep the last, and a file that says two things is refused.
func firstDuplicate(raw []byte) string {
	type frame struct {
		keys     map[string]bool // nil for an array
		path     string          // of this object or array
		cur      string          // path of the member being read
		wantsKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var stack []*frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			stack[n-1].wantsKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "" // the decoder that reads the value reports syntax errors
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if top != nil && top.keys != nil && top.wantsKey {
			if key, ok := tok.(string); ok {
				top.cur = key
				if top.path != "" {
					top.cur = top.path + "." + key
				}
				if top.keys[key] {
					return top.cur
				}
				top.keys[key], top.wantsKey = true, false
				continue
			}
		}
		path := ""
		if top != nil {
			path = top.path
			if top.keys != nil {
				path = top.cur
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, path: path, wantsKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{path: path})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		valueDone()
		if len(stack) == 0 {
			return ""
		}
	}
}

func (p *parser) jsonSyntax(lc *lineCounter, dec *json.Decoder, err error) error {
	if errors.Is(err, errRecordTooLong) {
		return p.readErr(err)
	}
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
	return p.readErr(err)
}

// minYear and maxYear bound a measurement's timestamp.
const minYear, maxYear = 1970, 2200

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
	var hw *engine.Hardware
	switch {
	case res.Model == "":
		bad(fModel, "empty")
	case safetext.CheckID(res.Model) != nil:
		bad(fModel, "%v", safetext.CheckID(res.Model))
	default:
		if model = p.cat.Model(res.Model); model == nil {
			bad(fModel, "unknown model %s: add it to a catalog file (--catalog)", safetext.Quote(res.Model))
		}
	}
	switch {
	case res.Hardware == "":
		bad(fHardware, "empty")
	case safetext.CheckID(res.Hardware) != nil:
		bad(fHardware, "%v", safetext.CheckID(res.Hardware))
	default:
		if hw = p.cat.Hardware(res.Hardware); hw == nil {
			bad(fHardware, "unknown hardware %s: add it to a catalog file (--catalog)", safetext.Quote(res.Hardware))
		}
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
			bad(m.f, "%s is not a number", safetext.Quote(s))
		case err != nil || math.IsInf(v, 0) || math.IsNaN(v):
			bad(m.f, "%s is not a finite number", safetext.Quote(s))
		case v <= 0:
			bad(m.f, "%s is not positive", s)
		default:
			*m.dst = v
		}
		measured = true
	}
	if p.generationFields(val, &res, bad) {
		measured = true
	}
	if !measured {
		p.errs = append(p.errs, RowError{Line: row.line, Reason: noMetricReason})
	}
	res.ModelType = val(fModelType)
	if res.ModelType == "" && model != nil {
		res.ModelType = model.ModelType
	} else if res.ModelType != "" && !slices.Contains(engine.ModelTypes, res.ModelType) {
		bad(fModelType, "unknown model type %s (valid: %s)", safetext.Quote(res.ModelType), strings.Join(engine.ModelTypes, ", "))
	}
	if s := val(fTimestamp); s != "" {
		t, ok := parseImportTime(s)
		switch {
		case !ok:
			bad(fTimestamp, "%s is not a time (use RFC 3339, \"2006-01-02 15:04:05\" or a date)", safetext.Quote(s))
		case t.Year() < minYear || t.Year() > maxYear:
			// Also what the store's dedup key can tell apart (nanoseconds
			// since 1970 in an int64 end in 2262).
			bad(fTimestamp, "%s is not a plausible time for a measurement (years %d–%d)", safetext.Quote(s), minYear, maxYear)
		}
		res.Timestamp = t
	}
	res.Source = val(fSource)
	if res.Source == "" {
		res.Source = p.opts.Source
	} else if err := safetext.CheckID(res.Source); err != nil {
		bad(fSource, "%v", err)
	}
	if res.Stack = val(fStack); res.Stack != "" {
		if err := safetext.CheckID(res.Stack); err != nil {
			bad(fStack, "%v", err)
		}
	}
	if len(p.errs) > nErrs {
		return
	}
	if f, why := implausible(res, hw); why != "" {
		if !p.opts.AllowImplausible {
			bad(f, "implausible: %s (check the units; --allow-implausible keeps such rows, flagged)", why)
			return
		}
		res.Flag = "implausible: " + why
	}
	cfg, err := p.cat.Normalize(res.Config)
	if err != nil {
		p.errs = append(p.errs, RowError{Line: row.line, Reason: err.Error()})
		return
	}
	res.Config = cfg
	p.out.Results = append(p.out.Results, res)
	p.out.Lines = append(p.out.Lines, row.line)
}

// implausible names the field and the reason when a measurement is beyond
// physical sense, disagrees with itself, or uses a precision the hardware
// lacks; "" when it is plausible.
func implausible(r engine.Result, hw *engine.Hardware) (field, string) {
	switch {
	case r.Throughput > maxThroughput:
		return fThroughput, fmt.Sprintf("%g items/s is above %g", r.Throughput, float64(maxThroughput))
	case r.Throughput > 0 && r.Throughput < minThroughput:
		return fThroughput, fmt.Sprintf("%g items/s is below %g", r.Throughput, float64(minThroughput))
	case r.LatencyMS > 0 && r.LatencyMS < minLatencyMS:
		return fLatency, fmt.Sprintf("%g ms is below 1 µs", r.LatencyMS)
	case r.LatencyMS > maxLatencyMS:
		return fLatency, fmt.Sprintf("%g ms is above %g ms", r.LatencyMS, float64(maxLatencyMS))
	case r.MemoryMB > maxMemoryMB:
		return fMemory, fmt.Sprintf("%g MB is above %g MB", r.MemoryMB, float64(maxMemoryMB))
	case r.MemoryMB > 0 && r.MemoryMB < minMemoryMB:
		return fMemory, fmt.Sprintf("%g MB is below 1 KB", r.MemoryMB)
	case hw != nil && !hw.Supports(r.Precision):
		return fPrecision, fmt.Sprintf("the catalog says %s has no %s support", safetext.Quote(r.Hardware), r.Precision)
	}
	if r.Throughput > 0 && r.LatencyMS > 0 && r.Phase != engine.Generate {
		// A generation's throughput counts output tokens over concurrent
		// requests and its latency one request: they need not agree.
		want := r.ItemsPerPass() * 1000 / r.LatencyMS
		if ratio := r.Throughput / want; ratio > consistency || ratio < 1/consistency {
			return fThroughput, fmt.Sprintf("throughput %g items/s and latency %g ms disagree by %.3g× for batch %d (expected batch × 1000 / latency = %.4g)",
				r.Throughput, r.LatencyMS, math.Max(ratio, 1/ratio), r.BatchSize, want)
		}
	}
	return 0, ""
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
		bad(f, "%s is not a number", safetext.Quote(s))
	case v != math.Trunc(v) || math.Abs(v) > math.MaxInt32:
		bad(f, "%s is not a whole number in range", safetext.Quote(s))
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
