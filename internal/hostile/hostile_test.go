package hostile

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The generator is only worth something if its values really are hostile:
// evaluated by a shell, most of them create the canary. (The suites that
// use them assert the canary never appears.)
func TestInjectionsReallyInject(t *testing.T) {
	sh, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	hits := 0
	vals := Injections("CANARY")
	for _, v := range vals {
		// Placed bare, in single quotes or in double quotes, as a careless
		// template or script would put it.
		for _, line := range []string{"echo " + v, "echo '" + v + "'", `echo "` + v + `"`} {
			dir := t.TempDir()
			cmd := exec.Command(sh, "-c", line)
			cmd.Dir = dir
			cmd.Run() // a broken quote is a syntax error: that is fine
			if _, err := os.Stat(filepath.Join(dir, "CANARY")); err == nil {
				hits++
				break
			}
		}
	}
	if hits < 25 {
		t.Fatalf("only %d of %d injections run a command when a shell evaluates them", hits, len(vals))
	}
	if len(All("x")) < 30 || len(Numbers()) < 15 {
		t.Fatal("too few hostile values")
	}
}
