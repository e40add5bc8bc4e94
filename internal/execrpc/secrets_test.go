package execrpc

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/executor"
)

// The app's secrets reach a remote executor with the event, and what it
// answers for the log is redacted there: the orchestrator never gets the
// value back in an output, summary or error.
func TestSecretsOverRPC(t *testing.T) {
	target, _ := newServer(t, filepath.Join(t.TempDir(), "x.sock"), newExecutorServer(0))
	c, err := NewClient(target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const value = "rpc-secret-value-42"
	ev := executor.Event{App: "shop", Script: "s", Env: map[string]string{"TOKEN": value}}

	res, err := c.Run(context.Background(), Script{ID: 1, Version: 1, Source: `print(env.TOKEN); secret("TOKEN")`}, ev, lim())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.StatusOK || string(res.Body) != value || res.Output != "[secret TOKEN]\n" ||
		strings.Contains(res.Summary, value) || !strings.Contains(res.Summary, "[secret TOKEN]") {
		t.Fatalf("got %s %q output %q summary %q", res.Status, res.Body, res.Output, res.Summary)
	}

	res, err = c.Run(context.Background(), Script{ID: 2, Version: 1, Source: `throw "bad " + env.TOKEN`}, ev, lim())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.StatusError || res.Err == nil || strings.Contains(res.Err.Error()+res.Summary, value) ||
		!strings.Contains(res.Err.Error(), "bad [secret TOKEN]") {
		t.Fatalf("got %s err %v summary %q", res.Status, res.Err, res.Summary)
	}

	res, err = c.Run(context.Background(), Script{ID: 3, Version: 1, Source: `secret("MISSING")`}, ev, lim())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != executor.StatusError || !strings.Contains(res.Summary, "secret MISSING is not set for app shop") {
		t.Fatalf("got %s summary %q", res.Status, res.Summary)
	}
}
