package manager

import (
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store/dbtest"
)

// scenario is one API call and what must come of it, in the style of
// pocketbase's API tests: each runs against a freshly seeded env (see
// newEnv), so scenarios that change data do not affect each other, on
// every backend (see dbtest).
type scenario struct {
	name        string
	method, url string
	body        string
	contentType string                     // default application/json when body is set
	as          string                     // role of the caller (env.tokens), or a raw token
	before      func(t *testing.T, e *env) // prepares the env
	status      int
	contains    []string // substrings the response body must contain
	notContains []string // and must not
	// check inspects the env afterwards, typically the store, to verify
	// that what must not be stored was not.
	check func(t *testing.T, e *env, res response)
}

func runScenarios(t *testing.T, scenarios []scenario) {
	t.Helper()
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) { runScenariosOn(t, b, scenarios) })
}

func runScenariosOn(t *testing.T, b dbtest.Backend, scenarios []scenario) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b)
			if sc.before != nil {
				sc.before(t, e)
			}
			ct := sc.contentType
			if ct == "" && sc.body != "" {
				ct = "application/json"
			}
			res := e.do(sc.method, sc.url, sc.body, sc.as, ct)
			if res.status != sc.status {
				t.Fatalf("%s %s as %q: status %d, want %d; body %s", sc.method, sc.url, sc.as, res.status, sc.status, res.body)
			}
			if ct := res.header.Get("Content-Type"); res.status != 204 && ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			wantAPIHeaders(t, res.header)
			if res.status >= 400 && !strings.Contains(res.body, `"error":{"code":`) {
				t.Errorf("error body %q is not an API error", res.body)
			}
			for _, s := range sc.contains {
				if !strings.Contains(res.body, s) {
					t.Errorf("body %s does not contain %q", res.body, s)
				}
			}
			for _, s := range sc.notContains {
				if strings.Contains(res.body, s) {
					t.Errorf("body %s contains %q", res.body, s)
				}
			}
			if sc.check != nil {
				sc.check(t, e, res)
			}
		})
	}
}
