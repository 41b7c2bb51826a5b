package main

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"perfpilot/internal/hostile"
	"perfpilot/safetext"
)

// plantHostile writes names no current door accepts straight into the
// database, as an older perfpilot could have stored them: result ids and
// sources, a session's name and the model and hardware ids of its rows.
func plantHostile(t *testing.T, db string, names []string) (session string) {
	t.Helper()
	sqldb, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	session = "s" + names[0]
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := sqldb.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("UPDATE sessions SET name = ? WHERE name = 's'", session)
	for i, n := range names {
		exec("UPDATE results SET source = ? WHERE id = ?", "src"+n, i+1)
		exec(`UPDATE session_rows SET recommendation = json_set(recommendation, '$.model_name', ?, '$.hardware', ?,
			'$.recommended_hardware', ?) WHERE position = ?`, "m"+n, "h"+n, "r"+n, i)
	}
	return session
}

// TestStoredNamesNeverPrintRaw: whatever a database holds, no command
// prints a control, bidi or invisible character raw to a terminal —
// tables, JSON, exports to stdout, dry runs and errors alike.
func TestStoredNamesNeverPrintRaw(t *testing.T) {
	db := newDB(t)
	if _, errOut, code := cli(t, db, "integrate", "--budget", "20", "--save", "s"); code != 0 {
		t.Fatal(errOut)
	}
	names := hostile.Terminal()
	session := plantHostile(t, db, names)
	cmds := [][]string{
		{"benchmarks", "list"}, {"benchmarks", "list", "--json"}, {"sessions", "list"}, {"sessions", "show", session},
		{"sessions", "show", session, "--json"}, {"export", "--session", session, "--format", "csv"},
		{"export", "--session", session, "--format", "json"}, {"export", "--session", session, "--format", "sh"},
		{"run", "--session", session, "--dry-run", "--template", "echo {model} {hardware}"},
		{"sessions", "show", session + "x"}, {"sessions", "rename", session, "t"}, {"sessions", "rename", "t", session},
	}
	for _, args := range cmds {
		for _, tty := range []bool{true, false} {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"--db", db}, args...), IO{Out: &out, Err: &errOut, TTY: tty})
			printed := []string{out.String(), errOut.String()}
			if !tty && args[len(args)-1] == "csv" {
				printed = printed[1:] // CSV piped to a file is data: kept as stored (JSON and sh escape instead)
			}
			for _, s := range printed {
				if c := safetext.CleanLines(s); c != s {
					i := 0
					for i < len(s) && i < len(c) && s[i] == c[i] {
						i++
					}
					t.Errorf("%s (tty %v, exit %d) printed a raw control or invisible character near %q", safetext.Quote(strings.Join(args, " ")), tty, code, s[max(0, i-40):min(len(s), i+10)])
				}
			}
		}
	}
}
