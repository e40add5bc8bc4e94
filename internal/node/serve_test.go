package node_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/node"
)

// Serve is the whole life of a server binary: listen, start, serve with
// the connection guard, and on cancel shut down and close the node.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := node.New(ctx, node.Config{SQLite: filepath.Join(dir, "picloud.db")})
	if err != nil {
		t.Fatal(err)
	}
	// The first admin: a generated password printed once, never again.
	var out bytes.Buffer
	if err := n.FirstAdmin(ctx, "root", "", &out, " Change it soon."); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `Created the first admin user "root" with password: `) || !strings.Contains(out.String(), "Change it soon.") {
		t.Errorf("first start printed %q", out.String())
	}
	out.Reset()
	if err := n.FirstAdmin(ctx, "root", "", &out, ""); err != nil || out.Len() != 0 {
		t.Errorf("second start: %v, printed %q", err, out.String())
	}

	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- n.Serve(ctx, node.Serving{
			Listen:          "127.0.0.1:0",
			Protection:      &cluster.Protection{ReadHeaderTimeout: time.Second, IdleTimeout: time.Second},
			ShutdownTimeout: 5 * time.Second,
			Ready:           func(addr string) { ready <- addr },
		})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Serve ended before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve never became ready")
	}
	if code, body := get(t, "http://"+addr+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/healthz: %d %s", code, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	// The node is closed: its store refuses work.
	if _, err := n.Store.ListApps(context.Background()); err == nil {
		t.Error("the store still answers after Serve returned")
	}
}

// A listen address in use fails Serve at once, before anything starts.
func TestServeListenError(t *testing.T) {
	n, err := node.New(context.Background(), node.Config{SQLite: filepath.Join(t.TempDir(), "picloud.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	err = n.Serve(context.Background(), node.Serving{Listen: "127.0.0.1:notaport", ShutdownTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Serve on a bad address: %v", err)
	}
}
