//go:build unix

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// writable reports whether this process may write the database at path:
// the file (when it exists) and its directory, where SQLite keeps the -wal
// and -shm files. It asks the kernel (access(2)), so root is allowed what
// root is allowed.
func writable(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return true // let Open report it
	}
	const wOK = 2
	if _, err := os.Stat(abs); err == nil {
		if syscall.Access(abs, wOK) != nil {
			return false
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return true
	}
	// The nearest existing directory must take new files.
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(dir); err == nil {
			return syscall.Access(dir, wOK) == nil
		}
		if dir == filepath.Dir(dir) {
			return true
		}
	}
}
