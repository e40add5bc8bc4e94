package orchestrator

import (
	"net/http"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// TestKV runs scripts that use the key-value store through the data plane
// and the queue: each run reaches the keys of its own app, and the app's
// limits apply.
func TestKV(t *testing.T) { dbtest.Run(t, testKV) }

func testKV(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.app("small", store.AppLimits{KVMaxValueBytes: 10})
	e.deploy("demo", "hits", `kv::incr("hits")`)
	e.deploy("other", "hits", `kv::incr("hits")`)
	e.deploy("small", "put", `kv::set("k", request.body); "stored"`)

	hit := func(app, want string) {
		t.Helper()
		rec := e.do("GET", "/fn/"+app+"/hits", nil, nil)
		if rec.Code != http.StatusOK || rec.Body.String() != want {
			t.Fatalf("%s: %d %q, want 200 %q", app, rec.Code, rec.Body, want)
		}
	}
	hit("demo", "1")
	hit("demo", "2")
	hit("other", "1")

	// A queued job counts too.
	ran := watch(e.orch)
	accepted(t, e.do("POST", "/fn/demo/hits?async=1", nil, nil))
	start(t, e.orch)
	if f := ran.next(t); f.state != store.JobOK {
		t.Fatalf("the async attempt ended %s", f.state)
	}
	hit("demo", "4")

	// The app's own value limit.
	if rec := e.do("POST", "/fn/small/put", strings.NewReader("12345678"), nil); rec.Code != http.StatusOK {
		t.Fatalf("a value of 10 bytes: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do("POST", "/fn/small/put", strings.NewReader("123456789"), nil); rec.Code != http.StatusInternalServerError {
		t.Fatalf("a value of 11 bytes: %d %s, want 500", rec.Code, rec.Body)
	}
	logs := e.logs()
	want := "kv::set: value of 11 bytes is over the limit of 10"
	if len(logs) == 0 {
		t.Fatal("no logs")
	}
	if logs[0].Status != store.StatusError || !strings.Contains(logs[0].Summary, want) {
		t.Fatalf("newest log %+v, want an error with %q", logs[0], want)
	}
}
