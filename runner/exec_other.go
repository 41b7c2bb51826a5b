//go:build !unix

package runner

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

func childProcAttr(*exec.Cmd)   {}
func wrapperProcAttr(*exec.Cmd) {}

// signalGroup can only kill the process itself on this system.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

func exitCode(cmd *exec.Cmd) int {
	if cmd.ProcessState == nil {
		return -1
	}
	return cmd.ProcessState.ExitCode()
}

// Without flock there is no lock: a resumed run relies on the state file.
func tryLock(path string) (*os.File, error) { return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644) }

func acquireTaskLock(path string, _ time.Duration) (*os.File, error) { return tryLock(path) }
