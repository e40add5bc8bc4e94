// Package picloudproc runs the picloud binary for the benchmark harnesses:
// it builds cmd/picloud of the module the bench module replaces, finds a
// free port, collects the process's output and waits for it to answer.
package picloudproc

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Build builds cmd/picloud into dir, as the product is built
// (CGO_ENABLED=0), with extra arguments to go build (such as -overlay),
// and returns the binary's path.
func Build(ctx context.Context, dir string, extra ...string) (string, error) {
	root, err := ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "picloud")
	args := append(append([]string{"build", "-o", bin}, extra...), "./cmd/picloud")
	build := exec.CommandContext(ctx, "go", args...)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build picloud: %w\n%s", err, out)
	}
	return bin, nil
}

// ModuleRoot is the directory of the picloud module that the bench module
// replaces.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/picloud/picloud").Output()
	if err != nil {
		return "", fmt.Errorf("find the picloud module (run this from the bench directory): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// FreeAddr returns a loopback address with a port free at the moment.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// WaitHealthy waits until url's /healthz answers 200, at most timeout.
func WaitHealthy(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", url+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("picloud did not answer /healthz within %s: %v", timeout, err)
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// SyncBuffer is a bytes.Buffer that a process may write while the harness
// reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
