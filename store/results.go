package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"perfpilot/engine"
	"perfpilot/safetext"
)

// StoredResult is a result as kept in the database.
type StoredResult struct {
	ID int64
	engine.Result
	ImportedAt time.Time
	// Excluded results are kept but not learned from (SetExcluded).
	Excluded bool
}

// ResultFilter narrows Results; zero fields match everything.
type ResultFilter struct {
	Source string
	// WithExcluded also returns results excluded from learning (see
	// SetExcluded); by default they are left out, so nothing that fits a
	// model sees them.
	WithExcluded bool
}

// ValidateResult checks the invariants every stored result keeps: a
// complete configuration, a source, and at least one measured metric, each
// positive and finite (zero means not measured).
func ValidateResult(r engine.Result) error {
	for _, id := range []struct{ field, v string }{{"model_name", r.Model}, {"hardware", r.Hardware}, {"source", r.Source}} {
		if err := safetext.CheckID(id.v); err != nil {
			return fmt.Errorf("%s: %w", id.field, err)
		}
	}
	switch {
	case r.BatchSize <= 0:
		return fmt.Errorf("batch_size: %d is not positive", r.BatchSize)
	case r.SequenceLength <= 0:
		return fmt.Errorf("sequence_length: %d is not positive", r.SequenceLength)
	}
	if p, err := engine.ParsePrecision(string(r.Precision)); err != nil {
		return fmt.Errorf("precision: %w", err)
	} else if p != r.Precision {
		return fmt.Errorf("precision: %q is not canonical (want %q)", r.Precision, p)
	}
	metrics := []struct {
		name string
		v    float64
	}{{"throughput", r.Throughput}, {"latency_ms", r.LatencyMS}, {"memory_mb", r.MemoryMB}}
	measured := false
	for _, m := range metrics {
		if m.v == 0 {
			continue
		}
		if !(m.v > 0) || math.IsInf(m.v, 0) {
			return fmt.Errorf("%s: %v is not a positive number", m.name, m.v)
		}
		measured = true
	}
	if !measured {
		return errors.New("no metric: give at least one of throughput, latency_ms, memory_mb")
	}
	return nil
}

// dedupKey identifies a measurement by everything it says: configuration,
// metric values, when, and provenance (source and stack). Provenance is part
// of it because published data repeats identical numbers under different
// versions, and each source must stay a complete measurement set. The
// text-generation fields join the key only when set, so forward passes keep
// the keys they were stored with (schema 4 added those fields).
func dedupKey(r engine.Result) []byte {
	h := sha256.New()
	ts := ""
	if !r.Timestamp.IsZero() {
		ts = strconv.FormatInt(r.Timestamp.UnixNano(), 10)
	}
	fields := []string{r.Model, r.Hardware, strconv.Itoa(r.BatchSize), string(r.Precision),
		strconv.Itoa(r.SequenceLength), fmtFloat(r.Throughput), fmtFloat(r.LatencyMS), fmtFloat(r.MemoryMB), ts,
		r.Source, r.Stack}
	if generationColumns(r.Config) != (generationCols{}) {
		fields = append(fields, string(r.Phase), strconv.Itoa(r.GPUCount), string(r.Parallelism), strconv.Itoa(r.PromptTokens),
			strconv.Itoa(r.OutputTokens), strconv.Itoa(r.ContextTokens), strconv.Itoa(r.ContextSize), r.PrecisionLabel,
			fmtFloat(r.WeightBits), string(r.KVCache))
	}
	for _, f := range fields {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return h.Sum(nil)[:16]
}

// generationCols are a configuration's text-generation fields as stored.
type generationCols struct {
	phase, parallelism, label, kv              string
	gpus, prompt, output, context, contextSize int
	bits                                       float64
}

func generationColumns(c engine.Config) generationCols {
	return generationCols{string(c.Phase), string(c.Parallelism), c.PrecisionLabel, string(c.KVCache),
		c.GPUCount, c.PromptTokens, c.OutputTokens, c.ContextTokens, c.ContextSize, c.WeightBits}
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// nullFloat stores engine's "0 = not measured" as NULL.
func nullFloat(v float64) sql.NullFloat64 { return sql.NullFloat64{Float64: v, Valid: v != 0} }

// InsertResults adds the results in one transaction. Exact duplicates of
// stored measurements (and repeats within rs) are skipped and counted. Any
// invalid result rejects the whole slice.
func (db *DB) InsertResults(ctx context.Context, rs []engine.Result) (added, duplicates int, err error) {
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		added, duplicates, err = db.insertResults(ctx, tx, rs)
		return err
	})
	if errors.Is(err, ErrReadOnly) {
		return 0, 0, err
	}
	if err != nil {
		return 0, 0, fmt.Errorf("insert results: %w", err)
	}
	return added, duplicates, nil
}

// insertBatch is how many rows one INSERT statement carries: one exec per
// row was 42% of a 100k-row import; 25 columns × 64 rows stays
// far below SQLite's limit on bound parameters.
const insertBatch = 64

const insertCols = `INSERT INTO results
	(model_name, hardware, batch_size, precision, sequence_length, throughput, latency_ms, memory_mb,
	 model_type, source, timestamp, stack, flag, imported_at, dedup_key,
	 phase, gpu_count, parallelism, prompt_tokens, output_tokens, context_tokens, context_size,
	 precision_label, weight_bits, kv_cache_dtype) VALUES `

func insertSQL(rows int) string {
	one := "(" + strings.Repeat("?, ", 24) + "?)"
	return insertCols + strings.Repeat(one+", ", rows-1) + one + " ON CONFLICT (dedup_key) DO NOTHING"
}

