package execrpc

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/picloud/picloud/internal/executor"
)

// TestOutboundPolicyCrossesTheRPC: the app's outbound policy reaches the
// executor process with the event; without it the same call is refused.
func TestOutboundPolicyCrossesTheRPC(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong") }))
	defer up.Close()
	target, _ := newServer(t, filepath.Join(t.TempDir(), "x.sock"), newExecutorServer(0))
	c, err := NewClient(target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := Script{ID: 1, Version: 1, Source: `http::get(` + strconv.Quote(up.URL) + `).body`}

	ev := executor.Event{App: "demo", Outbound: executor.Outbound{Private: []string{"127.0.0.1"}}}
	res, err := c.Run(context.Background(), s, ev, lim())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.StatusOK || string(res.Body) != "pong" {
		t.Errorf("allowed: status %s, body %q, err %v", res.Status, res.Body, res.Err)
	}

	ev.Outbound = executor.Outbound{Allow: []string{"127.0.0.1"}}
	res, err = c.Run(context.Background(), s, ev, lim())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.StatusError || res.Err == nil {
		t.Errorf("private address not allowed: status %s, body %q", res.Status, res.Body)
	}
}
