//go:build unix && !linux

package runner

import "syscall"

// setPdeathsig: only Linux can signal a child when its parent dies; there
// the wrapper's own signal handling is what stops the command.
func setPdeathsig(*syscall.SysProcAttr, syscall.Signal) {}
