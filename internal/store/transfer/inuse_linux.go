package transfer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// fOFDGetLK is Linux's F_OFD_GETLK (since 3.15), which package syscall
// does not name: the same on every architecture.
const fOFDGetLK = 36

// checkNotInUse refuses the database at path when a connection, in any
// process, has it open. SQLite's connections to a WAL database hold a
// shared lock on the database file and on its -shm file for as long as
// they are open, idle or not; a running picloud always has one. Open file
// description locks are asked for, as they conflict with the locks of
// this very process too (a test's store); a kernel without them is asked
// for the other processes' locks only.
func checkNotInUse(path string) error {
	for _, p := range []string{path, path + "-shm"} {
		pid, locked, err := lockHolder(p)
		if err != nil {
			return fmt.Errorf("transfer: unable to tell whether %s is in use: %w", p, err)
		}
		if !locked {
			continue
		}
		holder := "a process"
		if pid > 0 {
			holder = fmt.Sprintf("process %d", pid)
		}
		return fmt.Errorf("%w: %s holds %s open (a running picloud?); stop it first, so that nothing is written after the copy",
			ErrSourceInUse, holder, path)
	}
	return nil
}

// lockHolder reports whether a lock that conflicts with writing is held
// on any byte of the file at path, and the process that holds it when the
// kernel says (not for open file description locks). A missing file has
// no lock.
func lockHolder(path string) (pid int, locked bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	// Len 0 covers the whole file, however far it grows.
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	err = syscall.FcntlFlock(f.Fd(), fOFDGetLK, &lk)
	if errors.Is(err, syscall.EINVAL) {
		lk = syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0}
		err = syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk)
	}
	if err != nil {
		return 0, false, err
	}
	if lk.Type == syscall.F_UNLCK {
		return 0, false, nil
	}
	return int(lk.Pid), true, nil
}
