package manager

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// TestAuditRecordsChanges makes a representative set of changes through
// the API and reads them back from GET /api/v1/audit: the actor, object,
// app and outcome of each, a denied request, a failed login, and a
// secret's value nowhere in the log.
func TestAuditRecordsChanges(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		const secretValue = "s3cr3t-value-never-logged"
		steps := []struct {
			method, url, body, as string
			status                int
		}{
			{"DELETE", fmt.Sprintf("/api/v1/schedules/%d", e.schedules["demo"]), "", asEditor, 204},
			{"PUT", "/api/v1/apps/demo/scripts/hello", `{"source": "\"v3\""}`, asEditor, 200},
			{"PUT", "/api/v1/apps/demo/secrets/API_TOKEN", `{"value": "` + secretValue + `"}`, asEditor, 201},
			{"PUT", "/api/v1/apps/demo/members/outsider", `{"role": "viewer"}`, asAdmin, 201},
			{"DELETE", "/api/v1/apps/demo/scripts/hello", "", asViewer, 403},
			{"PUT", "/api/v1/apps/demo/scripts/Bad Name", `{"source": "1"}`, asEditor, 422},
			{"POST", "/api/v1/users", `{"username": "newbie", "password": "password-newbie"}`, asAdmin, 201},
			{"POST", "/api/v1/auth/login", `{"username": "viewer", "password": "wrong-password"}`, asAnonymous, 401},
			{"POST", "/api/v1/auth/login", `{"username": "viewer", "password": "password-viewer"}`, asAnonymous, 200},
		}
		for _, s := range steps {
			if res := e.do(s.method, s.url, s.body, s.as, "application/json"); res.status != s.status {
				t.Fatalf("%s %s as %q: status %d, want %d; body %s", s.method, s.url, s.as, res.status, s.status, res.body)
			}
		}
		res := e.do("GET", "/api/v1/audit?limit=50", "", asAdmin, "")
		if res.status != 200 {
			t.Fatalf("GET /api/v1/audit: %d %s", res.status, res.body)
		}
		if strings.Contains(string(res.body), secretValue) || strings.Contains(string(res.body), "password-newbie") {
			t.Fatalf("a secret value or a password reached the audit log: %s", res.body)
		}
		var got []api.AuditEntry
		res.decode(t, &got)
		want := []struct{ action, actor, object, app, outcome, reason string }{
			{"auth.login", "viewer", "viewer", "", "ok", ""},
			{"auth.login", "viewer", "viewer", "", "failed", "invalid username or password"},
			{"user.create", "admin", "newbie", "", "ok", ""},
			{"script.deploy", "editor", "Bad Name", "demo", "failed", "script name"},
			{"script.delete", "viewer", "hello", "demo", "denied", "needs an editor"},
			{"member.put", "admin", "outsider", "demo", "ok", ""},
			{"secret.put", "editor", "API_TOKEN", "demo", "ok", ""},
			{"script.deploy", "editor", "hello", "demo", "ok", ""},
			{"schedule.delete", "editor", fmt.Sprint(e.schedules["demo"]), "demo", "ok", ""},
		}
		if len(got) < len(want) {
			t.Fatalf("%d entries, want at least %d: %+v", len(got), len(want), got)
		}
		for i, w := range want {
			g := got[i]
			if g.Action != w.action || g.Actor != w.actor || g.ObjectName != w.object || g.App != w.app ||
				g.Outcome != w.outcome || !strings.Contains(g.Reason, w.reason) || (w.reason == "") != (g.Reason == "") {
				t.Errorf("entry %d = %+v, want %+v", i, g, w)
			}
			if g.Address == "" || g.At.IsZero() || g.ID == 0 {
				t.Errorf("entry %d lacks its address, time or id: %+v", i, g)
			}
		}
		// The details hold the status the caller got.
		for i, status := range map[int]int{4: 403, 3: 422, 6: 201, 8: 204, 7: 200} {
			var details struct{ Status int }
			if err := json.Unmarshal(got[i].Details, &details); err != nil || details.Status != status {
				t.Errorf("entry %d (%s) details %s: want status %d (%v)", i, got[i].Action, got[i].Details, status, err)
			}
		}
		if got[0].ActorID != e.users[asViewer].ID || got[1].ActorID != e.users[asViewer].ID {
			t.Errorf("logins' actor ids %d, %d, want %d", got[0].ActorID, got[1].ActorID, e.users[asViewer].ID)
		}
	})
}

