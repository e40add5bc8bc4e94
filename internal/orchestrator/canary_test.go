package orchestrator

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// release stores a release of app with the live versions of its scripts,
// as the manager does after a deploy.
func (e *testEnv) release(app string) int64 {
	e.t.Helper()
	ctx := context.Background()
	a := e.apps[app]
	scripts, err := e.st.ListScripts(ctx, a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	rel := store.Release{AppID: a.ID}
	for _, s := range scripts {
		rel.Scripts = append(rel.Scripts, store.ReleaseScript{ScriptID: s.ID, Name: s.Name, Version: s.LiveVersion})
	}
	if err := e.st.CreateRelease(ctx, &rel); err != nil {
		e.t.Fatal(err)
	}
	return rel.ID
}

// A running canary sends its share of the requests of each script it
// changes to the new versions — of the script and of everything it
// imports — and the rest to the base release's; a client id keeps a
// client on one side; the outcomes are counted per side and flushed.
func TestCanarySplit(t *testing.T) { dbtest.Run(t, testCanarySplit) }

func testCanarySplit(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	ctx := context.Background()
	e.deploy("demo", "lib", `fn v() { "1" }`)
	e.deploy("demo", "a", `import "lib" as l; "a" + l::v()`)
	e.deploy("demo", "plain", `"plain"`)
	e.deploy("demo", "boom", `"fine"`)
	base := e.release("demo")
	e.deploy("demo", "lib", `fn v() { "2" }`)
	e.deploy("demo", "a", `import "lib" as l; "A" + l::v()`)
	e.deploy("demo", "boom", `throw "boom"`)
	e.deploy("demo", "fresh", `"new"`)
	cand := e.release("demo")
	demo := e.apps["demo"]
	if err := e.st.CreateCanary(ctx, &store.Canary{AppID: demo.ID, ReleaseID: cand, BaseRelease: base, Percent: 30,
		Window: time.Minute, MinRequests: 10, State: store.CanaryRunning, EndsAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.AppChanged, Key: "demo"})

	const n = 400
	seen := map[string]int{}
	for range n {
		code, body := e.get("/fn/demo/a")
		seen[strconv.Itoa(code)+" "+body]++
	}
	if len(seen) != 2 || seen["200 A2"]+seen["200 a1"] != n {
		t.Fatalf("answers %v: want only a1 (base) and A2 (canary), never a mix", seen)
	}
	if got := seen["200 A2"]; got < n*20/100 || got > n*40/100 {
		t.Errorf("%d of %d requests went to the canary, want about 30%%", got, n)
	}
	// Scripts the canary does not change, or that the base lacks, are
	// not split.
	for path, want := range map[string]string{"/fn/demo/plain": "plain", "/fn/demo/fresh": "new"} {
		for range 20 {
			if code, body := e.get(path); code != 200 || body != want {
				t.Fatalf("%s: %d %q", path, code, body)
			}
		}
	}
	// A client stays on its side, by header or by cookie.
	for _, h := range []map[string]string{{ClientHeader: "alice"}, {ClientHeader: "bob"}, {"Cookie": ClientCookie + "=carol"}} {
		first := e.do("GET", "/fn/demo/a", nil, h).Body.String()
		for range 20 {
			if got := e.do("GET", "/fn/demo/a", nil, h).Body.String(); got != first {
				t.Fatalf("client %v got %q then %q", h, first, got)
			}
		}
	}
	// Failures are counted on their side.
	failed := 0
	for range 100 {
		code, body := e.get("/fn/demo/boom")
		switch {
		case code == 500:
			failed++
		case code != 200 || body != "fine":
			t.Fatalf("boom: %d %q", code, body)
		}
	}
	if failed == 0 || failed == 100 {
		t.Errorf("%d of 100 requests to boom failed: want the canary's share", failed)
	}

	if err := e.orch.flushCanaryCounts(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := e.st.GetCanary(ctx, demo.ID, cand)
	if err != nil {
		t.Fatal(err)
	}
	clients := int64(3 * 21)
	if c.Candidate.Errors != int64(failed) || c.Base.Errors != 0 ||
		c.Candidate.Total+c.Base.Total != n+clients+100 || c.Candidate.Total < int64(seen["200 A2"]+failed) {
		t.Errorf("counts %+v; want %d canary errors, %d requests in all", c, failed, n+clients+100)
	}
	if m := scrape(t, e.metrics); !strings.Contains(m, `picloud_canary_requests_total{app="demo",outcome="error",side="canary"} `+strconv.Itoa(failed)) {
		t.Errorf("metrics:\n%s", grep(m, "picloud_canary"))
	}

	// Once ended, the live versions serve every request.
	if _, err := e.st.EndCanary(ctx, demo.ID, cand, store.CanaryPromoted, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.AppChanged, Key: "demo"})
	for range 50 {
		if code, body := e.get("/fn/demo/a"); code != 200 || body != "A2" {
			t.Fatalf("after the promotion: %d %q", code, body)
		}
	}
}
