//go:build unix

package runner

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// childProcAttr puts the benchmark command in a process group of its own,
// so its whole tree can be signalled at once, and has it killed when the
// wrapper dies (Linux).
func childProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(cmd.SysProcAttr, syscall.SIGKILL)
}

// wrapperProcAttr is for the task wrapper the local executor starts: its
// own process group, and SIGTERM when perfpilot dies (Linux), on which it
// stops the command's group before exiting.
func wrapperProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(cmd.SysProcAttr, syscall.SIGTERM)
}

// signalGroup sends sig to the command's whole process group.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, sig)
	}
}

// exitCode reports the exit status, with 128+signal for a killed process as
// shells do.
func exitCode(cmd *exec.Cmd) int {
	if cmd.ProcessState == nil {
		return -1
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// errLocked says a lock is held by another process.
var errLocked = errors.New("held by another process")

// tryLock takes an exclusive flock on path without waiting. The lock lives
// as long as the returned file (and any process that inherited it) is open.
func tryLock(path string) (*os.File, error) {
	f, err := OpenRegular(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}

// acquireTaskLock waits up to wait for a configuration's lock: a process of
// an earlier, killed run may still be stopping (its wrapper got SIGTERM).
func acquireTaskLock(path string, wait time.Duration) (*os.File, error) {
	deadline := time.Now().Add(wait)
	for {
		f, err := tryLock(path)
		if !errors.Is(err, errLocked) {
			return f, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("a process of an earlier run of this configuration is still running (lock %s)", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
