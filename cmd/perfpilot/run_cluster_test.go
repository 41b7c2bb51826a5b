package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"perfpilot/cmdtmpl"
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
	// The dashboard's --placement is checked before the dashboard opens.
	unknownHW := filepath.Join(dir, "tpu.json")
	os.WriteFile(unknownHW, []byte(`{"placements": {"tpu9": {"slurm": {"partition": "p"}}}}`), 0o644)
	for _, c := range []struct{ file, want string }{
		{bad, `bad.json:1: unknown field "tiem"`},
		{unknownHW, `hardware "tpu9" not in the catalog`},
		{dir, "not a regular file"},
		{filepath.Join(dir, "none.json"), "no such file"},
	} {
		for _, args := range [][]string{{"--placement", c.file}, {"tui", "--placement", c.file}} {
			if _, errOut, code := cli(t, db, args...); code != exitUsage || !strings.Contains(errOut, c.want) {
				t.Errorf("%q: exit %d, %q; want %d, %q", args, code, errOut, exitUsage, c.want)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(outDir, "logs", ".slurm")); err == nil {
		t.Error("something was prepared for submission although a placement was missing")
	}

	out, errOut, code := cli(t, db, "run", "--session", "c", "--output-dir", outDir, "--executor", "slurm", "--placement", pl, "--max-concurrent", "2", "--dry-run")
	if code != 0 || !strings.Contains(out, "sbatch --parsable '--array=0-") || !strings.Contains(out, "%2") || !strings.Contains(out, "'--partition=gpu'") {
		t.Fatalf("slurm dry run: %d %s %s", code, out, errOut)
	}
	// A dry run stores nothing with the session: export needs the file.
	if _, errOut, code := cli(t, db, "export", "--session", "c", "--format", "k8s"); code != 2 || !strings.Contains(errOut, "--placement: required") {
		t.Errorf("export k8s without a placement: %d %s", code, errOut)
	}
	a, errOut, code := cli(t, db, "export", "--session", "c", "--format", "k8s", "--placement", pl)
	b, _, _ := cli(t, db, "export", "--session", "c", "--format", "k8s", "--placement", pl)
	if code != 0 || a != b || strings.Count(a, "kind: Job") < 1 || !strings.Contains(a, "completionMode: Indexed") {
		t.Errorf("export k8s: %d %s\n%s", code, errOut, a)
	}
	out, _, code = cli(t, db, "run", "--session", "c", "--output-dir", outDir, "--executor", "kubernetes", "--placement", pl, "--dry-run")
	if code != 0 || !strings.Contains(out, "kubectl apply -f") {
		t.Errorf("kubernetes dry run: %d %s", code, out)
	}
}

// slurmUp makes sure the local Slurm runs (scripts/slurm-local.sh), or
// skips where it cannot start; CI must run it.
func slurmUp(t *testing.T) {
	t.Helper()
	if os.Getenv("SLURM_CONF") == "" {
		t.Setenv("SLURM_CONF", "/var/tmp/perfpilot-slurm/slurm.conf")
	}
	if exec.Command("sinfo", "-h").Run() == nil {
		return
	}
	why := "Slurm is not running and starting it needs root"
	if os.Geteuid() == 0 {
		out, err := exec.Command("../../scripts/slurm-local.sh", "start").CombinedOutput()
		if err == nil && exec.Command("sinfo", "-h").Run() == nil {
			return
		}
		why = fmt.Sprintf("scripts/slurm-local.sh start: %v %s", err, out)
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must run the Slurm tests: %s", why)
	}
	t.Skip("skipping the real-Slurm test: " + why)
}

// The user's path on a real Slurm: run with an executor, placement and
// template, interrupted and left running; `run --resume` alone (the
// session remembers the rest) follows the same jobs and submits nothing.
func TestRunSlurmResumeCLI(t *testing.T) {
	slurmUp(t)
	db := newDB(t)
	session := fmt.Sprintf("cli-%d", time.Now().UnixNano())
	if _, errOut, code := cli(t, db, "integrate", "--budget", "3", "--hardware", "cpu,cuda", "--save", session); code != 0 {
		t.Fatalf("integrate: %s", errOut)
	}
	dir := t.TempDir()
	pl := filepath.Join(dir, "placement.json")
	os.WriteFile(pl, []byte(`{"placements": {"cpu": {"slurm": {"partition": "cpu"}}, "cuda": {"slurm": {"partition": "gpu", "gres": "gpu:a100"}}}}`), 0o644)
	script := filepath.Join(dir, "bench.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 2\necho '{\"throughput\": 9}'\n"), 0o755)
	outDir := filepath.Join(dir, "out")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Interrupt once the jobs are submitted (their ids are in the state file).
		for ctx.Err() == nil {
			if data, _ := os.ReadFile(filepath.Join(outDir, "logs", "run-state.json")); strings.Count(string(data), `"job_id"`) == 3 {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"--db", db, "run", "--session", session, "--output-dir", outDir, "--executor", "slurm", "--placement", pl,
		"--template", "sh " + cmdtmpl.Quote(script) + " {model}", "--on-interrupt", "leave"}, IO{Out: &out, Err: &errOut})
	cancel()
	if code != 1 || !strings.Contains(errOut.String(), "jobs left running with slurm") || !strings.Contains(errOut.String(), "--resume") {
		t.Fatalf("interrupted run: exit %d\n%s", code, errOut.String())
	}
	stdout, stderr, code := cli(t, db, "run", "--session", session, "--output-dir", outDir, "--resume")
	if code != 0 || !strings.Contains(stderr, "3 still with the scheduler") {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	var res struct {
		Measured int `json:"measured"`
		Jobs     []struct {
			JobID string `json:"job_id"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Measured != 3 || res.Jobs[0].JobID == "" {
		t.Errorf("resume output: %v %s", err, stdout)
	}
	arrays, _ := exec.Command("squeue", "-h", "-t", "all", "--name=perfpilot-"+session, "-O", "ArrayJobID").Output()
	if n := len(strings.Fields(string(arrays))); n != 3 {
		t.Errorf("Slurm saw %d tasks for the session, want 3 (nothing submitted twice): %q", n, arrays)
	}
}
