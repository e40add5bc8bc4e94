package execrpc

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// TestKVOverRPC checks that what the kv module needs crosses the RPC: the
// app's id in the event and its key-value limits.
func TestKVOverRPC(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlstore.OpenSQLite(filepath.Join(dir, "kv.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := store.App{Slug: "demo"}
	if err := st.CreateApp(t.Context(), &app); err != nil {
		t.Fatal(err)
	}
	withDB := NewServer(ServerConfig{Executor: executor.New(executor.Config{KV: st})})
	target, _ := newServer(t, filepath.Join(dir, "x.sock"), withDB)
	c, err := NewClient(target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	ev := executor.Event{App: "demo", AppID: app.ID}
	l := lim()
	l.KV.MaxValueBytes = 5
	for i, want := range []string{"1", "2"} {
		res, err := c.Run(ctx, Script{ID: 1, Version: 1, Source: `kv::incr("n")`}, ev, l)
		if err != nil || res.Status != executor.StatusOK || string(res.Body) != want {
			t.Fatalf("run %d: %s %q (%v, %v), want %q", i, res.Status, res.Body, res.Err, err, want)
		}
	}
	res, err := c.Run(ctx, Script{ID: 2, Version: 1, Source: `kv::set("k", "12345")`}, ev, l)
	if err != nil || res.Status != executor.StatusError || !strings.Contains(res.Summary, "kv::set: value of 7 bytes is over the limit of 5") {
		t.Fatalf("a value over the limit: %s %q (%v)", res.Status, res.Summary, err)
	}

	// An executor process without a database says so.
	target, _ = newServer(t, filepath.Join(dir, "y.sock"), newExecutorServer(0))
	c2, err := NewClient(target)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	res, err = c2.Run(ctx, Script{ID: 1, Version: 1, Source: `kv::incr("n")`}, ev, l)
	if err != nil || res.Status != executor.StatusError || !strings.Contains(res.Summary, "kv is not available: the executor has no database") {
		t.Fatalf("without a database: %s %q (%v)", res.Status, res.Summary, err)
	}
}
