package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"perfpilot/engine"
	"perfpilot/safetext"
)

// SessionParams are the parameters a session's report was produced with
// and its rows run with, stored as JSON in sessions.params.
type SessionParams struct {
	// RankParams re-rank the session exactly (engine.Rank).
	engine.RankParams
	// Template is the benchmark command template (empty: the default).
	Template string `json:"template,omitempty"`
	// Executor names where the rows run (empty: local processes) and
	// PlacementFile the executor's placement description, if any.
	Executor      string `json:"executor,omitempty"`
	PlacementFile string `json:"placement_file,omitempty"`
	// Placement is that file's content (canonical JSON, checked by
	// runner/placement), so a later run or resume does not depend on the
	// file still being there or unchanged.
	Placement json.RawMessage `json:"placement,omitempty"`
}

// legacyParams is schema 1's session parameters: flags by name as text.
type legacyParams struct {
	Metric engine.Metric     `json:"metric"`
	Budget int               `json:"budget"`
	Seed   uint64            `json:"seed"`
	Extra  map[string]string `json:"extra"`
}

// typed converts schema 1's string map; a value that does not parse is an
// error naming the key, so a damaged session is reported, not guessed at.
func (l legacyParams) typed() (SessionParams, error) {
	p := SessionParams{RankParams: engine.RankParams{Metric: l.Metric, Budget: l.Budget, Seed: l.Seed}}
	x := l.Extra
	floats := []struct {
		key string
		dst *float64
	}{{"info_weight", &p.InfoWeight}, {"decision_weight", &p.DecisionWeight},
		{"max_power", &p.Constraints.MaxPowerW}, {"min_memory", &p.Constraints.MinMemoryGB}}
	for _, f := range floats {
		if s := strings.TrimSpace(x[f.key]); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || engine.CheckNonNegative(v) != nil {
				return p, fmt.Errorf("extra.%s: %q is not a non-negative number", f.key, s)
			}
			*f.dst = v
		}
	}
	if s := strings.TrimSpace(x["max_per_hardware"]); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, fmt.Errorf("extra.max_per_hardware: %q is not a whole number ≥ 0", s)
		}
		p.MaxPerHardware = n
	}
	if s := strings.TrimSpace(x["availability_weighted"]); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return p, fmt.Errorf("extra.availability_weighted: %q is not true or false", s)
		}
		p.AvailabilityWeighted = b
	}
	if s := strings.TrimSpace(x["hardware"]); s != "" {
		p.Hardware = strings.Split(s, ",")
	}
	return p, nil
}

