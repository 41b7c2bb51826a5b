// Package store is the only package of perfpilot that speaks SQL, and it
// speaks nothing else: it opens and migrates the SQLite database and keeps
// benchmark results, sessions, recommendation history and catalog
// additions. Reading and writing files is package formats.
package store

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"perfpilot/engine"
)

// ApplicationID marks a SQLite file as a perfpilot database ("PPLT").
const ApplicationID int32 = 0x50504c54

// Sentinel errors, for errors.Is.
var (
	ErrNotPerfpilot    = errors.New("not a perfpilot database")
	ErrNewerSchema     = errors.New("database written by a newer perfpilot")
	ErrSessionNotFound = errors.New("not found")
	ErrSessionExists   = errors.New("already exists")
	// ErrAdditionNotFound: no stored catalog addition has that id.
	ErrAdditionNotFound = errors.New("no such stored catalog addition")
	// ErrReadOnly is returned by every write to a database opened read-only.
	ErrReadOnly = errors.New("the database is open read-only")
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations holds the schema steps in order; migrations[i] brings the
// database to user_version i+1.
var migrations = mustLoadMigrations()

// goMigrations are data conversions that SQL cannot express well, run
// after the SQL of the same version on existing databases (a new database
// has no data to convert).
var goMigrations = map[int]func(context.Context, *sql.Tx) error{
	2: convertSessionParams,
}

// SchemaVersion is the newest schema this binary knows.
var SchemaVersion = len(migrations)

func mustLoadMigrations() []string {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	// Glob returns sorted names; the numeric prefix must count up from 1 so
	// a missing or misnamed file is caught at start-up, not in the field.
	out := make([]string, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		if n, err := strconv.Atoi(num); err != nil || n != i+1 {
			panic(fmt.Sprintf("store: migration %s is out of sequence (want number %d)", base, i+1))
		}
		data, err := migrationFS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		out = append(out, string(data))
	}
	return out
}

// DB is an open perfpilot database.
type DB struct {
	sql      *sql.DB
	path     string
	now      func() time.Time
	seed     func() []engine.Result
	readOnly bool
}

// Option configures Open.
type Option func(*DB)

// WithClock sets the clock used for imported_at, created_at and history
// timestamps, so tests can control time.
func WithClock(now func() time.Time) Option {
	return func(db *DB) { db.now = now }
}

// WithSeed gives the results a brand-new database starts with (the demo
// history, in perfpilot); seed is only called when the database is created.
func WithSeed(seed func() []engine.Result) Option {
	return func(db *DB) { db.seed = seed }
}

// ReadOnly opens the database for reading only, for a file or directory
// the user cannot write: nothing is created or migrated, and every write
// fails with ErrReadOnly. The database must exist at the current schema.
func ReadOnly() Option {
	return func(db *DB) { db.readOnly = true }
}

// ReadOnly reports whether the database was opened read-only.
func (db *DB) ReadOnly() bool { return db.readOnly }

// ResolvePath picks the database file: the --db flag, else $PERFPILOT_DB,
// else DefaultPath.
func ResolvePath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv("PERFPILOT_DB"); env != "" {
		return env, nil
	}
	return DefaultPath()
}

// DefaultPath is $XDG_DATA_HOME/perfpilot/perfpilot.db, with XDG_DATA_HOME
// defaulting to ~/.local/share.
func DefaultPath() (string, error) {
	base := os.Getenv("XDG_DATA_HOME")
	// The XDG spec says relative values are invalid and must be ignored.
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locate database: set --db or PERFPILOT_DB: %w", err)
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "perfpilot", "perfpilot.db"), nil
}

