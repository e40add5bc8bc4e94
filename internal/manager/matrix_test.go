package manager

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// The roles of the matrix, in column order.
var matrixRoles = []string{asAdmin, asEditor, asEditorKey, asViewer, asOutsider, asAnonymous}

// TestRoleMatrix calls every endpoint as every kind of caller: an
// administrator, an editor of app demo (with a session and with an API
// key), a viewer of demo, a member of no app, and no one. The seeded
// editor's API key is "{key}" in URLs.
func TestRoleMatrix(t *testing.T) {
	const (
		deploy = `{"source": "\"hi\""}`
		pw     = `{"password": "new-password-1", "current_password": "password-viewer"}`
		sched  = `{"script": "hello", "cron": "*/10 * * * *", "timezone": "Europe/Paris"}`
		// project changes demo/hello and makes other/secret and fresh/hello.
		project = `{"scripts": [{"name": "hello", "source": "\"project\""}, {"name": "secret", "source": "\"s\""}]}`
	)
	rows := []struct {
		method, url, body string
		// admin, editor, editor's API key, viewer, outsider, anonymous
		want [6]int
	}{
		{"POST", "/api/v1/auth/logout", "", [6]int{204, 204, 400, 204, 204, 401}},
		{"GET", "/api/v1/whoami", "", [6]int{200, 200, 200, 200, 200, 401}},

		{"GET", "/api/v1/users", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"POST", "/api/v1/users", `{"username": "newbie", "password": "password-newbie"}`, [6]int{201, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/users/viewer", "", [6]int{200, 403, 403, 200, 403, 401}},
		{"DELETE", "/api/v1/users/outsider", "", [6]int{204, 403, 403, 403, 403, 401}},
		{"PUT", "/api/v1/users/viewer/password", pw, [6]int{204, 403, 403, 204, 403, 401}},

		{"GET", "/api/v1/api-keys", "", [6]int{200, 200, 200, 200, 200, 401}},
		{"POST", "/api/v1/api-keys", `{"name": "laptop"}`, [6]int{201, 201, 403, 201, 201, 401}},
		{"POST", "/api/v1/api-keys", `{"name": "laptop", "password": "password-editor"}`, [6]int{403, 201, 201, 403, 403, 401}},
		{"DELETE", "/api/v1/api-keys/{key}", "", [6]int{404, 204, 204, 404, 404, 401}},

		{"GET", "/api/v1/apps", "", [6]int{200, 200, 200, 200, 200, 401}},
		{"POST", "/api/v1/apps", `{"slug": "fresh"}`, [6]int{201, 201, 201, 201, 201, 401}},
		{"GET", "/api/v1/apps/demo", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/other", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/apps/nope", "", [6]int{404, 403, 403, 403, 403, 401}},
		{"PATCH", "/api/v1/apps/demo", `{"name": "Demo"}`, [6]int{200, 200, 200, 403, 403, 401}},
		{"PATCH", "/api/v1/apps/demo", `{"limits": {"timeout_ms": 100}}`, [6]int{200, 403, 403, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/demo?force=true", "", [6]int{204, 204, 204, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/other?force=true", "", [6]int{204, 403, 403, 403, 403, 401}},

		{"GET", "/api/v1/apps/demo/members", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"PUT", "/api/v1/apps/demo/members/outsider", `{"role": "viewer"}`, [6]int{201, 201, 201, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/demo/members/viewer", "", [6]int{204, 204, 204, 403, 403, 401}},

		{"GET", "/api/v1/scripts", "", [6]int{200, 200, 200, 200, 200, 401}},
		{"GET", "/api/v1/apps/demo/scripts", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"PUT", "/api/v1/apps/demo/scripts/hello", deploy, [6]int{200, 200, 200, 403, 403, 401}},
		{"PUT", "/api/v1/apps/demo/scripts/brand-new", deploy, [6]int{201, 201, 201, 403, 403, 401}},
		{"PUT", "/api/v1/apps/other/scripts/secret", deploy, [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/apps/demo/scripts/hello", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/other/scripts/secret", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/demo/scripts/hello", "", [6]int{204, 204, 204, 403, 403, 401}},
		{"GET", "/api/v1/apps/demo/scripts/hello/versions", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/demo/scripts/hello/versions/1", "", [6]int{200, 200, 200, 200, 403, 401}},

		{"GET", "/api/v1/apps/demo/logs", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/other/logs", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/logs/inv-demo-ok", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/logs/inv-other", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/logs/nope", "", [6]int{404, 404, 404, 404, 404, 401}},
		{"GET", "/api/v1/apps/demo/logs?status=dead", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/demo/stats", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/demo/stats?script=hello&step=minute&from=2026-12-08T00:00:00Z&to=2026-12-08T01:00:00Z", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/other/stats", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/apps/demo/stats?step=day", "", [6]int{422, 422, 422, 422, 403, 401}},
		{"GET", "/api/v1/logs/job-demo-dead", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/logs/job-other-dead", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"POST", "/api/v1/logs/job-demo-dead/retry", "", [6]int{202, 202, 202, 403, 403, 401}},
		{"POST", "/api/v1/logs/inv-demo-dead-2/retry", "", [6]int{202, 202, 202, 403, 403, 401}},
		{"POST", "/api/v1/logs/job-other-dead/retry", "", [6]int{202, 403, 403, 403, 403, 401}},
		{"POST", "/api/v1/logs/job-demo-queued/retry", "", [6]int{409, 409, 409, 403, 403, 401}},
		{"POST", "/api/v1/logs/inv-demo-ok/retry", "", [6]int{409, 409, 409, 403, 403, 401}},
		{"POST", "/api/v1/logs/nope/retry", "", [6]int{404, 404, 404, 404, 404, 401}},

		{"PATCH", "/api/v1/apps/demo/scripts/hello", `{"max_attempts": 5}`, [6]int{200, 200, 200, 403, 403, 401}},
		{"POST", "/api/v1/apps/demo/scripts/hello/rollback", `{"version": 1}`, [6]int{201, 201, 201, 403, 403, 401}},
		{"POST", "/api/v1/apps/other/scripts/secret/rollback", `{"version": 1}`, [6]int{201, 403, 403, 403, 403, 401}},

		{"POST", "/api/v1/apps/demo/deploy", project, [6]int{200, 200, 200, 403, 403, 401}},
		{"POST", "/api/v1/apps/demo/deploy", `{"scripts": [], "limits": {"timeout_ms": 100}}`, [6]int{200, 403, 403, 403, 403, 401}},
		{"POST", "/api/v1/apps/other/deploy", project, [6]int{200, 403, 403, 403, 403, 401}},
		{"POST", "/api/v1/apps/fresh/deploy", project, [6]int{200, 200, 200, 200, 200, 401}},
		{"GET", "/api/v1/apps/demo/releases", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/other/releases", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/apps/nope/releases", "", [6]int{404, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/apps/demo/releases/1", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/demo/releases/9", "", [6]int{404, 404, 404, 404, 403, 401}},
		{"POST", "/api/v1/apps/demo/releases/1/rollback", `{"message": "back"}`, [6]int{201, 201, 201, 403, 403, 401}},
		{"POST", "/api/v1/apps/other/releases/1/rollback", `{}`, [6]int{404, 403, 403, 403, 403, 401}},
		{"POST", "/api/v1/apps/demo/releases/1/promote", "", [6]int{409, 409, 409, 403, 403, 401}},
		{"POST", "/api/v1/apps/demo/releases/1/abort", "", [6]int{409, 409, 409, 403, 403, 401}},
		{"POST", "/api/v1/apps/other/releases/1/promote", "", [6]int{404, 403, 403, 403, 403, 401}},
		{"POST", "/api/v1/apps/other/releases/1/abort", "", [6]int{404, 403, 403, 403, 403, 401}},

		{"GET", "/api/v1/schedules", "", [6]int{200, 200, 200, 200, 200, 401}},
		{"GET", "/api/v1/apps/demo/schedules", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/other/schedules", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"POST", "/api/v1/apps/demo/schedules", sched, [6]int{201, 201, 201, 403, 403, 401}},
		{"POST", "/api/v1/apps/other/schedules", `{"script": "secret", "cron": "@daily"}`, [6]int{201, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/schedules/{demo}", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/schedules/{other}", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/schedules/999999", "", [6]int{404, 404, 404, 404, 404, 401}},
		{"PATCH", "/api/v1/schedules/{demo}", `{"enabled": false}`, [6]int{200, 200, 200, 403, 403, 401}},
		{"PATCH", "/api/v1/schedules/{other}", `{"enabled": false}`, [6]int{200, 403, 403, 403, 403, 401}},
		{"DELETE", "/api/v1/schedules/{demo}", "", [6]int{204, 204, 204, 403, 403, 401}},
		{"DELETE", "/api/v1/schedules/{other}", "", [6]int{204, 403, 403, 403, 403, 401}},

		{"GET", "/api/v1/apps/demo/secrets", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/other/secrets", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/apps/nope/secrets", "", [6]int{404, 403, 403, 403, 403, 401}},
		{"PUT", "/api/v1/apps/demo/secrets/DEMO_TOKEN", `{"value": "rotated"}`, [6]int{200, 200, 200, 403, 403, 401}},
		{"PUT", "/api/v1/apps/demo/secrets/NEW_TOKEN", `{"value": "fresh"}`, [6]int{201, 201, 201, 403, 403, 401}},
		{"PUT", "/api/v1/apps/other/secrets/OTHER_TOKEN", `{"value": "rotated"}`, [6]int{200, 403, 403, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/demo/secrets/DEMO_TOKEN", "", [6]int{204, 204, 204, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/demo/secrets/NOPE", "", [6]int{404, 404, 404, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/other/secrets/OTHER_TOKEN", "", [6]int{204, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/apps/demo/kv", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/other/kv", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/apps/nope/kv", "", [6]int{404, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/apps/demo/kv/user/1", "", [6]int{200, 200, 200, 200, 403, 401}},
		{"GET", "/api/v1/apps/demo/kv/nope", "", [6]int{404, 404, 404, 404, 403, 401}},
		{"GET", "/api/v1/apps/other/kv/secret", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"PUT", "/api/v1/apps/demo/kv/greeting", `{"value": "hi"}`, [6]int{200, 200, 200, 403, 403, 401}},
		{"PUT", "/api/v1/apps/other/kv/secret", `{"value": 2}`, [6]int{200, 403, 403, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/demo/kv/greeting", "", [6]int{204, 204, 204, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/demo/kv/nope", "", [6]int{404, 404, 404, 403, 403, 401}},
		{"DELETE", "/api/v1/apps/other/kv/secret", "", [6]int{204, 403, 403, 403, 403, 401}},

		{"GET", "/api/v1/audit", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/audit?app=demo", "", [6]int{200, 200, 200, 403, 403, 401}},
		{"GET", "/api/v1/audit?app=other&actor=admin&since=24h&limit=5", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/audit?app=nope", "", [6]int{200, 403, 403, 403, 403, 401}},
		{"GET", "/api/v1/audit?since=yesterday", "", [6]int{422, 403, 403, 403, 403, 401}},
	}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		for _, row := range rows {
			for i, role := range matrixRoles {
				name := role
				if name == "" {
					name = "anonymous"
				}
				t.Run(fmt.Sprintf("%s %s as %s", row.method, row.url, name), func(t *testing.T) {
					t.Parallel()
					e := newEnv(t, b)
					url := strings.NewReplacer("{key}", fmt.Sprint(e.keyID),
						"{demo}", fmt.Sprint(e.schedules["demo"]), "{other}", fmt.Sprint(e.schedules["other"])).Replace(row.url)
					ct := ""
					if row.body != "" {
						ct = "application/json"
					}
					res := e.do(row.method, url, row.body, role, ct)
					if res.status != row.want[i] {
						t.Fatalf("status %d, want %d; body %s", res.status, row.want[i], res.body)
					}
					wantAPIHeaders(t, res.header)
					if res.status == 401 && res.header.Get("WWW-Authenticate") == "" {
						t.Error("401 without WWW-Authenticate")
					}
				})
			}
		}
	})
}

// TestMetricsMatrix is the /metrics row of the matrix: the route lives
// outside the manager's mux (the servers mount it), guarded by
// ProtectMetrics, which also lets the metrics token in.
func TestMetricsMatrix(t *testing.T) {
	const token = "prometheus-scrape-token-0123456789"
	want := [6]int{200, 403, 403, 403, 403, 401}
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		met := metrics.New()
		srv := httptest.NewServer(e.m.ProtectMetrics(met.Handler(), token))
		defer srv.Close()
		get := func(bearer string) int {
			req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		for i, role := range matrixRoles {
			if got := get(e.tokens[role]); got != want[i] {
				t.Errorf("GET /metrics as %q: %d, want %d", role, got, want[i])
			}
		}
		if got := get(token); got != 200 {
			t.Errorf("GET /metrics with the metrics token: %d", got)
		}
		if got := get(token + "x"); got != 401 {
			t.Errorf("GET /metrics with a wrong token: %d", got)
		}
	})
}
