//go:build !unix

package runner

// Elsewhere there are no FIFOs to wait on in open.
const nonblockOpen = 0
