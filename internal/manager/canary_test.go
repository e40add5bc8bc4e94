package manager

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// canaryDeploy is a project deploy of demo that changes hello, as a
// canary of the given plan.
func canaryDeploy(source string, plan *api.CanaryPlan) api.ProjectDeploy {
	return api.ProjectDeploy{Message: "try " + source, Canary: plan,
		Scripts: []api.ProjectScript{{Name: "hello", Source: source}}}
}

// release reads release id of demo through the API.
func (e *env) release(id int64) api.Release {
	e.t.Helper()
	var rel api.Release
	res := e.do("GET", "/api/v1/apps/demo/releases/"+itoa(int(id)), "", asViewer, "")
	if res.status != 200 {
		e.t.Fatalf("release %d: %d %s", id, res.status, res.body)
	}
	res.decode(e.t, &rel)
	return rel
}

// liveSource is the live source of a script of demo.
func (e *env) liveSource(name string) string {
	e.t.Helper()
	live, err := e.st.GetLiveScript(context.Background(), "demo", name)
	e.must(err)
	return live.Version.Source
}

// A canary deploy starts a rollout that the rule rolls back when the
// canary fails, or promotes at the end of its window; promote and abort
// end one at once; nothing else deploys meanwhile.
func TestCanaryRollout(t *testing.T) { dbtest.Run(t, testCanaryRollout) }

