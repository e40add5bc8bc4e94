package web_test

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
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/testdeps"
)

// chromium is Debian's browser; .ci/run installs it with apt.
const chromium = "/usr/bin/chromium"

// TestDashboard runs the browser journeys of tests/e2e.mjs, then the
// hostile script page of tests/isolation.mjs (Playwright driving
// Chromium), against the real picloud binary, built here and started on
// a free port with its own data directory. Screenshots of the main pages
// are saved in tests/output/.
func TestDashboard(t *testing.T) {
	browser := chromium
	if env := os.Getenv("CHROMIUM"); env != "" {
		browser = env
	}
	if _, err := os.Stat(browser); err != nil {
		testdeps.Missingf(t, "Chromium", "no Chromium at %s: the dashboard's browser tests need it (apt-get install chromium, or set CHROMIUM)", browser)
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core")); err != nil {
		testdeps.Missing(t, "web/node_modules", "the dashboard's browser tests need its packages (cd web && npm ci)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testdeps.Missing(t, "Node.js", "node is not on PATH: the dashboard's browser tests need it")
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "picloud")
	build := exec.Command("go", "build", "-o", bin, "github.com/picloud/picloud/cmd/picloud")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build picloud: %v\n%s", err, out)
	}

	addr := freeAddr(t)
	url := "http://" + addr
	const password = "ui-admin-password"
	var serverLog bytes.Buffer
	srv := exec.Command(bin, "serve", "--listen", addr, "--data", filepath.Join(dir, "data"))
	srv.Env = append(cleanEnv(), "PICLOUD_ADMIN_PASSWORD="+password, "PICLOUD_LOG_LEVEL=warn",
		"PICLOUD_LOG_FLUSH=50ms")
	srv.Stdout, srv.Stderr = &serverLog, &serverLog
	if err := srv.Start(); err != nil {
		t.Fatal("start picloud:", err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			srv.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("picloud server log:\n%s", serverLog.String())
		}
	})
	if err := waitHealthy(url, 10*time.Second); err != nil {
		t.Fatalf("picloud did not come up: %v\n%s", err, serverLog.String())
	}

	out, _ := filepath.Abs(filepath.Join("tests", "output"))
	// The files run in order against the one server: isolation.mjs
	// cleans up what it makes, e2e.mjs ends with no apps.
	for _, journey := range []string{"e2e.mjs", "isolation.mjs"} {
		t.Run(journey, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "--test-reporter=spec", filepath.Join("tests", journey))
			cmd.Env = append(cleanEnv(),
				"PICLOUD_URL="+url,
				"PICLOUD_ADMIN_USER=admin",
				"PICLOUD_ADMIN_PASSWORD="+password,
				"PICLOUD_UI_OUTPUT="+out,
				"CHROMIUM="+browser,
				"NO_COLOR=1",
			)
			start := time.Now()
			output, err := cmd.CombinedOutput()
			t.Logf("browser journeys of %s (%s), screenshots in %s:\n%s", journey, time.Since(start).Round(time.Millisecond), out, output)
			if err != nil {
				t.Fatalf("the browser journeys of %s failed: %v", journey, err)
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitHealthy polls /healthz until the server answers: waiting for the
// process to come up is the one place a poll is the point.
func waitHealthy(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cleanEnv is the environment without the developer's own PiCloud
// settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PICLOUD_") {
			env = append(env, kv)
		}
	}
	return env
}
