//go:build unix

package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envSockDirChild makes the test binary an orchestrator stand-in: it
// makes its socket directory, prints it, and waits until killed or until
// its standard input closes.
const envSockDirChild = "PICLOUD_TEST_SOCKDIR_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envSockDirChild) == "1" {
		dir, release, err := makeSocketDir(slog.New(slog.DiscardHandler))
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(dir)
		io.Copy(io.Discard, os.Stdin)
		release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startHolder starts a stand-in orchestrator and returns its socket
// directory; closing stdin stops it cleanly, cmd.Process.Kill with -9.
func startHolder(t *testing.T) (cmd *exec.Cmd, stdin io.WriteCloser, dir string) {
	t.Helper()
	cmd = exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envSockDirChild+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, os.TempDir()) {
		t.Fatalf("the stand-in said %q (%v)", line, err)
	}
	return cmd, stdin, strings.TrimSpace(line)
}

// A kill -9ed orchestrator's socket directory is removed by the next
// start; a running one's, another user's file and an unlocked directory
// that may be in the making are kept.
func TestStaleSocketDirs(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	tmp := os.TempDir()

	dead, _, deadDir := startHolder(t)
	if err := dead.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	dead.Wait()
	if _, err := os.Stat(filepath.Join(deadDir, sockDirLock)); err != nil {
		t.Fatalf("the killed stand-in left no directory to clean: %v", err)
	}
	live, liveIn, liveDir := startHolder(t)

	young := filepath.Join(tmp, sockDirPrefix+"young")
	old := filepath.Join(tmp, sockDirPrefix+"old")
	other := filepath.Join(tmp, "picloud-something-else")
	for _, d := range []string{young, old, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * unlockedGrace)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(tmp, sockDirPrefix+"link")
	if err := os.Symlink(other, link); err != nil {
		t.Fatal(err)
	}

	// The next start cleans, then makes its own directory.
	dir, release, err := makeSocketDir(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for path, kept := range map[string]bool{deadDir: false, old: false, liveDir: true, young: true, other: true, link: true, dir: true} {
		_, err := os.Lstat(path)
		if exists := err == nil; exists != kept {
			t.Errorf("%s: exists %v, want %v", filepath.Base(path), exists, kept)
		}
	}
	// The live one is still locked: a lock taken and let go by the check
	// does not break its owner's.
	if socketDirStale(liveDir) || socketDirStale(dir) {
		t.Error("a running orchestrator's directory looks stale")
	}
	release()
	if _, err := os.Stat(dir); err == nil {
		t.Error("release left the directory")
	}
	// A clean stop removes its own directory.
	liveIn.Close()
	if err := live.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(liveDir); err == nil {
		t.Error("a clean stop left its directory")
	}
}
