package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"perfpilot/engine"
	"perfpilot/formats"
)

func TestOpenCreatesSeededDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "dir", "perfpilot.db")
	db := openDB(t, path)

	demo := engine.DemoHistory(engine.MustBuiltinCatalog())
	got, err := db.AllResults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(demo) || len(got) == 0 {
		t.Fatalf("seeded %d results, want the %d of the demo history", len(got), len(demo))
	}
	for i := range got {
		if got[i].Source != "simulated" {
			t.Fatalf("seed row %d has source %q, want simulated", i, got[i].Source)
		}
		if !got[i].Timestamp.Equal(demo[i].Timestamp) || got[i].Config != demo[i].Config ||
			got[i].Throughput != demo[i].Throughput || got[i].LatencyMS != demo[i].LatencyMS || got[i].MemoryMB != demo[i].MemoryMB {
			t.Fatalf("seed row %d = %+v, want %+v", i, got[i], demo[i])
		}
	}
	var appID int32
	var version int
	if err := db.sql.QueryRow("PRAGMA application_id").Scan(&appID); err != nil {
		t.Fatal(err)
	}
	if err := db.sql.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if appID != ApplicationID || version != SchemaVersion {
		t.Fatalf("application_id %#x user_version %d, want %#x %d", appID, version, ApplicationID, SchemaVersion)
	}
	var mode string
	if err := db.sql.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q (%v), want wal", mode, err)
	}
	db.Close()

	// Reopening neither reseeds nor migrates again.
	db2 := openDB(t, path)
	if n := countResults(t, db2); n != len(demo) {
		t.Fatalf("after reopen %d results, want %d", n, len(demo))
	}
}

func TestResolvePath(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name, flag, env, xdg, want string
	}{
		{"flag wins", "/x/flag.db", "/x/env.db", "/x/xdg", "/x/flag.db"},
		{"env", "", "/x/env.db", "/x/xdg", "/x/env.db"},
		{"xdg", "", "", "/x/xdg", "/x/xdg/perfpilot/perfpilot.db"},
		{"home fallback", "", "", "", filepath.Join(home, ".local/share/perfpilot/perfpilot.db")},
		{"relative xdg ignored", "", "", "rel/xdg", filepath.Join(home, ".local/share/perfpilot/perfpilot.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("PERFPILOT_DB", tt.env)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			got, err := ResolvePath(tt.flag)
			if err != nil || got != tt.want {
				t.Fatalf("ResolvePath(%q) = %q, %v; want %q", tt.flag, got, err, tt.want)
			}
		})
	}
}

// makeSQLite creates a plain SQLite file (rollback journal) and runs stmts.
func makeSQLite(t *testing.T, path string, stmts ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestOpenRefusesForeignAndNewerFiles(t *testing.T) {
	tests := []struct {
		name    string
		make    func(t *testing.T, path string)
		wantErr error
		wantMsg string
	}{
		{
			name: "text file",
			make: func(t *testing.T, path string) {
				os.WriteFile(path, []byte("model_name,hardware\nthis is not a database\n"), 0o644)
			},
			wantErr: ErrNotPerfpilot, wantMsg: "not a SQLite database",
		},
		{
			name: "short binary file",
			make: func(t *testing.T, path string) {
				os.WriteFile(path, []byte{0x00, 0xff, 0x13}, 0o644)
			},
			wantErr: ErrNotPerfpilot, wantMsg: "not a SQLite database",
		},
		{
			name: "FIFO (opening it would wait for a writer)",
			make: func(t *testing.T, path string) {
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Skip(err)
				}
			},
			wantErr: ErrNotPerfpilot, wantMsg: "not a regular file",
		},
		{
			name: "SQLite of another application",
			make: func(t *testing.T, path string) {
				makeSQLite(t, path, "PRAGMA application_id = 42", "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('keep me')")
			},
			wantErr: ErrNotPerfpilot, wantMsg: "application_id 0x2a",
		},
		{
			name: "SQLite without application_id but with tables",
			make: func(t *testing.T, path string) {
				makeSQLite(t, path, "CREATE TABLE results (x)")
			},
			wantErr: ErrNotPerfpilot, wantMsg: "another application",
		},
		{
			name: "perfpilot database from a newer version",
			make: func(t *testing.T, path string) {
				db, err := Open(context.Background(), path, WithSeed(func() []engine.Result { return engine.DemoHistory(engine.MustBuiltinCatalog()) }))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.sql.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1)); err != nil {
					t.Fatal(err)
				}
				db.Close()
			},
			wantErr: ErrNewerSchema,
			wantMsg: fmt.Sprintf("written by a newer perfpilot (schema %d, this binary knows %d)", SchemaVersion+1, SchemaVersion),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.db")
			tt.make(t, path)
			before, err := readRegular(path)
			if err != nil {
				t.Fatal(err)
			}
			entriesBefore := dirNames(t, dir)
			db, err := Open(context.Background(), path, WithSeed(func() []engine.Result { return engine.DemoHistory(engine.MustBuiltinCatalog()) }))
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want a refusal")
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Open error = %v, want %v mentioning %q", err, tt.wantErr, tt.wantMsg)
			}
			after, err := readRegular(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Fatal("the refused file changed")
			}
			if got := dirNames(t, dir); got != entriesBefore {
				t.Fatalf("directory changed from %s to %s", entriesBefore, got)
			}
		})
	}
}

