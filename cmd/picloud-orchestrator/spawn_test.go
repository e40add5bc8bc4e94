package main

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/testdeps"
)

func (s *supervisor) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.Process.Pid
}

// waitPID waits for a running child other than not.
func waitPID(t *testing.T, s *supervisor, not int) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if pid := s.pid(); pid != 0 && pid != not {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new child after %d", not)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// A child that dies is restarted at once; stop ends it for good.
func TestSupervisorRestartsItsChild(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		testdeps.Missing(t, "sleep", "the supervisor test runs sleep as its child: it is not on PATH")
	}
	s, err := spawn(sleep, []string{"60"}, nil, io.Discard, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	first := waitPID(t, s, 0)
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	second := waitPID(t, s, first)
	if d := time.Since(killed); d > time.Second {
		t.Fatalf("restarted after %v", d)
	}
	s.stop(time.Second)
	if alive(second) {
		t.Fatalf("child %d still runs after stop", second)
	}
	if pid := s.pid(); pid != 0 {
		t.Fatalf("a child %d was started after stop", pid)
	}
}

func TestSupervisorFirstStartFails(t *testing.T) {
	if _, err := spawn("/nonexistent/picloud-executor", nil, nil, io.Discard, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("no error")
	}
}

// The child gets the environment it is given: that is how the database
// reaches a spawned executor, kept off its command line.
func TestSupervisorGivesItsChildTheEnvironment(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		testdeps.Missing(t, "sh", "the supervisor test runs sh as its child: it is not on PATH")
	}
	var out syncWriter
	s, err := spawn(sh, []string{"-c", `echo "db=$PICLOUD_DB"; exec sleep 60`}, append(os.Environ(), "PICLOUD_DB=postgres://x"), &out, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "\n") {
		if time.Now().After(deadline) {
			t.Fatal("the child printed nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := out.String(); got != "db=postgres://x\n" {
		t.Fatalf("the child printed %q", got)
	}
}

// syncWriter is a buffer the child's output may be written to while the
// test reads it.
type syncWriter struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