// Open opens (creating if needed) the perfpilot database at path, migrates
// it to the current schema and, when it is new, fills it with the WithSeed
// results. A file that is not a perfpilot database, or one written by a
// newer perfpilot, is refused and left untouched.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Look before touching: opening with our pragmas would switch a foreign
	// database to WAL and so rewrite its header.
	if err := probe(ctx, abs); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{path: abs, now: time.Now}
	for _, o := range opts {
		o(db)
	}
	if db.readOnly {
		if err := db.openReadOnly(ctx); err != nil {
			return nil, fmt.Errorf("open database %s read-only: %w", path, err)
		}
		return db, nil
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// busy_timeout goes first so the journal_mode switch of a brand-new file
	// waits for a concurrent opener instead of failing. _txlock=immediate
	// makes every write transaction take the write lock at BEGIN, so two
	// writers queue on busy_timeout rather than deadlocking into
	// "database is locked" when a reader upgrades. A 64 MB page cache keeps
	// a 100k-row import from spilling its random dedup-index pages to the
	// WAL mid-transaction (4.5 s -> 2.4 s); it is a ceiling, not an allocation.
	dsn := fileURI(abs) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.sql = sqldb
	if err := db.migrateRetrying(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// openReadOnly opens an existing current-schema database without writing
// anything. SQLite needs the -shm file to read a WAL database; when it does
// not exist (and cannot be created in a read-only directory) the file is
// opened immutable, which is sound because nobody can be writing it then:
// a writer would have created -wal and -shm.
func (db *DB) openReadOnly(ctx context.Context) error {
	if st, err := os.Stat(db.path); err != nil {
		return err
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: it is not a regular file", ErrNotPerfpilot)
	}
	dsn := fileURI(db.path) + "?mode=ro&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	if _, err := os.Stat(db.path + "-shm"); err != nil {
		dsn += "&immutable=1"
	}
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	db.sql = sqldb
	appID, version, objects, err := readIdentity(ctx, sqldb)
	if err == nil {
		err = checkIdentity(appID, version, objects)
	}
	if err == nil && version < SchemaVersion {
		err = fmt.Errorf("it is at schema %d and this perfpilot needs %d: open it once with write access to migrate it", version, SchemaVersion)
	}
	if err != nil {
		sqldb.Close()
	}
	return err
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// Path is the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// fileURI turns an absolute path into a SQLite URI; characters that URIs
// reserve are percent-escaped (SQLite decodes them back).
func fileURI(abs string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(abs))
}

const sqliteMagic = "SQLite format 3\x00"

// probe refuses an existing non-empty file unless it is a SQLite database
// that is either empty of schema or carries our application_id with a
// schema we know. It only reads.
func probe(ctx context.Context, abs string) error {
	// Stat before opening: opening a FIFO would wait for a writer, and a
	// device is no database.
	if st, err := os.Stat(abs); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		return fmt.Errorf("%w: it is not a regular file", ErrNotPerfpilot)
	}
	f, err := os.Open(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%w: it is a directory", ErrNotPerfpilot)
	}
	if st.Size() == 0 {
		return nil // SQLite treats an empty file as a new database
	}
	var hdr [108]byte
	n, err := io.ReadFull(f, hdr[:])
	if (err != nil && n < 100) || !bytes.HasPrefix(hdr[:], []byte(sqliteMagic)) {
		return fmt.Errorf("%w: the file is not a SQLite database (refusing to touch it)", ErrNotPerfpilot)
	}
	if st, err := os.Stat(abs + "-wal"); err != nil || st.Size() == 0 {
		// No WAL content: the header is current. Reading it needs no SQLite
		// connection, which would leave -wal and -shm files behind.
		return checkIdentity(headerIdentity(hdr[:n]))
	}
	// Committed pages may still sit in the WAL (a process killed before a
	// checkpoint), so ask SQLite, read-only: that cannot checkpoint or
	// change the journal mode.
	ro, err := sql.Open("sqlite", fileURI(abs)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer ro.Close()
	conn, err := ro.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	defer conn.Close()
	appID, version, objects, err := readIdentity(ctx, conn)
	if err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	return checkIdentity(appID, version, objects)
}

// headerIdentity decodes the database header (https://sqlite.org/fileformat.html):
// user_version at offset 60, application_id at 68, and page 1's b-tree
// header at 100, whose cell count says whether any schema object exists.
func headerIdentity(hdr []byte) (appID int32, version, objects int) {
	appID = int32(binary.BigEndian.Uint32(hdr[68:72]))
	version = int(int32(binary.BigEndian.Uint32(hdr[60:64])))
	if len(hdr) >= 105 {
		switch hdr[100] {
		case 0x05: // interior page: the schema spans several pages
			objects = 1
		case 0x0d:
			objects = int(binary.BigEndian.Uint16(hdr[103:105]))
		}
	}
	return appID, version, objects
}

// queryer is what readIdentity needs from a connection or transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readIdentity(ctx context.Context, q queryer) (appID int32, version, objects int, err error) {
	if err = q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return
	}
	if err = q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return
	}
	err = q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects)
	return
}

func checkIdentity(appID int32, version, objects int) error {
	switch {
	case appID == 0 && version == 0 && objects == 0:
		return nil // a blank SQLite file: ours to initialise
	case appID != ApplicationID:
		return fmt.Errorf("%w: it is a SQLite database of another application (application_id %#x; refusing to touch it)",
			ErrNotPerfpilot, uint32(appID))
	case version > SchemaVersion:
		return fmt.Errorf("%w (schema %d, this binary knows %d)", ErrNewerSchema, version, SchemaVersion)
	}
	return nil
}

// migrateRetrying migrates, retrying while another process holds the
// database: SQLite does not call the busy handler when a brand-new file's
// connection switches it to WAL, so two processes creating one database at
// once can see SQLITE_BUSY before busy_timeout applies.
func (db *DB) migrateRetrying(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.migrate(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// migrate brings the schema up to date. A new database gets every migration
// and the demo seed in one transaction, so it is either complete or blank;
// an existing one gets each pending migration in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	for {
		done, err := db.migrateStep(ctx)
		if err != nil || done {
			return err
		}
	}
}

func (db *DB) migrateStep(ctx context.Context) (done bool, err error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	// Re-check inside the write lock: another process may have created or
	// upgraded the database since probe looked.
	appID, version, objects, err := readIdentity(ctx, tx)
	if err != nil {
		return false, err
	}
	if err := checkIdentity(appID, version, objects); err != nil {
		return false, err
	}
	if version == SchemaVersion {
		return true, nil
	}
	last := version + 1
	if version == 0 {
		last = SchemaVersion
	}
	for v := version + 1; v <= last; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			return false, fmt.Errorf("migration %d: %w", v, err)
		}
		if step := goMigrations[v]; step != nil && version > 0 {
			if err := step(ctx, tx); err != nil {
				return false, fmt.Errorf("migration %d: %w", v, err)
			}
		}
	}
	if version == 0 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", ApplicationID)); err != nil {
			return false, fmt.Errorf("set application_id: %w", err)
		}
		if db.seed != nil {
			if _, _, err := db.insertResults(ctx, tx, db.seed()); err != nil {
				return false, fmt.Errorf("seed: %w", err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", last)); err != nil {
		return false, fmt.Errorf("set user_version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration %d: %w", last, err)
	}
	return last == SchemaVersion, nil
}

// timeLayout stores times as fixed-width UTC text so they sort as strings.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// inTx runs fn in a write transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.readOnly {
		return ErrReadOnly
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
