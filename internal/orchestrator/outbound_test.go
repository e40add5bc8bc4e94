package orchestrator

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
)

// TestOutboundPolicyFromApp: a run gets its app's outbound policy, a
// change of it is seen after AppChanged, and the server's outbound limits
// apply to every app.
func TestOutboundPolicyFromApp(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("p", 40))
	}))
	defer up.Close()
	e := newEnv(t, Config{Outbound: executor.OutboundLimits{MaxResponseBytes: 100}})
	a := e.app("demo", store.AppLimits{})
	e.deploy("demo", "call", `let r = ""; try { r = http::get(`+strconv.Quote(up.URL)+`).body; } catch (err) { r = err.message; } r`)

	call := func() string {
		t.Helper()
		rec := e.do("GET", "/fn/demo/call", nil, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	if got := call(); !strings.Contains(got, "outbound HTTP is off for app demo") {
		t.Fatalf("without an allow-list: %q", got)
	}

	update := func(o store.AppOutbound) {
		t.Helper()
		a.Outbound = o
		if err := e.st.UpdateApp(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		e.bus.Publish(events.Event{Kind: events.AppChanged, Key: "demo"})
	}
	update(store.AppOutbound{Allow: []string{"127.0.0.1"}})
	if got := call(); !strings.Contains(got, "refused to connect to 127.0.0.1 (a loopback address)") {
		t.Fatalf("allowed host, private addresses refused: %q", got)
	}
	update(store.AppOutbound{Private: []string{"127.0.0.1"}})
	if got := call(); got != strings.Repeat("p", 40) {
		t.Fatalf("allowed: %q", got)
	}
	// Jobs run under the same policy.
	ran := watch(e.orch)
	start(t, e.orch)
	id := accepted(t, e.do("POST", "/fn/demo/call?async=1", nil, nil))
	if f := ran.next(t); f.job != id || f.state != store.JobOK {
		t.Fatalf("attempt %+v", f)
	}
	if invs := e.attemptsOf(id); len(invs) != 1 || !strings.Contains(invs[0].Summary, strings.Repeat("p", 40)) {
		t.Fatalf("async attempt logged as %+v", invs)
	}

	// The server's limit is the one runs get.
	e2 := newEnv(t, Config{Outbound: executor.OutboundLimits{MaxResponseBytes: 10}})
	b := store.App{Slug: "demo", Outbound: store.AppOutbound{Private: []string{"127.0.0.1"}}}
	if err := e2.st.CreateApp(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	e2.apps["demo"] = b
	e2.deploy("demo", "call", `let r = ""; try { r = http::get(`+strconv.Quote(up.URL)+`).body; } catch (err) { r = err.message; } r`)
	rec := e2.do("GET", "/fn/demo/call", nil, nil)
	if !strings.Contains(rec.Body.String(), "larger than the limit of 10 bytes") {
		t.Fatalf("server limit: %d %q", rec.Code, rec.Body)
	}
}

// TestOutboundSlowUpstream: an upstream slower than the app's time limit
// ends the invocation as a timeout (504) at the limit, logged as such.
func TestOutboundSlowUpstream(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer up.Close()
	defer close(release)
	e := newEnv(t, Config{})
	a := store.App{Slug: "demo", Limits: store.AppLimits{TimeoutMS: 300},
		Outbound: store.AppOutbound{Private: []string{"127.0.0.1"}}}
	if err := e.st.CreateApp(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	e.apps["demo"] = a
	e.deploy("demo", "slow", `http::get(`+strconv.Quote(up.URL)+`)`)
	start := time.Now()
	rec := e.do("GET", "/fn/demo/slow", nil, nil)
	took := time.Since(start)
	if rec.Code != http.StatusGatewayTimeout || !strings.Contains(rec.Body.String(), `"code":"timeout"`) {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if took < 300*time.Millisecond || took > 1300*time.Millisecond {
		t.Errorf("answered after %s with a limit of 300ms", took)
	}
	logs := e.logs()
	if len(logs) != 1 || logs[0].Status != store.StatusTimeout || !strings.Contains(logs[0].Summary, "http::get") {
		t.Fatalf("logs %+v", logs)
	}
}
