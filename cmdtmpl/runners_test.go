package cmdtmpl

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"perfpilot/internal/hostile"
)

// Wrapper prefixes, options with values included: each runs what follows it.
var wrapperPrefixes = []string{
	"", "timeout 10", "timeout -s KILL 10", "timeout -k 5 10", "timeout --signal KILL 10", "env", "env -u HOME", "env -i A=1",
	"env --unset HOME", "nice", "nice -n 10", "nice --adjustment 5", "ionice -c 3", "ionice -c 2 -n 7", "stdbuf -o L", "stdbuf -oL -eL",
	"setsid", "setsid -w", "chrt -f 99", "chrt 10", "taskset 0x3", "taskset -c 0", "sudo", "sudo -u root", "sudo -E -u bench",
	"sudo -g wheel", "doas -u root", "xargs", "xargs -a list", "xargs -0 -n 1", "xargs -I {}", "nohup", "time -p", "time -f %e",
	"flock /tmp/l", "flock -w 5 /tmp/l", "chroot /", "strace -f -o log", "numactl -N 0 -m 0", "numactl --cpunodebind 0",
	"srun -N 1 --gres gpu:1", "mpirun -np 4", "docker run --rm -v /d:/d img", "podman run img", "kubectl exec pod --",
	"kubectl exec -it pod -c c --", "singularity exec img.sif", "busybox", "uv run", "poetry run", "conda run -n env",
	"command", "exec -a x", "valgrind --tool=memcheck", "systemd-run --unit=bench", "nsenter -t 1 -m", "unshare -r", "firejail --quiet",
	"/usr/bin/timeout 5", "npx", "npm exec",
}

// Runners with code flags, options with values before the code flag.
var codeRunners = []string{
	"sh -c", "bash -c", "bash -o pipefail -c", "bash -euo pipefail -c", "bash --rcfile x -c", "bash +o posix -c", "sh -e -c", "dash -xc",
	"zsh -o x -c", "fish -c", "fish --command", "python3 -c", "python3 -W ignore -c", "python3 -X dev -c", "python3 -I -c", "python3 -Wignore -c",
	"python3.12 -c", "python3-dbg -c", "./venv/bin/python -c", "pypy3 -c", "python3 -m timeit", "python -m pdb -c", "node -e", "node -r x -e",
	"node --require x --eval", "node -p", "node --input-type module -e", "nodejs -e", "deno eval", "bun -e", "ruby -e", "ruby -I lib -e",
	"ruby -r json -e", "perl -e", "perl -E", "perl -I lib -E", "perl -Mstrict -le", "perl -lne", "php -r", "php -d x=1 -r", "php -B",
	"lua -e", "lua -l m -e", "lua5.4 -e", "Rscript -e", "Rscript --vanilla -e", "R -e", "julia -e", "julia --eval", "gdb -batch -ex",
	"gdb --batch --eval-command", "gdb -q -iex", "env -S", "env -iS", "env --split-string", "script -qc", "script -c", "su root -c",
	"su -c", "flock /tmp/l -c", "pwsh -Command", "pwsh -EncodedCommand", "pwsh -c", "osascript -e", "sudo -s", "sudo -u root -i",
	"guile -c", "racket -e", "sbcl --eval", "clisp -x", "awk", "sed -e", "sed -n -e", "ssh host", "watch", "parallel", "eval",
	"make", "jq -n", "vim -c", "groovy -e", "scala -e", "jshell",
}

// Runners that run a file or class a value could name.
var scriptRunners = []string{"java", "java -jar", "java --module", "java -m", "java -cp lib -jar", "java -Xmx4g -jar", "java --class-path lib",
	"java -cp lib:x -Dk=v", "python3", "python3 -m", "node", "perl -w", "bash", "ruby -w"}

