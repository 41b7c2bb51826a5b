package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The cluster flags through the whole CLI: usage errors exit 2, the dry
// run shows each executor's submissions and stores nothing it should not,
// a missing placement is reported before anything is submitted, and
// export --format k8s is deterministic.
func TestRunClusterFlags(t *testing.T) {
	db := newDB(t)
	if _, errOut, code := cli(t, db, "integrate", "--budget", "4", "--hardware", "cpu,cuda", "--save", "c"); code != 0 {
		t.Fatalf("integrate: %s", errOut)
	}
	dir := t.TempDir()
	pl := filepath.Join(dir, "placement.toml")
	os.WriteFile(pl, []byte("[placements.cpu.slurm]\npartition = \"cpu\"\n[placements.cuda.slurm]\npartition = \"gpu\"\ngres = \"gpu:a100\"\n"+
		"[placements.cpu.kubernetes]\nnamespace = \"bench\"\nimage = \"bench:1\"\n[placements.cuda.kubernetes]\nnamespace = \"bench\"\nimage = \"bench:1\"\n"), 0o644)
	cpuOnly := filepath.Join(dir, "cpu.json")
	os.WriteFile(cpuOnly, []byte(`{"placements": {"cpu": {"slurm": {"partition": "cpu"}}}}`), 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"placements": {"cpu": {"slurm": {"partition": "cpu", "tiem": "1:00"}}}}`), 0o644)
	outDir := filepath.Join(dir, "out")

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--executor", "lsf"}, 2, `--executor: "lsf" is not an executor (valid: local, slurm, kubernetes)`},
		{[]string{"--executor", "slurm"}, 2, "--placement: required with --executor slurm"},
		{[]string{"--executor", "slurm", "--placement", bad}, 2, `bad.json:1: unknown field "tiem"`},
		{[]string{"--executor", "slurm", "--placement", cpuOnly, "--dry-run"}, 1, "have no slurm placement for hardware cuda"},
		{[]string{"--on-interrupt", "maybe"}, 2, "--on-interrupt"},
		{[]string{"--max-concurrent", "-1"}, 2, "--max-concurrent"},
	} {
		args := append([]string{"run", "--session", "c", "--output-dir", outDir}, c.args...)
		_, errOut, code := cli(t, db, args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, %q; want %d, %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(outDir, "logs", ".slurm")); err == nil {
		t.Error("something was prepared for submission although a placement was missing")
	}

	out, errOut, code := cli(t, db, "run", "--session", "c", "--output-dir", outDir, "--executor", "slurm", "--placement", pl, "--max-concurrent", "2", "--dry-run")
	if code != 0 || !strings.Contains(out, "sbatch --parsable '--array=0-") || !strings.Contains(out, "%2") || !strings.Contains(out, "'--partition=gpu'") {
		t.Fatalf("slurm dry run: %d %s %s", code, out, errOut)
	}
	// The placement is now stored with the session: the k8s export needs no flag.
	a, errOut, code := cli(t, db, "export", "--session", "c", "--format", "k8s")
	b, _, _ := cli(t, db, "export", "--session", "c", "--format", "k8s")
	if code != 0 || a != b || strings.Count(a, "kind: Job") < 1 || !strings.Contains(a, "completionMode: Indexed") {
		t.Errorf("export k8s: %d %s\n%s", code, errOut, a)
	}
	out, _, code = cli(t, db, "run", "--session", "c", "--output-dir", outDir, "--executor", "kubernetes", "--dry-run")
	if code != 0 || !strings.Contains(out, "kubectl apply -f") {
		t.Errorf("kubernetes dry run: %d %s", code, out)
	}
}
