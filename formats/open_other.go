//go:build !unix

package formats

import "os"

func openFIFO(name string) (*os.File, error) { return os.Open(name) }
