package runner

import (
	"fmt"
	"io"
	"os"
)

// OpenRegular opens path and refuses anything but a regular file. The open
// does not wait (nonblockOpen): a FIFO planted in a log or output directory
// would otherwise hang `run` in open(2), waiting for its other end, past
// Ctrl+C. O_NONBLOCK means nothing to a regular file. Executors writing
// into the log directory (runner/kube) use it too.
func OpenRegular(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|nonblockOpen, perm)
	if err != nil {
		// Opening a FIFO with no reader for writing fails (ENXIO): say what
		// it is rather than "no such device or address".
		if st, serr := os.Stat(path); serr == nil && !st.Mode().IsRegular() {
			return nil, notRegular(path, st.Mode())
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(path, st.Mode())
	}
	return f, nil
}

func notRegular(path string, m os.FileMode) error {
	return fmt.Errorf("%s is not a regular file (%s)", path, m.Type())
}

// maxStateBytes bounds the files perfpilot writes for itself and reads
// back (run state, a scheduler's task spec): far above what 100,000
// configurations need, far below what would exhaust memory.
const maxStateBytes = 256 << 20

// readRegular reads a whole regular file of at most max bytes.
func readRegular(path string, max int64) ([]byte, error) {
	f, err := OpenRegular(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, nil
}