// convertSessionParams is migration 2: every session's "extra" map becomes
// typed fields. Sessions without one (the dashboard's) keep their values.
func convertSessionParams(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, name, params FROM sessions ORDER BY id")
	if err != nil {
		return err
	}
	type conv struct {
		id     int64
		params string
	}
	var todo []conv
	for rows.Next() {
		var id int64
		var name, raw string
		if err := rows.Scan(&id, &name, &raw); err != nil {
			rows.Close()
			return err
		}
		var l legacyParams
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			rows.Close()
			return fmt.Errorf("session %q: params: %w", name, err)
		}
		p, err := l.typed()
		if err != nil {
			rows.Close()
			return fmt.Errorf("session %q: params: %w", name, err)
		}
		out, err := json.Marshal(p)
		if err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, conv{id, string(out)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range todo {
		if _, err := tx.ExecContext(ctx, "UPDATE sessions SET params = ? WHERE id = ?", c.params, c.id); err != nil {
			return err
		}
	}
	return nil
}

// Session is a named, saved ranking: its parameters, the report snapshot and
// the rows the user selected.
type Session struct {
	Name   string
	Params SessionParams
	Report *engine.Report
	// Selected holds indexes into Report.Recommendations, ascending. The
	// ranked rows may be followed by rows of rank 0: configurations
	// selected from an earlier ranking that left this one, kept so that
	// the session holds the whole selection (the dashboard saves them).
	Selected []int
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt, UpdatedAt time.Time
}

// SessionInfo summarises a session for listings.
type SessionInfo struct {
	Name                 string
	Metric               engine.Metric
	Budget               int
	Rows, Selected       int // Rows counts ranked rows, Selected every selected row
	CreatedAt, UpdatedAt time.Time
}

// HistoryEntry is one row of recommendation history (the seed's
// integrated_recommendations plus perfpilot's fields).
type HistoryEntry struct {
	ID                     int64
	Timestamp              time.Time
	ModelName              string
	ModelType              string
	Hardware               string
	BatchSize              int
	Precision              engine.Precision
	SequenceLength         int
	RecommendedHardware    string
	HardwareMatch          bool
	InformationGain        float64
	CombinedScore          float64
	DecisionValue          float64
	ExpectedImprovementPct float64
	OptimizationMetric     engine.Metric
	// SessionID is 0 when the row did not come from a saved session or the
	// session was deleted since.
	SessionID int64
}

func sessionNotFound(name string) error {
	return fmt.Errorf("session %s %w", safetext.Quote(name), ErrSessionNotFound)
}

func sessionExists(name string) error {
	return fmt.Errorf("session %s %w", safetext.Quote(name), ErrSessionExists)
}

// sessionErr wraps err with what was being done, unless err already names
// the session (not found, exists), so no message says it twice.
func sessionErr(op, name string, err error) error {
	if errors.Is(err, ErrSessionExists) || errors.Is(err, ErrSessionNotFound) || errors.Is(err, ErrReadOnly) {
		return err
	}
	return fmt.Errorf("%s session %s: %w", op, safetext.Quote(name), err)
}

// normalizeSelection validates indexes against n rows and returns them
// sorted without repeats.
func normalizeSelection(sel []int, n int) ([]int, error) {
	out := make([]int, 0, len(sel))
	for _, i := range sel {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("selected row %d is out of range (the session has %d rows)", i, n)
		}
		out = append(out, i)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// SaveSession stores a new session, and its rows in the recommendation
// history, in one transaction. It fails if the name is taken.
func (db *DB) SaveSession(ctx context.Context, s Session) error {
	return db.saveSession(ctx, s, false)
}

// ReplaceSession stores a session, replacing any session of the same name
// (which keeps its creation time). History gains the new rows.
func (db *DB) ReplaceSession(ctx context.Context, s Session) error {
	return db.saveSession(ctx, s, true)
}

func (db *DB) saveSession(ctx context.Context, s Session, replace bool) error {
	name := s.Name
	if err := safetext.CheckID(name); err != nil {
		return fmt.Errorf("session name: %w", err)
	}
	if s.Report == nil {
		return fmt.Errorf("save session %q: no report", name)
	}
	recs := s.Report.Recommendations
	sel, err := normalizeSelection(s.Selected, len(recs))
	if err != nil {
		return fmt.Errorf("save session %q: %w", name, err)
	}
	params, err := json.Marshal(s.Params)
	if err != nil {
		return fmt.Errorf("save session %q: params: %w", name, err)
	}
	// The rows live in session_rows; the snapshot keeps only the top level.
	// An empty recommendations list stays in the snapshot so null and []
	// both reopen as saved.
	top := *s.Report
	if len(recs) > 0 {
		top.Recommendations = nil
	}
	report, err := json.Marshal(top)
	if err != nil {
		return fmt.Errorf("save session %q: report: %w", name, err)
	}
	rowJSON := make([][]byte, len(recs))
	for i := range recs {
		if rowJSON[i], err = json.Marshal(recs[i]); err != nil {
			return fmt.Errorf("save session %q: row %d: %w", name, i, err)
		}
	}
	now := formatTime(db.now())
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM sessions WHERE name = ?", name).Scan(&id)
		switch {
		case err == nil && !replace:
			return sessionExists(name)
		case err == nil:
			if _, err := tx.ExecContext(ctx, `UPDATE sessions SET params = ?, metric = ?, budget = ?, report = ?,
				updated_at = ? WHERE id = ?`, string(params), string(s.Params.Metric), s.Params.Budget, string(report), now, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM session_rows WHERE session_id = ?", id); err != nil {
				return err
			}
		case errors.Is(err, sql.ErrNoRows):
			res, err := tx.ExecContext(ctx, `INSERT INTO sessions (name, params, metric, budget, report, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, name, string(params), string(s.Params.Metric), s.Params.Budget, string(report), now, now)
			if err != nil {
				return err
			}
			if id, err = res.LastInsertId(); err != nil {
				return err
			}
		default:
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO session_rows (session_id, position, rank, recommendation, selected)
			VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, r := range recs {
			if _, err := stmt.ExecContext(ctx, id, i, r.Rank, string(rowJSON[i]), slices.Contains(sel, i)); err != nil {
				return fmt.Errorf("row %d: %w", i, err)
			}
		}
		return db.insertHistory(ctx, tx, s.Report.OptimizationMetric, recs, sql.NullInt64{Int64: id, Valid: true}, now)
	})
	if err != nil {
		return sessionErr("save", name, err)
	}
	return nil
}

// UpdateSessionParams replaces a session's parameters only (the executor
// and placement a run used), leaving its rows, selection and history alone.
func (db *DB) UpdateSessionParams(ctx context.Context, name string, p SessionParams) error {
	params, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("session %q: params: %w", name, err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE sessions SET params = ?, updated_at = ? WHERE name = ?", string(params), formatTime(db.now()), name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("%w: %q", ErrSessionNotFound, name)
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return fmt.Errorf("session %q: %w", name, err)
	}
	return err
}

// RecordHistory appends a report's recommendations to the history without
// saving a session (what the seed did after every integration).
func (db *DB) RecordHistory(ctx context.Context, rep *engine.Report) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		return db.insertHistory(ctx, tx, rep.OptimizationMetric, rep.Recommendations, sql.NullInt64{}, formatTime(db.now()))
	})
	if err != nil {
		return fmt.Errorf("record history: %w", err)
	}
	return nil
}

func (db *DB) insertHistory(ctx context.Context, tx *sql.Tx, metric engine.Metric, recs []engine.Recommendation, session sql.NullInt64, now string) error {
	if len(recs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO recommendation_history
		(timestamp, model_name, model_type, hardware, batch_size, recommended_hardware, hardware_match,
		 information_gain, combined_score, optimization_metric, precision, sequence_length, decision_value,
		 expected_improvement_pct, session_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer stmt.Close()
	for _, r := range recs {
		if r.Rank <= 0 {
			continue // selected, not recommended by this ranking
		}
		if _, err := stmt.ExecContext(ctx, now, r.ModelName, r.ModelType, r.Hardware, r.BatchSize, r.RecommendedHardware,
			r.HardwareMatch, r.ExpectedInformationGain, r.CombinedScore, string(metric), string(r.Precision),
			r.SequenceLength, r.DecisionValue, r.ExpectedImprovementPct, session); err != nil {
			return fmt.Errorf("history: %w", err)
		}
	}
	return nil
}

// Session loads a saved session exactly as it was saved.
func (db *DB) Session(ctx context.Context, name string) (*Session, error) {
	s := &Session{Name: name, Selected: []int{}}
	var id int64
	var params, report, created, updated string
	err := db.sql.QueryRowContext(ctx, "SELECT id, params, report, created_at, updated_at FROM sessions WHERE name = ?", name).
		Scan(&id, &params, &report, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sessionNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("load session %q: %w", name, err)
	}
	if err := json.Unmarshal([]byte(params), &s.Params); err != nil {
		return nil, fmt.Errorf("load session %q: params: %w", name, err)
	}
	s.Report = new(engine.Report)
	if err := json.Unmarshal([]byte(report), s.Report); err != nil {
		return nil, fmt.Errorf("load session %q: report: %w", name, err)
	}
	if s.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("load session %q: %w", name, err)
	}
	if s.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, fmt.Errorf("load session %q: %w", name, err)
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT position, recommendation, selected FROM session_rows WHERE session_id = ? ORDER BY position", id)
	if err != nil {
		return nil, fmt.Errorf("load session %q: %w", name, err)
	}
	defer rows.Close()
	var recs []engine.Recommendation
	for rows.Next() {
		var pos int
		var rec string
		var selected bool
		if err := rows.Scan(&pos, &rec, &selected); err != nil {
			return nil, fmt.Errorf("load session %q: %w", name, err)
		}
		var r engine.Recommendation
		if err := json.Unmarshal([]byte(rec), &r); err != nil {
			return nil, fmt.Errorf("load session %q: row %d: %w", name, pos, err)
		}
		recs = append(recs, r)
		if selected {
			s.Selected = append(s.Selected, pos)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load session %q: %w", name, err)
	}
	if len(recs) > 0 {
		s.Report.Recommendations = recs
	}
	return s, nil
}

// Sessions lists the saved sessions, most recently updated first.
func (db *DB) Sessions(ctx context.Context) ([]SessionInfo, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT s.name, s.metric, s.budget, s.created_at, s.updated_at,
			count(r.position) - coalesce(sum(r.rank <= 0), 0), coalesce(sum(r.selected), 0)
		FROM sessions s LEFT JOIN session_rows r ON r.session_id = s.id
		GROUP BY s.id ORDER BY s.updated_at DESC, s.name`)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []SessionInfo
	for rows.Next() {
		var si SessionInfo
		var metric, created, updated string
		if err := rows.Scan(&si.Name, &metric, &si.Budget, &created, &updated, &si.Rows, &si.Selected); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		si.Metric = engine.Metric(metric)
		if si.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		if si.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, si)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// RenameSession gives a session a new name.
func (db *DB) RenameSession(ctx context.Context, from, to string) error {
	if err := safetext.CheckID(to); err != nil {
		return fmt.Errorf("new session name: %w", err)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sessions WHERE name = ?", to).Scan(&n); err != nil {
			return err
		}
		if n > 0 && to != from {
			return sessionExists(to)
		}
		res, err := tx.ExecContext(ctx, "UPDATE sessions SET name = ?, updated_at = ? WHERE name = ?", to, formatTime(db.now()), from)
		if err != nil {
			return err
		}
		return mustAffect(res, from)
	})
	if err != nil {
		return sessionErr("rename", from, err)
	}
	return nil
}

// DeleteSession removes a session and its rows; its history rows remain.
func (db *DB) DeleteSession(ctx context.Context, name string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE name = ?", name)
		if err != nil {
			return err
		}
		return mustAffect(res, name)
	})
	if err != nil {
		return sessionErr("delete", name, err)
	}
	return nil
}

