//go:build unix

package runner

import "syscall"

const nonblockOpen = syscall.O_NONBLOCK
