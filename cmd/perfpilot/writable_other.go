//go:build !unix

package main

// writable cannot ask the kernel here; a read-only database then fails
// when it is written, and --read-only chooses read-only access.
func writable(string) bool { return true }