// UpdateSelection replaces a session's selected rows (indexes into its
// report's recommendations).
func (db *DB) UpdateSelection(ctx context.Context, name string, selected []int) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		var n int
		err := tx.QueryRowContext(ctx, `SELECT s.id, count(r.position) FROM sessions s
			LEFT JOIN session_rows r ON r.session_id = s.id WHERE s.name = ? GROUP BY s.id`, name).Scan(&id, &n)
		if errors.Is(err, sql.ErrNoRows) {
			return sessionNotFound(name)
		}
		if err != nil {
			return err
		}
		sel, err := normalizeSelection(selected, n)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE session_rows SET selected = 0 WHERE session_id = ?", id); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, "UPDATE session_rows SET selected = 1 WHERE session_id = ? AND position = ?")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, i := range sel {
			if _, err := stmt.ExecContext(ctx, id, i); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, "UPDATE sessions SET updated_at = ? WHERE id = ?", formatTime(db.now()), id)
		return err
	})
	if err != nil {
		return sessionErr("update the selection of", name, err)
	}
	return nil
}

func mustAffect(res sql.Result, name string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sessionNotFound(name)
	}
	return nil
}

// History returns the newest recommendation history rows first; limit <= 0
// returns all.
func (db *DB) History(ctx context.Context, limit int) ([]HistoryEntry, error) {
	q := `SELECT id, timestamp, model_name, model_type, hardware, batch_size, precision, sequence_length,
		recommended_hardware, hardware_match, information_gain, combined_score, decision_value,
		expected_improvement_pct, optimization_metric, session_id
		FROM recommendation_history ORDER BY id DESC`
	var args []any
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		var ts, prec, metric string
		var session sql.NullInt64
		if err := rows.Scan(&h.ID, &ts, &h.ModelName, &h.ModelType, &h.Hardware, &h.BatchSize, &prec, &h.SequenceLength,
			&h.RecommendedHardware, &h.HardwareMatch, &h.InformationGain, &h.CombinedScore, &h.DecisionValue,
			&h.ExpectedImprovementPct, &metric, &session); err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		if h.Timestamp, err = parseTime(ts); err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		h.Precision, h.OptimizationMetric, h.SessionID = engine.Precision(prec), engine.Metric(metric), session.Int64
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return out, nil
}
