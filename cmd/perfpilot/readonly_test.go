package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadOnlyDatabase: a current-schema database in a directory the user
// cannot write serves every reading command, refuses writes with a clear
// error, and is left byte-for-byte untouched, with no -wal or -shm created.
// Root bypasses permissions, so as root the test asks for --read-only
// explicitly (mode=ro, immutable) instead of relying on detection.
func TestReadOnlyDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "pp.db")
	t.Setenv("SOURCE_DATE_EPOCH", "1795000000")
	if _, errOut, code := cli(t, db, "integrate", "--budget", "3", "--save", "s1"); code != 0 {
		t.Fatalf("setup: %s", errOut)
	}
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.Chmod(db, 0o644) })
	var extra []string
	if os.Geteuid() == 0 {
		extra = []string{"--read-only"}
	}
	ro := func(args ...string) (string, string, int) {
		return cli(t, db, append(append([]string{}, extra...), args...)...)
	}

	for _, args := range [][]string{
		{"benchmarks", "list"},
		{"predict", "--model", "gpt2", "--hardware", "cuda"},
		{"integrate", "--budget", "3"},
		{"evaluate", "--split", "kfold", "--metric", "latency"},
		{"sessions", "list"},
		{"sessions", "show", "s1"},
		{"export", "--session", "s1", "--format", "csv"},
		{"catalog", "models"},
		{"catalog", "additions"},
		{"recommend-hardware", "--model", "gpt2"},
		{"export", "--session", "s1", "--format", "sh"},
		{"run", "--session", "s1", "--dry-run"},
	} {
		out, errOut, code := ro(args...)
		if code != 0 || out == "" {
			t.Errorf("%v on a read-only database: exit %d, %q", args, code, errOut)
		}
	}
	csv := filepath.Join(t.TempDir(), "r.csv")
	os.WriteFile(csv, []byte("model_name,hardware,batch_size,precision,latency_ms\ngpt2,cpu,3,fp32,17\n"), 0o644)
	for _, args := range [][]string{
		{"integrate", "--budget", "3", "--save", "s2"},
		{"sessions", "delete", "s1"},
		{"benchmarks", "delete", "--source", "simulated"},
		{"sessions", "rename", "s1", "s3"},
		{"run", "--session", "s1", "--template", "true", "--output-dir", t.TempDir()},
		{"import", csv},
		{"catalog", "forget", "1"},
	} {
		_, errOut, code := ro(args...)
		if code != exitFailure || !strings.Contains(errOut, "read-only") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, %q; want exit 1 saying the database is read-only", args, code, errOut)
		}
	}
	if os.Geteuid() == 0 {
		// Detection, too: the same commands as an unprivileged user, without --read-only.
		asNobody(t, dir, db)
	}
	after, err := os.ReadFile(db)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the read-only database changed (%v)", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("the read-only directory gained files: %v", names)
	}
}

// asNobody reruns this test binary as uid 65534 to run reading and writing
// commands on the database without --read-only: perfpilot must notice by
// itself that it cannot write.
func asNobody(t *testing.T, dir, db string) {
	t.Helper()
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if d == os.TempDir() || filepath.Dir(d) == os.TempDir() {
			break
		}
	}
	// The test binary sits in a private build directory: copy it out.
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(filepath.Dir(dir), "helper.test")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestReadOnlyHelper$")
	cmd.Env = append(os.Environ(), "PERFPILOT_RO_HELPER_DB="+db, "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as an unprivileged user: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "read 0 write 1") {
		t.Fatalf("as an unprivileged user the exit codes were not read 0 write 1:\n%s", out)
	}
}

// TestReadOnlyHelper is asNobody's child.
func TestReadOnlyHelper(t *testing.T) {
	db := os.Getenv("PERFPILOT_RO_HELPER_DB")
	if db == "" {
		t.Skip("helper for TestReadOnlyDatabase")
	}
	var out, errOut bytes.Buffer
	read := run(context.Background(), []string{"--db", db, "benchmarks", "list"}, IO{Out: &out, Err: &errOut})
	write := run(context.Background(), []string{"--db", db, "sessions", "delete", "s1"}, IO{Out: &out, Err: &errOut})
	fmt.Printf("read %d write %d\n%s", read, write, errOut.String())
}