func testCanaryRollout(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	ctx := context.Background()
	demo := e.apps["demo"]
	now := time.Now().UTC().Truncate(time.Second)
	e.m.now = func() time.Time { return now }
	plan := &api.CanaryPlan{Percent: 10, WindowSeconds: 60, MinRequests: 5}

	for _, bad := range []*api.CanaryPlan{{Percent: 0}, {Percent: 100}, {Percent: 10, WindowSeconds: -1},
		{Percent: 10, WindowSeconds: 8 * 24 * 3600}, {Percent: 10, MinRequests: -1}} {
		_, res := e.deployAs(asEditor, "demo", canaryDeploy(`"two"`, bad), 422)
		if !strings.Contains(res.body, "canary") {
			t.Errorf("canary %+v: %s", bad, res.body)
		}
	}
	if _, res := e.deployAs(asEditor, "fresh", canaryDeploy(`"one"`, plan), 422); !strings.Contains(res.body, "no earlier release") {
		t.Errorf("a canary of a new app: %s", res.body)
	}
	if e.appExists("fresh") {
		t.Error("a refused canary deploy created its app")
	}

	// Release 2 rolls out; hello is live at v2, release 1 keeps 90%.
	e.clearEvents()
	out, _ := e.deployAs(asEditor, "demo", canaryDeploy(`"two"`, plan), 200)
	rel := out.Release
	if rel == nil || rel.ID != 2 || rel.State != api.ReleaseCanary || rel.Canary == nil ||
		rel.Canary.Percent != 10 || rel.Canary.BaseRelease != 1 || rel.Canary.WindowSeconds != 60 ||
		rel.Canary.MinRequests != 5 || !rel.Canary.EndsAt.Equal(now.Add(time.Minute)) || rel.Canary.DecidedAt != nil {
		t.Fatalf("canary release %+v (canary %+v)", rel, rel.Canary)
	}
	wantEvents(t, e, "app_changed demo")
	if got := e.release(1).State; got != api.ReleaseDeployed {
		t.Errorf("release 1 state %q, want deployed", got)
	}

	// Nothing else deploys while it runs.
	_, res := e.deployAs(asEditor, "demo", canaryDeploy(`"three"`, nil), 409)
	if !strings.Contains(res.body, `"code":"canary_running"`) || !strings.Contains(res.body, "pic releases promote|abort demo 2") {
		t.Errorf("deploy during a canary: %s", res.body)
	}
	if res := e.do("POST", "/api/v1/apps/demo/releases/1/rollback", `{}`, asEditor, "application/json"); res.status != 409 ||
		!strings.Contains(res.body, "canary_running") {
		t.Errorf("rollback during a canary: %d %s", res.status, res.body)
	}

	// Within the window, few failures keep it; enough roll it back.
	e.must(e.st.AddCanaryCounts(ctx, []store.CanaryDelta{{AppID: demo.ID, ReleaseID: 2,
		Base: store.CanaryCounts{Total: 90}, Candidate: store.CanaryCounts{Total: 4, Errors: 4}}}))
	e.must(e.m.CheckCanaries(ctx))
	if got := e.release(2).State; got != api.ReleaseCanary {
		t.Fatalf("after 4 canary requests: %s, want canary", got)
	}
	e.clearEvents()
	e.must(e.st.AddCanaryCounts(ctx, []store.CanaryDelta{{AppID: demo.ID, ReleaseID: 2,
		Base: store.CanaryCounts{Total: 10}, Candidate: store.CanaryCounts{Total: 6, Errors: 1}}}))
	e.must(e.m.CheckCanaries(ctx))
	two := e.release(2)
	if two.State != api.ReleaseRolledBack || two.Canary.Reason != "canary error rate 50.0% (5 of 10), previous release 0.0% (0 of 100): worse by more than 5 points" ||
		two.Canary.DecidedAt == nil || two.Canary.Candidate != (api.CanaryCounts{Requests: 10, Errors: 5}) {
		t.Fatalf("after 10 canary requests: %+v", two.Canary)
	}
	three := e.release(3)
	if three.RolledBackFrom != 1 || three.CreatedBy != nil || !strings.HasPrefix(three.Message, "canary release 2 rolled back: canary error rate 50.0%") {
		t.Errorf("the rollback's release %+v", three)
	}
	if got := e.liveSource("hello"); got != e.sourceOf("hello", 1) {
		t.Errorf("hello after the rollback: %q", got)
	}
	wantEvents(t, e, "app_changed demo")
	e.must(e.m.CheckCanaries(ctx)) // decided once
	if list, _ := e.st.ListReleases(ctx, demo.ID); len(list) != 3 {
		t.Errorf("%d releases after a second check, want 3", len(list))
	}

	// The next canary shares the traffic with release 3, not with the
	// release sent back; an editor promotes it.
	out, _ = e.deployAs(asEditor, "demo", canaryDeploy(`"four"`, plan), 200)
	if out.Release.ID != 4 || out.Release.Canary.BaseRelease != 3 {
		t.Fatalf("the canary after a rollback: %+v", out.Release)
	}
	const promote = "/api/v1/apps/demo/releases/4/promote"
	if res := e.do("POST", promote, "", asViewer, ""); res.status != 403 {
		t.Errorf("promote as viewer: %d %s", res.status, res.body)
	}
	res = e.do("POST", promote, "", asEditor, "")
	var four api.Release
	res.decode(t, &four)
	if res.status != 200 || four.State != api.ReleasePromoted || four.Canary.Reason != "promoted by editor" {
		t.Fatalf("promote: %d %s", res.status, res.body)
	}
	if res := e.do("POST", promote, "", asEditor, ""); res.status != 409 || !strings.Contains(res.body, `"code":"not_canary"`) {
		t.Errorf("promote twice: %d %s", res.status, res.body)
	}
	if got := e.liveSource("hello"); got != `"four"` {
		t.Errorf("hello after the promotion: %q", got)
	}

	// The end of the window promotes a healthy canary.
	out, _ = e.deployAs(asEditor, "demo", canaryDeploy(`"five"`, plan), 200)
	e.must(e.st.AddCanaryCounts(ctx, []store.CanaryDelta{{AppID: demo.ID, ReleaseID: 5,
		Base: store.CanaryCounts{Total: 50, Errors: 1}, Candidate: store.CanaryCounts{Total: 5}}}))
	now = now.Add(59 * time.Second)
	e.must(e.m.CheckCanaries(ctx))
	if got := e.release(5).State; got != api.ReleaseCanary {
		t.Fatalf("within the window: %s", got)
	}
	now = now.Add(time.Second)
	e.must(e.m.CheckCanaries(ctx))
	if five := e.release(5); five.State != api.ReleasePromoted || !strings.HasPrefix(five.Canary.Reason, "window ended: canary error rate 0.0%") {
		t.Fatalf("at the end of the window: %+v", five.Canary)
	}

	// Abort sends one back at once.
	e.deployAs(asEditor, "demo", canaryDeploy(`"six"`, plan), 200)
	res = e.do("POST", "/api/v1/apps/demo/releases/6/abort", "", asEditor, "")
	if res.status != 200 || !strings.Contains(res.body, `"state":"aborted"`) || !strings.Contains(res.body, `"reason":"aborted by editor"`) {
		t.Fatalf("abort: %d %s", res.status, res.body)
	}
	if got := e.liveSource("hello"); got != `"five"` {
		t.Errorf("hello after the abort: %q", got)
	}
	var list []api.Release
	e.do("GET", "/api/v1/apps/demo/releases", "", asViewer, "").decode(t, &list)
	var states []string
	for _, r := range list {
		states = append(states, r.State)
	}
	if got := strings.Join(states, " "); got != "deployed aborted promoted promoted deployed rolled_back deployed" {
		t.Errorf("states of the releases, newest first: %s", got)
	}
}

// sourceOf is the source of a version of a script of demo.
func (e *env) sourceOf(name string, version int) string {
	e.t.Helper()
	sc, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, name)
	e.must(err)
	v, err := e.st.GetVersion(context.Background(), sc.ID, version)
	e.must(err)
	return v.Source
}
