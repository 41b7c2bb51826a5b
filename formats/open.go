package formats

import (
	"context"
	"fmt"
	"io"
	"os"
)

// OpenInput opens a file to read data from: a regular file, or a pipe or
// FIFO (`import /dev/stdin`, `<(…)`). A FIFO is opened without blocking (a
// FIFO nobody writes then reads as empty instead of hanging) and its reads
// stop when ctx is cancelled, so Ctrl+C always ends the wait. Devices
// (/dev/zero), directories and sockets are refused: they are not files of
// results and some never end.
func OpenInput(ctx context.Context, name string) (io.ReadCloser, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	switch m := st.Mode(); {
	case m.IsRegular():
		return os.Open(name)
	case m&os.ModeNamedPipe != 0:
		f, err := openFIFO(name)
		if err != nil {
			return nil, err
		}
		stop := context.AfterFunc(ctx, func() { f.Close() })
		return &cancelFile{f: f, ctx: ctx, stop: stop}, nil
	default:
		return nil, fmt.Errorf("%s is not a regular file or a pipe but %s", name, kind(m))
	}
}

// cancelFile is a FIFO whose reads fail with the context's error once the
// context is done (closing the file wakes a blocked read).
type cancelFile struct {
	f    *os.File
	ctx  context.Context
	stop func() bool
}

func (c *cancelFile) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	if err != nil && c.ctx.Err() != nil {
		return n, c.ctx.Err()
	}
	return n, err
}

func (c *cancelFile) Close() error {
	c.stop()
	return c.f.Close()
}

// kind names a file type for an error message.
func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeCharDevice != 0, m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}
