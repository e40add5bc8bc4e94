package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// Restart backoff of a spawned executor: the first restart waits
// minRestartWait, and each quick crash after it doubles the wait up to
// maxRestartWait; a child that ran for stableAfter resets it.
const (
	minRestartWait = 50 * time.Millisecond
	maxRestartWait = 10 * time.Second
	stableAfter    = 10 * time.Second
)

// supervisor keeps a child process running: it restarts it, with backoff,
// whenever it exits, until stop.
type supervisor struct {
	bin    string
	args   []string
	env    []string // the child's environment; nil: this process's
	stderr io.Writer
	log    *slog.Logger

	stopping chan struct{}
	done     chan struct{}

	mu      sync.Mutex
	proc    *exec.Cmd // the running child; nil between two
	stopped bool
}

// spawn starts bin with args and env (nil: this process's environment)
// and keeps it running. The child's output goes to stderr. It returns the
// error of the first start.
func spawn(bin string, args, env []string, stderr io.Writer, log *slog.Logger) (*supervisor, error) {
	s := &supervisor{bin: bin, args: args, env: env, stderr: stderr, log: log,
		stopping: make(chan struct{}), done: make(chan struct{})}
	started := make(chan error, 1)
	go s.loop(started)
	if err := <-started; err != nil {
		return nil, err
	}
	return s, nil
}

// loop starts children and waits for them. It runs on one locked OS
// thread for its whole life: the kernel's parent-death signal, which
// kills the child when this process dies (SIGKILL included), follows the
// thread that started the child, and the Go runtime could otherwise
// retire that thread.
func (s *supervisor) loop(started chan<- error) {
	runtime.LockOSThread()
	defer close(s.done)
	wait := minRestartWait
	first := true
	for {
		cmd := exec.Command(s.bin, s.args...)
		cmd.Env = s.env
		cmd.Stdout, cmd.Stderr = s.stderr, s.stderr
		cmd.SysProcAttr = childAttr()
		err := cmd.Start()
		if first {
			started <- err
			if err != nil {
				return
			}
			first = false
		}
		if err != nil {
			s.log.Error("unable to restart the executor", "retry_in", wait, "err", err)
		} else {
			if !s.running(cmd) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				return
			}
			since := time.Now()
			err = cmd.Wait()
			if !s.running(nil) {
				return
			}
			if time.Since(since) >= stableAfter {
				wait = minRestartWait
			}
			s.log.Warn("the executor exited; restarting it", "pid", cmd.Process.Pid, "exit", exitDescription(err), "restart_in", wait)
		}
		select {
		case <-s.stopping:
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, maxRestartWait)
	}
}

// running records the running child (nil: none), and reports whether
// the supervisor still runs: once stop is called, it starts no child.
func (s *supervisor) running(proc *exec.Cmd) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proc = proc
	return !s.stopped
}

// stop ends the child with SIGTERM, or SIGKILL after grace, and stops
// restarting it.
func (s *supervisor) stop(grace time.Duration) {
	s.mu.Lock()
	s.stopped = true
	proc := s.proc
	s.mu.Unlock()
	close(s.stopping)
	if proc != nil {
		_ = proc.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-s.done:
	case <-time.After(grace):
		if proc != nil {
			_ = proc.Process.Kill()
		}
		<-s.done
	}
}

func exitDescription(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String() // "exit status 1", "signal: killed"
	}
	if err == nil {
		return "exit status 0"
	}
	return fmt.Sprint(err)
}
