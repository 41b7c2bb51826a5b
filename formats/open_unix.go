//go:build unix

package formats

import (
	"os"
	"syscall"
)

// openFIFO opens for reading without waiting for a writer; Go's poller
// then blocks reads (not the thread) and a Close wakes them.
func openFIFO(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