func (db *DB) insertResults(ctx context.Context, tx *sql.Tx, rs []engine.Result) (added, duplicates int, err error) {
	for i, r := range rs {
		if err := ValidateResult(r); err != nil {
			return 0, 0, fmt.Errorf("result %d (%s): %w", i+1, safetext.Clean(r.Config.String()), err)
		}
	}
	if len(rs) == 0 {
		return 0, 0, nil
	}
	full, err := tx.PrepareContext(ctx, insertSQL(min(insertBatch, len(rs))))
	if err != nil {
		return 0, 0, err
	}
	defer full.Close()
	now := formatTime(db.now())
	args := make([]any, 0, 25*insertBatch)
	for start := 0; start < len(rs); start += insertBatch {
		batch := rs[start:min(start+insertBatch, len(rs))]
		args = args[:0]
		for _, r := range batch {
			var ts sql.NullString
			if !r.Timestamp.IsZero() {
				ts = sql.NullString{String: formatTime(r.Timestamp), Valid: true}
			}
			args = append(args, r.Model, r.Hardware, r.BatchSize, string(r.Precision), r.SequenceLength,
				nullFloat(r.Throughput), nullFloat(r.LatencyMS), nullFloat(r.MemoryMB),
				r.ModelType, r.Source, ts, r.Stack, r.Flag, now, dedupKey(r),
				string(r.Phase), r.GPUCount, string(r.Parallelism), r.PromptTokens, r.OutputTokens, r.ContextTokens, r.ContextSize,
				r.PrecisionLabel, r.WeightBits, string(r.KVCache))
		}
		var res sql.Result
		if len(batch) == insertBatch || len(rs) < insertBatch {
			res, err = full.ExecContext(ctx, args...)
		} else {
			res, err = tx.ExecContext(ctx, insertSQL(len(batch)), args...)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("insert results %d–%d: %w", start+1, start+len(batch), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, 0, err
		}
		added += int(n)
		duplicates += len(batch) - int(n)
	}
	return added, duplicates, nil
}

// Results lists stored results in insertion order.
func (db *DB) Results(ctx context.Context, filter ResultFilter) ([]StoredResult, error) {
	q := `SELECT id, model_name, hardware, batch_size, precision, sequence_length, throughput, latency_ms, memory_mb,
		model_type, source, timestamp, stack, flag, imported_at,
		phase, gpu_count, parallelism, prompt_tokens, output_tokens, context_tokens, context_size,
		precision_label, weight_bits, kv_cache_dtype, excluded FROM results`
	var args []any
	var where []string
	if filter.Source != "" {
		where = append(where, "source = ?")
		args = append(args, filter.Source)
	}
	if !filter.WithExcluded {
		where = append(where, "excluded = 0")
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id"
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list results: %w", err)
	}
	defer rows.Close()
	var out []StoredResult
	for rows.Next() {
		var s StoredResult
		var prec, imported, phase, par, kv string
		var thr, lat, mem sql.NullFloat64
		var ts sql.NullString
		if err := rows.Scan(&s.ID, &s.Model, &s.Hardware, &s.BatchSize, &prec, &s.SequenceLength, &thr, &lat, &mem,
			&s.ModelType, &s.Source, &ts, &s.Stack, &s.Flag, &imported,
			&phase, &s.GPUCount, &par, &s.PromptTokens, &s.OutputTokens, &s.ContextTokens, &s.ContextSize,
			&s.PrecisionLabel, &s.WeightBits, &kv, &s.Excluded); err != nil {
			return nil, fmt.Errorf("list results: %w", err)
		}
		s.Precision, s.Phase, s.Parallelism, s.KVCache = engine.Precision(prec), engine.Phase(phase), engine.Parallelism(par), engine.Precision(kv)
		s.Throughput, s.LatencyMS, s.MemoryMB = thr.Float64, lat.Float64, mem.Float64
		if ts.Valid {
			if s.Timestamp, err = parseTime(ts.String); err != nil {
				return nil, fmt.Errorf("list results: result %d: %w", s.ID, err)
			}
		}
		if s.ImportedAt, err = parseTime(imported); err != nil {
			return nil, fmt.Errorf("list results: result %d: %w", s.ID, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list results: %w", err)
	}
	return out, nil
}

// AllResults returns every stored result, in insertion order, for the engine.
func (db *DB) AllResults(ctx context.Context) ([]engine.Result, error) {
	stored, err := db.Results(ctx, ResultFilter{})
	if err != nil {
		return nil, err
	}
	out := make([]engine.Result, len(stored))
	for i, s := range stored {
		out[i] = s.Result
	}
	return out, nil
}

// CountResults returns how many results are stored.
func (db *DB) CountResults(ctx context.Context) (int, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM results").Scan(&n); err != nil {
		return 0, fmt.Errorf("count results: %w", err)
	}
	return n, nil
}

// SetExcluded marks results as excluded from learning (or includes them
// again), all or nothing: an id that does not exist fails the whole call.
// It returns how many results changed state.
func (db *DB) SetExcluded(ctx context.Context, ids []int64, excluded bool) (int, error) {
	flag := 0
	if excluded {
		flag = 1
	}
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			var cur int
			if err := tx.QueryRowContext(ctx, "SELECT excluded FROM results WHERE id = ?", id).Scan(&cur); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("no result with id %d", id)
				}
				return err
			}
			if cur == flag {
				continue
			}
			if _, err := tx.ExecContext(ctx, "UPDATE results SET excluded = ? WHERE id = ?", flag, id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("set excluded: %w", err)
	}
	return int(n), nil
}

// DeleteSource removes every result with the source and says how many.
func (db *DB) DeleteSource(ctx context.Context, source string) (int, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM results WHERE source = ?", source)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete source %q: %w", source, err)
	}
	return int(n), nil
}