// readRegular reads a regular file; other files (a FIFO would block) read
// as their mode only.
func readRegular(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return []byte(fmt.Sprint(st.Mode())), err
	}
	return os.ReadFile(path)
}

func dirNames(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}

func TestOpenAcceptsEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	if countResults(t, db) == 0 {
		t.Fatal("an empty file should become a seeded database")
	}
}

// Child processes: the tests below re-exec the test binary with
// PERFPILOT_STORE_HELPER set, running TestHelperProcess as the child.
const helperEnv = "PERFPILOT_STORE_HELPER"

func helperCmd(t *testing.T, role string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + role}, env...)...)
	return cmd
}

func TestHelperProcess(t *testing.T) {
	role := os.Getenv(helperEnv)
	if role == "" {
		t.Skip("helper process for crash and concurrency tests")
	}
	ctx := context.Background()
	db, err := Open(ctx, os.Getenv("HELPER_DB"), WithSeed(func() []engine.Result { return engine.DemoHistory(engine.MustBuiltinCatalog()) }))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	switch role {
	case "import":
		f, err := os.Open(os.Getenv("HELPER_FILE"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		pf, err := formats.ParseResults(f.Name(), f, engine.MustBuiltinCatalog(), formats.ParseOptions{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "parsed; inserting")
		if _, _, err := db.InsertResults(ctx, pf.Results); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	case "write":
		n, _ := strconv.Atoi(os.Getenv("HELPER_N"))
		label := os.Getenv("HELPER_LABEL")
		for i := 0; i < n; i++ {
			r := engine.Result{
				Config:     engine.Config{Model: "gpt2", Hardware: "cuda", BatchSize: 1 + i%64, Precision: engine.FP16, SequenceLength: 128},
				Throughput: 1000 + float64(i), Source: label,
			}
			// Mix reads into the writes, as a dashboard and an import would.
			if _, err := db.Results(ctx, ResultFilter{Source: label}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
			if _, _, err := db.InsertResults(ctx, []engine.Result{r}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
			if i%50 == 0 {
				name := fmt.Sprintf("%s-%d", label, i)
				rep := &engine.Report{OptimizationMetric: engine.Throughput, Strategy: engine.Strategy,
					Recommendations: []engine.Recommendation{{Rank: 1, ModelName: "gpt2", Hardware: "cuda", BatchSize: 1, Precision: engine.FP16}}}
				if err := db.SaveSession(ctx, Session{Name: name, Report: rep}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
			}
		}
	}
	db.Close()
	os.Exit(0)
}

func TestCrashDuringImportLeavesAllOrNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 200k-row file")
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "perfpilot.db")
	file := filepath.Join(dir, "big.csv")
	const rows = 200_000
	if err := os.WriteFile(file, []byte(genCSV(rows, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dbPath)
	seeded := countResults(t, db)
	db.Close()

	cmd := helperCmd(t, "import", "HELPER_DB="+dbPath, "HELPER_FILE="+file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Kill once the import transaction is spilling pages into the WAL, i.e.
	// mid-way through the insert. No wall-clock deadline: under -race on a
	// busy machine parsing alone took over a minute (the test's own
	// timeout still bounds it), and stderr is read only once the child is
	// gone (os/exec writes it from another goroutine until then).
	wal := dbPath + "-wal"
	for killed := false; !killed; {
		select {
		case err := <-exited:
			t.Fatalf("the import finished (%v) before it could be killed; stderr:\n%s", err, stderr.String())
		case <-time.After(2 * time.Millisecond):
		}
		if st, err := os.Stat(wal); err == nil && st.Size() > 4<<20 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	<-exited
	t.Logf("killed the import child; stderr: %q", stderr.String())

	db = openDB(t, dbPath)
	var check string
	if err := db.sql.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	imported, err := db.Results(context.Background(), ResultFilter{Source: "import:big.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(imported); n != 0 && n != rows {
		t.Fatalf("after the crash %d of the file's %d rows are stored; want all or none", n, rows)
	}
	if total := countResults(t, db); total != seeded+len(imported) {
		t.Fatalf("total %d, want %d seeded + %d imported", total, seeded, len(imported))
	}
	// The database stays usable: the same file imports completely now.
	pfData, _ := os.ReadFile(file)
	pf, err := formats.ParseResults(file, bytes.NewReader(pfData), engine.MustBuiltinCatalog(), formats.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.InsertResults(context.Background(), pf.Results); err != nil {
		t.Fatal(err)
	}
	if total := countResults(t, db); total != seeded+rows {
		t.Fatalf("after re-import total %d, want %d", total, seeded+rows)
	}
}

func TestTwoProcessesWriteConcurrently(t *testing.T) {
	// The children also race to create the database: exactly one seeds it.
	dbPath := filepath.Join(t.TempDir(), "new", "perfpilot.db")
	seeded := len(engine.DemoHistory(engine.MustBuiltinCatalog()))

	const perChild = 300
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, label := range []string{"writer-a", "writer-b"} {
		cmd := helperCmd(t, "write", "HELPER_DB="+dbPath, "HELPER_LABEL="+label, "HELPER_N="+strconv.Itoa(perChild))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer %d failed: %v\n%s", i, err, outs[i])
		}
		if strings.Contains(outs[i].String(), "locked") {
			t.Errorf("writer %d saw a lock error:\n%s", i, outs[i])
		}
	}
	db := openDB(t, dbPath)
	if n := countResults(t, db); n != seeded+2*perChild {
		t.Fatalf("%d results, want %d", n, seeded+2*perChild)
	}
	sessions, err := db.Sessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 2*(perChild/50) {
		t.Fatalf("%d sessions, want %d", len(sessions), 2*(perChild/50))
	}
}

func TestExcludeInclude(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	all, err := db.Results(ctx, ResultFilter{})
	if err != nil || len(all) < 3 {
		t.Fatalf("%d results, %v", len(all), err)
	}
	ids := []int64{all[0].ID, all[2].ID}
	if n, err := db.SetExcluded(ctx, ids, true); err != nil || n != 2 {
		t.Fatalf("exclude: %d, %v", n, err)
	}
	// Excluded results are left out of learning, kept in the listing.
	learn, _ := db.Results(ctx, ResultFilter{})
	listed, _ := db.Results(ctx, ResultFilter{WithExcluded: true})
	if len(learn) != len(all)-2 || len(listed) != len(all) || !listed[0].Excluded || listed[1].Excluded || !listed[2].Excluded {
		t.Fatalf("after exclude: %d learned, %d listed (excluded %v %v %v)", len(learn), len(listed), listed[0].Excluded, listed[1].Excluded, listed[2].Excluded)
	}
	for _, r := range learn {
		if r.ID == ids[0] || r.ID == ids[1] {
			t.Fatalf("excluded result %d still learned from", r.ID)
		}
	}
	// Again: nothing changes. An unknown id fails the whole call.
	if n, err := db.SetExcluded(ctx, ids, true); err != nil || n != 0 {
		t.Fatalf("exclude again: %d, %v", n, err)
	}
	if _, err := db.SetExcluded(ctx, []int64{all[1].ID, 1 << 40}, true); err == nil || !strings.Contains(err.Error(), "no result with id") {
		t.Fatalf("unknown id: %v", err)
	}
	if r, _ := db.Results(ctx, ResultFilter{WithExcluded: true}); r[1].Excluded {
		t.Fatal("a failed call excluded a result")
	}
	// Reversible.
	if n, err := db.SetExcluded(ctx, ids, false); err != nil || n != 2 {
		t.Fatalf("include: %d, %v", n, err)
	}
	if back, _ := db.Results(ctx, ResultFilter{}); len(back) != len(all) {
		t.Fatalf("after include %d results, want %d", len(back), len(all))
	}
}