// TestRunnersNeverGetAValue: every wrapper (with options taking values)
// around every code runner, the placeholder as the code, after it, or as
// what runs — all refused; the same wrappers around a script that takes
// the values as arguments — all accepted.
func TestRunnersNeverGetAValue(t *testing.T) {
	var refused, accepted []string
	for _, p := range wrapperPrefixes {
		join := func(s string) string { return strings.TrimSpace(p + " " + s) }
		for _, r := range codeRunners {
			refused = append(refused, join(r+" {model}"), join(r+" x {model}"), join(r+" 'print(1)' --m={model}"))
		}
		if p != "" {
			refused = append(refused, join("{model} --x"), join("{model}"), join("./b{model}"))
		}
		for _, r := range scriptRunners {
			refused = append(refused, join(r+" {model}"), join(r+" {model}.jar x"))
		}
		refused = append(refused, join("java -jar={model}"), join(`find . -exec {model} \;`), join(`find /d -name x -execdir {model} --x +`), join(`find . -ok {model} \;`),
			join("find . -exec sh -c x {model} +"))
		accepted = append(accepted, join(`find . -name {model} -exec ./bench.sh {} \;`))
		accepted = append(accepted, join("./bench.sh --model {model}"), join("bash script.sh {model}"), join("python3 -u bench.py {model}"),
			join("python bench.py -c cfg {model}"), join("node bench.js --hw {hardware}"), join("perl -w bench.pl {model}"),
			join("sh ./bench.sh -c x {model}"), join("python3 -m bench {model}"), join("java -jar bench.jar {model}"),
			join("java -cp lib.jar Bench --model {model}"), join("java -Xmx4g --module app/bench.Main {model}"), join("java Bench.java {model}"))
	}
	for _, tmpl := range refused {
		if _, err := Parse(tmpl); err == nil {
			t.Errorf("Parse(%q) accepted a template that hands a value to a runner", tmpl)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q): error is not one line: %q", tmpl, err)
		}
	}
	for _, tmpl := range accepted {
		if _, err := Parse(tmpl); err != nil {
			t.Errorf("Parse(%q) = %v; want it accepted", tmpl, err)
		}
	}
	if len(refused) < 1000 || len(accepted) < 100 {
		t.Fatalf("%d refused and %d accepted templates", len(refused), len(accepted))
	}
}

// TestAcceptedWrappersRunNothing runs accepted wrapper templates for real
// (those whose programs are installed) with every hostile value: the
// script prints its arguments and nothing else happens.
func TestAcceptedWrappersRunNothing(t *testing.T) {
	dir := t.TempDir()
	canary := filepath.Join(dir, "CANARY")
	script := filepath.Join(dir, "bench.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, p := range []string{"", "timeout 10", "timeout -s KILL 10", "env", "env -u HOME A=1", "nice -n 5", "stdbuf -o L", "setsid",
		"ionice -c 3", "taskset -c 0", "xargs -0", "nohup", "busybox sh"} {
		tm, err := Parse(strings.TrimSpace(p + " " + script + " --model {model} {hardware}"))
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		for _, v := range hostile.Injections(canary) {
			argv, err := tm.Argv(map[string]string{"model": v, "hardware": v})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := exec.LookPath(argv[0]); err != nil {
				break
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
			cmd.Dir = dir
			if strings.HasPrefix(p, "xargs") {
				cmd.Stdin = strings.NewReader("")
			}
			out, err := cmd.Output()
			cancel()
			if err != nil {
				t.Errorf("%q with %q: %v", p, v, err)
				continue
			}
			ran++
			if !strings.HasPrefix(p, "xargs") && !strings.Contains(string(out), v+"\n"+v+"\n") {
				t.Errorf("%q: the value %q did not arrive as two whole arguments: %q", p, v, out)
			}
			if _, err := os.Stat(canary); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%q with %q: the canary exists", p, v)
			}
		}
	}
	if ran == 0 {
		t.Skip("none of the wrappers is installed")
	}
}
