-- perfpilot schema 1.

-- User catalog additions, each a self-contained catalog document, replayed
-- in insertion order (later entries replace earlier ones with the same id).
CREATE TABLE catalog_additions (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	label    TEXT NOT NULL,
	doc      TEXT NOT NULL,
	added_at TEXT NOT NULL
);

-- Measured benchmark results. Absent metrics are NULL; timestamp is NULL when
-- the source did not say when it was measured.
CREATE TABLE results (
	id              INTEGER PRIMARY KEY,
	model_name      TEXT    NOT NULL,
	hardware        TEXT    NOT NULL,
	batch_size      INTEGER NOT NULL CHECK (batch_size > 0),
	precision       TEXT    NOT NULL,
	sequence_length INTEGER NOT NULL,
	throughput      REAL CHECK (throughput > 0),
	latency_ms      REAL CHECK (latency_ms > 0),
	memory_mb       REAL CHECK (memory_mb > 0),
	model_type      TEXT    NOT NULL DEFAULT '',
	source          TEXT    NOT NULL,
	timestamp       TEXT,
	stack           TEXT    NOT NULL DEFAULT '',
	imported_at     TEXT    NOT NULL,
	dedup_key       BLOB    NOT NULL UNIQUE,
	CHECK (throughput IS NOT NULL OR latency_ms IS NOT NULL OR memory_mb IS NOT NULL)
);
CREATE INDEX results_source ON results (source);

CREATE TABLE sessions (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	params     TEXT    NOT NULL,
	metric     TEXT    NOT NULL,
	budget     INTEGER NOT NULL,
	-- The report snapshot without its recommendations (those are the rows).
	report     TEXT    NOT NULL,
	created_at TEXT    NOT NULL,
	updated_at TEXT    NOT NULL
);

CREATE TABLE session_rows (
	session_id     INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	position       INTEGER NOT NULL,
	rank           INTEGER NOT NULL,
	recommendation TEXT    NOT NULL,
	selected       INTEGER NOT NULL DEFAULT 0 CHECK (selected IN (0, 1)),
	PRIMARY KEY (session_id, position)
);

-- The seed's integrated_recommendations table, plus the fields perfpilot adds.
-- History outlives the session it came from.
CREATE TABLE recommendation_history (
	id                       INTEGER PRIMARY KEY AUTOINCREMENT,
	timestamp                TEXT    NOT NULL,
	model_name               TEXT    NOT NULL,
	model_type               TEXT    NOT NULL,
	hardware                 TEXT    NOT NULL,
	batch_size               INTEGER NOT NULL,
	recommended_hardware     TEXT    NOT NULL,
	hardware_match           INTEGER NOT NULL,
	information_gain         REAL    NOT NULL,
	combined_score           REAL    NOT NULL,
	optimization_metric      TEXT    NOT NULL,
	precision                TEXT    NOT NULL,
	sequence_length          INTEGER NOT NULL,
	decision_value           REAL    NOT NULL,
	expected_improvement_pct REAL    NOT NULL,
	session_id               INTEGER REFERENCES sessions (id) ON DELETE SET NULL
);
CREATE INDEX recommendation_history_session ON recommendation_history (session_id);