// TestAuditVisibility checks who sees which entries: administrators all
// of them, with filters; an app's editors that app's only.
func TestAuditVisibility(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		for _, s := range []struct{ url, as string }{
			{"/api/v1/apps/demo/secrets/A", asEditor},
			{"/api/v1/apps/other/secrets/B", asAdmin},
		} {
			if res := e.do("PUT", s.url, `{"value": "x"}`, s.as, "application/json"); res.status != 201 {
				t.Fatalf("PUT %s: %d %s", s.url, res.status, res.body)
			}
		}
		list := func(url, as string) []api.AuditEntry {
			t.Helper()
			res := e.do("GET", url, "", as, "")
			if res.status != 200 {
				t.Fatalf("GET %s as %s: %d %s", url, as, res.status, res.body)
			}
			var out []api.AuditEntry
			res.decode(t, &out)
			return out
		}
		// names lists the secret changes, leaving out the fixture's logins.
		names := func(es []api.AuditEntry) string {
			var s []string
			for _, x := range es {
				if x.Action != "secret.put" {
					continue
				}
				s = append(s, x.App+"/"+x.ObjectName)
			}
			return strings.Join(s, " ")
		}
		if got := names(list("/api/v1/audit", asAdmin)); got != "other/B demo/A" {
			t.Errorf("admin sees %q, want both entries", got)
		}
		if got := names(list("/api/v1/audit?app=demo", asEditor)); got != "demo/A" {
			t.Errorf("demo's editor sees %q, want demo's entry only", got)
		}
		if got := names(list("/api/v1/audit?actor=admin", asAdmin)); got != "other/B" {
			t.Errorf("?actor=admin: %q", got)
		}
		if got := names(list("/api/v1/audit?since=2000-01-01T00:00:00Z&limit=1", asAdmin)); got != "other/B" {
			t.Errorf("?limit=1: %q", got)
		}
		if got := list("/api/v1/audit?since=1h&app=demo", asEditor); len(got) != 1 {
			t.Errorf("?since=1h: %d entries, want 1", len(got))
		}
		for _, bad := range []string{"limit=0", "limit=x", "since=-1h", "since=2999-01-01T00:00:00Z"} {
			if res := e.do("GET", "/api/v1/audit?"+bad, "", asAdmin, ""); res.status != 422 {
				t.Errorf("?%s: status %d, want 422", bad, res.status)
			}
		}
	})
}

// TestAuditReplaysOfANode checks the replay endpoint a node serves alone
// (NewReplays), which has no login throttle: its requests are recorded
// with the peer's address.
func TestAuditReplaysOfANode(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		h := NewReplays(ReplayConfig{Store: e.st}).Handler()
		req := httptest.NewRequest("POST", "/api/v1/logs/nope/replay", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+e.tokens[asEditor])
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		// Without a replayer the endpoint answers 501, still audited.
		if rec.Code != 501 {
			t.Fatalf("replay: %d %s", rec.Code, rec.Body)
		}
		list, err := e.st.ListAudit(t.Context(), store.AuditFilter{Actor: "editor", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Action != "log.replay" || list[0].ObjectName != "nope" || list[0].Outcome != store.AuditFailed ||
			list[0].Address != "192.0.2.1" || !strings.Contains(list[0].Reason, "does not run scripts") {
			t.Fatalf("the replay's entry: %+v", list)
		}
	})
}
