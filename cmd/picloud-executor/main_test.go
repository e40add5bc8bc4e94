package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/execrpc"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// serve runs the executor with args on a new unix socket until the test
// ends, and returns a client of it.
func serve(t *testing.T, args ...string) *execrpc.Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "x.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"--listen", "unix:" + sock, "--log-level", "error"}, args...),
			func(string) string { return "" }, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	c, err := execrpc.NewClient("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// Waiting for the process to listen is the one place a poll is the
	// point.
	deadline := time.Now().Add(10 * time.Second)
	for c.Health(context.Background()) != nil {
		select {
		case err := <-done:
			t.Fatalf("the executor stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the executor did not come up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c
}

// TestKVWithDatabase checks that --db gives scripts the key-value store
// of the cluster's database, and that without it kv calls say why they
// fail.
func TestKVWithDatabase(t *testing.T) {
	dsn := pgtest.DSN(t) // skips without PostgreSQL
	st, err := sqlstore.OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := store.App{Slug: "demo"}
	if err := st.CreateApp(t.Context(), &app); err != nil {
		t.Fatal(err)
	}
	ev := executor.Event{App: "demo", AppID: app.ID}
	script := execrpc.Script{ID: 1, Version: 1, Source: `kv::incr("hits")`}

	c := serve(t, "--db", dsn)
	for _, want := range []string{"1", "2"} {
		res, err := c.Run(context.Background(), script, ev, executor.DefaultLimits())
		if err != nil || res.Status != executor.StatusOK || string(res.Body) != want {
			t.Fatalf("%s %q (%v, %v), want %q", res.Status, res.Body, res.Err, err, want)
		}
	}
	e, err := st.KVGet(t.Context(), app.ID, "hits", time.Now())
	if err != nil || string(e.Value) != "2" {
		t.Fatalf("stored %q (%v), want 2", e.Value, err)
	}

	c = serve(t)
	res, err := c.Run(context.Background(), script, ev, executor.DefaultLimits())
	if err != nil || res.Status != executor.StatusError || !strings.Contains(res.Summary, "kv is not available: the executor has no database") {
		t.Fatalf("without --db: %s %q (%v)", res.Status, res.Summary, err)
	}
}
