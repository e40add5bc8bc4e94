//go:build unix

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The executor's socket lives in a directory of its own under the temp
// directory, made at start and removed at stop. An orchestrator killed
// with SIGKILL cannot remove it, so each start removes the directories of
// the orchestrators that are gone. Which are gone is told by a lock, not a
// pid (pids are reused): each orchestrator holds an exclusive flock on
// the lock file of its directory for as long as it lives, and the kernel
// drops it when the process dies, however it dies.
const (
	sockDirPrefix = "picloud-orchestrator-"
	sockDirLock   = "owner.lock"
	// unlockedGrace spares a directory without a lock file (made by an
	// older version, or by an orchestrator between making the directory
	// and locking it) while it is this young.
	unlockedGrace = time.Minute
)

// makeSocketDir removes the socket directories of dead orchestrators,
// then makes this one's and locks it. release unlocks and removes it.
func makeSocketDir(log *slog.Logger) (dir string, release func(), err error) {
	removeStaleSocketDirs(os.TempDir(), log)
	dir, err = os.MkdirTemp("", sockDirPrefix)
	if err != nil {
		return "", nil, fmt.Errorf("executor socket directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, sockDirLock), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("executor socket directory: unable to lock %s: %w", dir, err)
	}
	return dir, func() { lock.Close(); os.RemoveAll(dir) }, nil
}

// removeStaleSocketDirs removes, in tmp, the socket directories of this
// user's orchestrators that are no longer running.
func removeStaleSocketDirs(tmp string, log *slog.Logger) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		log.Warn("unable to look for stale executor socket directories", "dir", tmp, "err", err)
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), sockDirPrefix) {
			continue // a symlink is not a directory here: never followed
		}
		dir := filepath.Join(tmp, e.Name())
		if !ownDir(e) || !socketDirStale(dir) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("unable to remove the socket directory of a dead orchestrator", "dir", dir, "err", err)
			continue
		}
		log.Info("removed the socket directory of a dead orchestrator", "dir", dir)
	}
}

// ownDir reports whether the directory belongs to this process's user:
// another user's orchestrators are none of our business.
func ownDir(e fs.DirEntry) bool {
	info, err := e.Info()
	if err != nil {
		return false
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// socketDirStale reports whether the orchestrator that made dir is gone:
// its lock can be taken (then it is let go at once), or, without a lock
// file, the directory is older than unlockedGrace. In doubt, it is not.
func socketDirStale(dir string) bool {
	lock, err := os.Open(filepath.Join(dir, sockDirLock))
	if errors.Is(err, fs.ErrNotExist) {
		info, err := os.Stat(dir)
		return err == nil && time.Since(info.ModTime()) > unlockedGrace
	}
	if err != nil {
		return false
	}
	defer lock.Close() // lets go of a lock taken below
	return syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
