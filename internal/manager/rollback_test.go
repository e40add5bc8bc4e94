package manager

import (
	"context"
	"strings"
	"testing"
)

func TestRollbackScenarios(t *testing.T) {
	const (
		hello    = "/api/v1/apps/demo/scripts/hello"
		rollback = hello + "/rollback"
	)
	// unchanged checks that a refused rollback stored nothing and told
	// no one.
	unchanged := func(t *testing.T, e *env, _ response) {
		t.Helper()
		if n := e.versions("demo", "hello"); n != 2 {
			t.Fatalf("%d versions, want the 2 there were", n)
		}
		wantEvents(t, e)
	}
	runScenarios(t, []scenario{
		{name: "rollback", method: "POST", url: rollback, as: asEditor, body: `{"version": 1}`, status: 201,
			contains: []string{`"name":"hello"`, `"version":3`, `"live_version":3`, `"rolled_back_from":1`},
			check: func(t *testing.T, e *env, _ response) {
				if res := e.do("GET", hello, "", asViewer, ""); !strings.Contains(res.body, `"source":"\"hello v1\""`) ||
					!strings.Contains(res.body, `"live_version":3`) {
					t.Fatalf("live script after the rollback: %s", res.body)
				}
				res := e.do("GET", hello+"/versions", "", asViewer, "")
				if !strings.Contains(res.body, `"version":3,"live":true,"created_by":"editor"`) ||
					!strings.Contains(res.body, `"rolled_back_from":1}`) ||
					strings.Count(res.body, "rolled_back_from") != 1 {
					t.Fatalf("versions after the rollback: %s", res.body)
				}
				if res := e.do("GET", hello+"/versions/3", "", asViewer, ""); !strings.Contains(res.body, `"rolled_back_from":1`) {
					t.Fatalf("version 3: %s", res.body)
				}
				wantEvents(t, e, "script_changed demo/hello")
			}},
		{name: "rollback to the live version", method: "POST", url: rollback, as: asEditor, body: `{"version": 2}`, status: 201,
			contains: []string{`"version":3`, `"rolled_back_from":2`}},
		{name: "rollback with an API key", method: "POST", url: rollback, as: asEditorKey, body: `{"version": 1}`, status: 201},
		{name: "rollback unknown version", method: "POST", url: rollback, as: asEditor, body: `{"version": 3}`, status: 404,
			contains: []string{`"code":"not_found"`, `version 3 of script \"hello\" in app \"demo\" not found`}, check: unchanged},
		{name: "rollback version zero", method: "POST", url: rollback, as: asEditor, body: `{"version": 0}`, status: 422,
			contains: []string{`"code":"invalid"`, "positive integer"}, check: unchanged},
		{name: "rollback negative version", method: "POST", url: rollback, as: asEditor, body: `{"version": -1}`, status: 422, check: unchanged},
		{name: "rollback without a version", method: "POST", url: rollback, as: asEditor, body: `{}`, status: 422, check: unchanged},
		{name: "rollback version not a number", method: "POST", url: rollback, as: asEditor, body: `{"version": "1"}`, status: 400, check: unchanged},
		{name: "rollback malformed JSON", method: "POST", url: rollback, as: asEditor, body: `{"version": 1`, status: 400, check: unchanged},
		{name: "rollback unknown script", method: "POST", url: "/api/v1/apps/demo/scripts/nope/rollback", as: asEditor,
			body: `{"version": 1}`, status: 404, check: noScript("nope")},
		{name: "rollback as viewer", method: "POST", url: rollback, as: asViewer, body: `{"version": 1}`, status: 403, check: unchanged},
		{name: "rollback to a version that no longer compiles", method: "POST", url: rollback, as: asEditor, body: `{"version": 3}`,
			before: func(t *testing.T, e *env) {
				// Only an engine change makes a stored version stop
				// compiling; the store takes any source.
				_, _, err := e.st.DeployScript(context.Background(), e.apps["demo"].ID, "hello", "let = ;", 0)
				e.must(err)
				_, _, err = e.st.DeployScript(context.Background(), e.apps["demo"].ID, "hello", `"hello v4"`, 0)
				e.must(err)
			},
			status: 422, contains: []string{`"code":"compile_error"`},
			check: func(t *testing.T, e *env, _ response) {
				if n := e.versions("demo", "hello"); n != 4 {
					t.Fatalf("%d versions, want the 4 there were", n)
				}
				wantEvents(t, e)
			}},
	})
}
