//go:build unix

package netguard

import "syscall"

// fileLimit is the number of files the process may open, 0 when unknown.
// Go raises the soft limit to the hard one at start.
func fileLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur > 1<<30 {
		return 0
	}
	return int(l.Cur)
}
