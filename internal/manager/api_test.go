package manager

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store"
)

func TestAuthScenarios(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "login", method: "POST", url: "/api/v1/auth/login", body: `{"username": "viewer", "password": "password-viewer"}`,
			status: 200, contains: []string{`"token":"pcs_`, `"expires_at":"`, `"username":"viewer"`, `"role":"member"`, `"role_label":"Member"`},
			notContains: []string{"password", "hash"}},
		{name: "login wrong password", method: "POST", url: "/api/v1/auth/login", body: `{"username": "viewer", "password": "nope-nope"}`,
			status: 401, contains: []string{`"code":"unauthorized"`, "invalid username or password"}, notContains: []string{"token"}},
		{name: "login unknown user", method: "POST", url: "/api/v1/auth/login", body: `{"username": "ghost", "password": "password-ghost"}`,
			status: 401, contains: []string{"invalid username or password"}},
		{name: "login missing password", method: "POST", url: "/api/v1/auth/login", body: `{"username": "viewer"}`, status: 422},
		{name: "login empty body", method: "POST", url: "/api/v1/auth/login", status: 400, contains: []string{`"code":"bad_request"`}},
		{name: "login malformed JSON", method: "POST", url: "/api/v1/auth/login", body: `{"username": "viewer",`, status: 400},
		{name: "login wrong type", method: "POST", url: "/api/v1/auth/login", body: `{"username": 42, "password": "x"}`, status: 400,
			contains: []string{`\"username\"`}},
		{name: "login unknown field", method: "POST", url: "/api/v1/auth/login", body: `{"username": "viewer", "password": "password-viewer", "otp": 1}`, status: 400},
		{name: "login trailing data", method: "POST", url: "/api/v1/auth/login", body: `{"username": "viewer", "password": "password-viewer"} {}`, status: 400},
		{name: "login oversized", method: "POST", url: "/api/v1/auth/login",
			body: `{"username": "viewer", "password": "` + strings.Repeat("x", MaxBodyBytes) + `"}`, status: 413, contains: []string{`"code":"too_large"`}},
		{name: "login form body", method: "POST", url: "/api/v1/auth/login", body: "username=viewer&password=password-viewer",
			contentType: "application/x-www-form-urlencoded", status: 400},
		{name: "login GET not allowed", method: "GET", url: "/api/v1/auth/login", status: 405, contains: []string{`"code":"method_not_allowed"`}},

		{name: "whoami session", method: "GET", url: "/api/v1/whoami", as: asAdmin, status: 200,
			contains: []string{`"username":"admin"`, `"role":"admin"`, `"role_label":"Administrator"`, `"via":"session"`, `"id":`}},
		{name: "whoami member", method: "GET", url: "/api/v1/whoami", as: asEditor, status: 200,
			contains: []string{`"username":"editor"`, `"role_label":"Member"`, `"via":"session"`}},
		{name: "whoami API key", method: "GET", url: "/api/v1/whoami", as: asEditorKey, status: 200,
			contains: []string{`"username":"editor"`, `"via":"api_key"`}},
		{name: "whoami no token", method: "GET", url: "/api/v1/whoami", status: 401, contains: []string{`"code":"unauthorized"`}},
		{name: "whoami unknown session", method: "GET", url: "/api/v1/whoami", as: "pcs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", status: 401},
		{name: "whoami unknown key", method: "GET", url: "/api/v1/whoami", as: "pck_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", status: 401},
		{name: "whoami garbage token", method: "GET", url: "/api/v1/whoami", as: "hunter2", status: 401},
		{name: "whoami token hash instead of token", method: "GET", url: "/api/v1/whoami", status: 401,
			as: "0000000000000000000000000000000000000000000000000000000000000000"},

		{name: "unknown endpoint", method: "GET", url: "/api/v1/nothing", as: asAdmin, status: 404, contains: []string{`"code":"not_found"`}},
		{name: "unknown endpoint anonymous", method: "GET", url: "/api/v1/nothing", status: 404},
		{name: "wrong method", method: "POST", url: "/api/v1/whoami", as: asAdmin, status: 405},
	})
}

func TestUserScenarios(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "list", method: "GET", url: "/api/v1/users", as: asAdmin, status: 200,
			contains:    []string{`"username":"admin"`, `"username":"editor"`, `"username":"viewer"`, `"username":"outsider"`, `"created_at":"`},
			notContains: []string{"argon2", "password"}},
		{name: "create", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"username": "newbie", "password": "password-newbie", "role": "member"}`,
			status: 201, contains: []string{`"username":"newbie"`, `"role":"member"`}, notContains: []string{"password"},
			check: func(t *testing.T, e *env, _ response) {
				e.login("newbie", "password-newbie")
			}},
		{name: "create admin", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"username": "boss", "password": "password-boss", "role": "admin"}`,
			status: 201, contains: []string{`"role":"admin"`, `"role_label":"Administrator"`}},
		{name: "create with generated password", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"username": "newbie"}`,
			status: 201, contains: []string{`"password":"`},
			check: func(t *testing.T, e *env, res response) {
				var out struct{ Password string }
				res.decode(t, &out)
				if len(out.Password) != 20 {
					t.Fatalf("generated password %q", out.Password)
				}
				e.login("newbie", out.Password)
			}},
		{name: "create duplicate", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"username": "viewer", "password": "password-other"}`,
			status: 409, contains: []string{`"code":"conflict"`},
			check: func(t *testing.T, e *env, _ response) { e.login("viewer", "password-viewer") }},
		{name: "create invalid username", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"username": "Bad Name", "password": "password-1"}`,
			status: 422, contains: []string{`"code":"invalid"`}, check: noUser("Bad Name")},
		{name: "create empty username", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"password": "password-1"}`, status: 422},
		{name: "create short password", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"username": "newbie", "password": "short"}`,
			status: 422, check: noUser("newbie")},
		{name: "create bad role", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"username": "newbie", "password": "password-1", "role": "root"}`,
			status: 422, check: noUser("newbie")},
		{name: "create wrong type", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"username": ["newbie"]}`, status: 400, check: noUser("newbie")},
		{name: "create unknown field", method: "POST", url: "/api/v1/users", as: asAdmin, body: `{"username": "newbie", "admin": true}`, status: 400, check: noUser("newbie")},
		{name: "create as member", method: "POST", url: "/api/v1/users", as: asEditor, body: `{"username": "newbie", "password": "password-1"}`,
			status: 403, check: noUser("newbie")},
		{name: "show", method: "GET", url: "/api/v1/users/editor", as: asAdmin, status: 200, contains: []string{`"username":"editor"`}},
		{name: "show self", method: "GET", url: "/api/v1/users/viewer", as: asViewer, status: 200},
		{name: "show unknown", method: "GET", url: "/api/v1/users/ghost", as: asAdmin, status: 404},
		{name: "show unknown as member", method: "GET", url: "/api/v1/users/ghost", as: asViewer, status: 403},
		{name: "delete", method: "DELETE", url: "/api/v1/users/viewer", as: asAdmin, status: 204,
			check: func(t *testing.T, e *env, _ response) {
				if e.userExists("viewer") {
					t.Fatal("viewer still exists")
				}
				if res := e.do("GET", "/api/v1/whoami", "", asViewer, ""); res.status != 401 {
					t.Fatalf("the deleted user's session still works: %d", res.status)
				}
			}},
		{name: "delete unknown", method: "DELETE", url: "/api/v1/users/ghost", as: asAdmin, status: 404},
		{name: "delete last admin", method: "DELETE", url: "/api/v1/users/admin", as: asAdmin, status: 409,
			contains: []string{"last administrator"},
			check: func(t *testing.T, e *env, _ response) {
				if !e.userExists("admin") {
					t.Fatal("the last admin was deleted")
				}
			}},
		{name: "delete self as member", method: "DELETE", url: "/api/v1/users/viewer", as: asViewer, status: 403,
			check: func(t *testing.T, e *env, _ response) {
				if !e.userExists("viewer") {
					t.Fatal("deleted")
				}
			}},
		{name: "password by admin", method: "PUT", url: "/api/v1/users/viewer/password", as: asAdmin, body: `{"password": "brand-new-pw"}`, status: 204,
			check: func(t *testing.T, e *env, _ response) { e.login("viewer", "brand-new-pw") }},
		{name: "password self", method: "PUT", url: "/api/v1/users/viewer/password", as: asViewer,
			body: `{"password": "brand-new-pw", "current_password": "password-viewer"}`, status: 204,
			check: func(t *testing.T, e *env, _ response) { e.login("viewer", "brand-new-pw") }},
		{name: "password self without current", method: "PUT", url: "/api/v1/users/viewer/password", as: asViewer,
			body: `{"password": "brand-new-pw"}`, status: 422, check: passwordKept("viewer")},
		{name: "password self wrong current", method: "PUT", url: "/api/v1/users/viewer/password", as: asViewer,
			body: `{"password": "brand-new-pw", "current_password": "wrong-password"}`, status: 403, check: passwordKept("viewer")},
		{name: "password of another member", method: "PUT", url: "/api/v1/users/editor/password", as: asViewer,
			body: `{"password": "brand-new-pw", "current_password": "password-viewer"}`, status: 403, check: passwordKept("editor")},
		{name: "password too short", method: "PUT", url: "/api/v1/users/viewer/password", as: asAdmin, body: `{"password": "short"}`,
			status: 422, check: passwordKept("viewer")},
		{name: "password unknown user", method: "PUT", url: "/api/v1/users/ghost/password", as: asAdmin, body: `{"password": "brand-new-pw"}`, status: 404},
		{name: "password malformed", method: "PUT", url: "/api/v1/users/viewer/password", as: asAdmin, body: `password`, status: 400, check: passwordKept("viewer")},
	})
}

func noUser(name string) func(*testing.T, *env, response) {
	return func(t *testing.T, e *env, _ response) {
		if e.userExists(name) {
			t.Fatalf("user %q was stored", name)
		}
	}
}

func passwordKept(name string) func(*testing.T, *env, response) {
	return func(t *testing.T, e *env, _ response) { e.login(name, "password-"+name) }
}

func TestAppScenarios(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "list as admin", method: "GET", url: "/api/v1/apps", as: asAdmin, status: 200,
			contains: []string{`"slug":"demo"`, `"slug":"other"`, `"limits":{}`}},
		{name: "list as member", method: "GET", url: "/api/v1/apps", as: asViewer, status: 200,
			contains: []string{`"slug":"demo"`}, notContains: []string{`"slug":"other"`}},
		{name: "list as outsider", method: "GET", url: "/api/v1/apps", as: asOutsider, status: 200,
			contains: []string{`[]`}, notContains: []string{`"slug"`}},
		{name: "create", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "my-app", "name": "My App", "description": "things"}`,
			status: 201, contains: []string{`"slug":"my-app"`, `"name":"My App"`, `"description":"things"`, `"created_at":"`},
			check: func(t *testing.T, e *env, _ response) {
				if !e.appExists("my-app") {
					t.Fatal("not stored")
				}
				if role := e.memberRole("my-app", asAdmin); role != "" {
					t.Fatalf("the admin creator became %q; admins need no membership", role)
				}
			}},
		{name: "create name defaults to slug", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "a1"}`,
			status: 201, contains: []string{`"name":"a1"`}},
		{name: "create with limits", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "lim", "limits": {"timeout_ms": 250}}`,
			status: 201, contains: []string{`"limits":{"timeout_ms":250}`}},
		{name: "create as member makes an editor", method: "POST", url: "/api/v1/apps", as: asOutsider, body: `{"slug": "mine"}`,
			status: 201, check: func(t *testing.T, e *env, _ response) {
				if role := e.memberRole("mine", asOutsider); role != store.AppRoleEditor {
					t.Fatalf("creator's role %q, want editor", role)
				}
				if res := e.do("GET", "/api/v1/apps", "", asOutsider, ""); !strings.Contains(res.body, `"slug":"mine"`) {
					t.Fatalf("the creator does not see the app: %s", res.body)
				}
			}},
		{name: "create as member with limits", method: "POST", url: "/api/v1/apps", as: asEditor, body: `{"slug": "mine", "limits": {"timeout_ms": 600000}}`,
			status: 403, check: noApp("mine")},
		{name: "create taken", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "demo"}`, status: 409, contains: []string{`"code":"conflict"`}},
		{name: "create taken as outsider", method: "POST", url: "/api/v1/apps", as: asOutsider, body: `{"slug": "other"}`, status: 409,
			check: func(t *testing.T, e *env, _ response) {
				if role := e.memberRole("other", asOutsider); role != "" {
					t.Fatalf("a failed create made the caller a %s of someone else's app", role)
				}
			}},
		{name: "create upper case slug", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "MyApp"}`, status: 422, check: noApp("MyApp")},
		{name: "create slug leading hyphen", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "-app"}`, status: 422, check: noApp("-app")},
		{name: "create slug trailing hyphen", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "app-"}`, status: 422, check: noApp("app-")},
		{name: "create slug underscore", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "my_app"}`, status: 422, check: noApp("my_app")},
		{name: "create slug with slash", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "a/b"}`, status: 422, check: noApp("a/b")},
		{name: "create slug too long", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "` + strings.Repeat("a", 64) + `"}`,
			status: 422, check: noApp(strings.Repeat("a", 64))},
		{name: "create slug 63 long", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "` + strings.Repeat("a", 63) + `"}`, status: 201},
		{name: "create empty slug", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{}`, status: 422},
		{name: "create slug wrong type", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": 5}`, status: 400},
		{name: "create unknown field", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "x1", "owner": "me"}`, status: 400, check: noApp("x1")},
		{name: "create malformed", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "x1"`, status: 400, check: noApp("x1")},
		{name: "create not JSON", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `slug=x1`, contentType: "text/plain", status: 400, check: noApp("x1")},
		{name: "create oversized", method: "POST", url: "/api/v1/apps", as: asAdmin,
			body: `{"slug": "x1", "description": "` + strings.Repeat("d", MaxBodyBytes) + `"}`, status: 413, check: noApp("x1")},
		{name: "create name too long", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "x1", "name": "` + strings.Repeat("n", 101) + `"}`,
			status: 422, check: noApp("x1")},
		{name: "create negative limit", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "x1", "limits": {"timeout_ms": -1}}`,
			status: 422, check: noApp("x1")},
		{name: "create unknown limit", method: "POST", url: "/api/v1/apps", as: asAdmin, body: `{"slug": "x1", "limits": {"cpu": 1}}`,
			status: 400, check: noApp("x1")},

		{name: "show", method: "GET", url: "/api/v1/apps/demo", as: asViewer, status: 200, contains: []string{`"slug":"demo"`, `"id":`}},
		{name: "show unknown as admin", method: "GET", url: "/api/v1/apps/nope", as: asAdmin, status: 404, contains: []string{`"code":"not_found"`}},
		{name: "show unknown as member", method: "GET", url: "/api/v1/apps/nope", as: asEditor, status: 403,
			contains: []string{"does not exist or you are not a member"}},
		{name: "show not a member", method: "GET", url: "/api/v1/apps/other", as: asEditor, status: 403,
			contains: []string{"does not exist or you are not a member"}, notContains: []string{`"slug"`}},

		{name: "patch name and description", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor, body: `{"name": "Demo", "description": "new"}`,
			status: 200, contains: []string{`"name":"Demo"`, `"description":"new"`},
			check: func(t *testing.T, e *env, _ response) {
				a, err := e.st.GetApp(context.Background(), "demo")
				if err != nil || a.Name != "Demo" || a.Description != "new" {
					t.Fatalf("stored %+v, %v", a, err)
				}
				wantEvents(t, e, "app_changed demo")
			}},
		{name: "patch limits field by field", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"timeout_ms": 1000, "max_operations": 5000}}`, status: 200,
			contains: []string{`"limits":{"timeout_ms":1000,"max_operations":5000}`},
			check: func(t *testing.T, e *env, _ response) {
				res := e.do("PATCH", "/api/v1/apps/demo", `{"limits": {"timeout_ms": 0}}`, asAdmin, "application/json")
				if res.status != 200 || !strings.Contains(res.body, `"limits":{"max_operations":5000}`) {
					t.Fatalf("second patch: %d %s", res.status, res.body)
				}
				a, _ := e.st.GetApp(context.Background(), "demo")
				if a.Limits != (store.AppLimits{MaxOperations: 5000}) {
					t.Fatalf("stored limits %+v", a.Limits)
				}
			}},
		{name: "patch limits as editor", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor, body: `{"limits": {"timeout_ms": 600000}}`,
			status: 403, check: func(t *testing.T, e *env, _ response) {
				if a, _ := e.st.GetApp(context.Background(), "demo"); a.Limits != (store.AppLimits{}) {
					t.Fatalf("limits changed: %+v", a.Limits)
				}
			}},
		{name: "patch limit too high", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin, body: `{"limits": {"timeout_ms": 3600000}}`, status: 422},
		{name: "patch empty name", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin, body: `{"name": ""}`, status: 422},
		{name: "patch slug", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin, body: `{"slug": "renamed"}`, status: 400, check: noApp("renamed")},
		{name: "patch wrong type", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin, body: `{"name": true}`, status: 400},
		{name: "patch unknown", method: "PATCH", url: "/api/v1/apps/nope", as: asAdmin, body: `{"name": "x"}`, status: 404},
		{name: "patch as viewer", method: "PATCH", url: "/api/v1/apps/demo", as: asViewer, body: `{"name": "Mine"}`, status: 403,
			check: func(t *testing.T, e *env, _ response) {
				if a, _ := e.st.GetApp(context.Background(), "demo"); a.Name != "demo" {
					t.Fatalf("renamed to %q", a.Name)
				}
			}},

		{name: "delete with scripts", method: "DELETE", url: "/api/v1/apps/demo", as: asAdmin, status: 409,
			contains: []string{`delete the app with ?force=true`, `"details":{"scripts":1}`}, notContains: []string{"--force"},
			check: func(t *testing.T, e *env, _ response) {
				if !e.appExists("demo") || e.versions("demo", "hello") != 2 {
					t.Fatal("the app or its script was deleted")
				}
				wantEvents(t, e)
			}},
		{name: "delete with scripts force=false", method: "DELETE", url: "/api/v1/apps/demo?force=false", as: asAdmin, status: 409},
		{name: "delete force", method: "DELETE", url: "/api/v1/apps/demo?force=true", as: asAdmin, status: 204,
			check: func(t *testing.T, e *env, _ response) {
				if e.appExists("demo") {
					t.Fatal("still there")
				}
				if _, err := e.st.GetInvocation(context.Background(), "inv-demo-ok"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("its logs remain: %v", err)
				}
				wantEvents(t, e, "app_changed demo")
			}},
		{name: "delete empty app", method: "DELETE", url: "/api/v1/apps/empty", as: asAdmin, status: 204,
			before: func(t *testing.T, e *env) { e.must(e.st.CreateApp(context.Background(), &store.App{Slug: "empty"})) },
			check: func(t *testing.T, e *env, _ response) {
				if e.appExists("empty") {
					t.Fatal("still there")
				}
			}},
		{name: "delete bad force", method: "DELETE", url: "/api/v1/apps/demo?force=yes", as: asAdmin, status: 422,
			check: func(t *testing.T, e *env, _ response) {
				if !e.appExists("demo") {
					t.Fatal("deleted")
				}
			}},
		{name: "delete unknown", method: "DELETE", url: "/api/v1/apps/nope", as: asAdmin, status: 404},
		{name: "delete as viewer", method: "DELETE", url: "/api/v1/apps/demo?force=true", as: asViewer, status: 403,
			check: func(t *testing.T, e *env, _ response) {
				if !e.appExists("demo") {
					t.Fatal("deleted")
				}
			}},
	})
}

func noApp(slug string) func(*testing.T, *env, response) {
	return func(t *testing.T, e *env, _ response) {
		if e.appExists(slug) {
			t.Fatalf("app %q was stored", slug)
		}
	}
}

func TestMemberScenarios(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "list", method: "GET", url: "/api/v1/apps/demo/members", as: asViewer, status: 200,
			contains: []string{`"username":"editor","role":"editor"`, `"username":"viewer","role":"viewer"`, `"user_id":`}},
		{name: "add", method: "PUT", url: "/api/v1/apps/demo/members/outsider", as: asEditor, body: `{"role": "viewer"}`, status: 201,
			contains: []string{`"username":"outsider"`, `"role":"viewer"`},
			check: func(t *testing.T, e *env, _ response) {
				if res := e.do("GET", "/api/v1/apps/demo/scripts", "", asOutsider, ""); res.status != 200 {
					t.Fatalf("the new viewer cannot list scripts: %d", res.status)
				}
				if res := e.do("PUT", "/api/v1/apps/demo/scripts/x", `{"source": "1"}`, asOutsider, "application/json"); res.status != 403 {
					t.Fatalf("the new viewer may deploy: %d", res.status)
				}
			}},
		{name: "change role", method: "PUT", url: "/api/v1/apps/demo/members/viewer", as: asAdmin, body: `{"role": "editor"}`, status: 200,
			contains: []string{`"role":"editor"`},
			check: func(t *testing.T, e *env, _ response) {
				if res := e.do("PUT", "/api/v1/apps/demo/scripts/x", `{"source": "1"}`, asViewer, "application/json"); res.status != 201 {
					t.Fatalf("the promoted viewer cannot deploy: %d %s", res.status, res.body)
				}
			}},
		{name: "bad role", method: "PUT", url: "/api/v1/apps/demo/members/outsider", as: asAdmin, body: `{"role": "owner"}`, status: 422,
			check: func(t *testing.T, e *env, _ response) {
				if role := e.memberRole("demo", asOutsider); role != "" {
					t.Fatalf("stored as %q", role)
				}
			}},
		{name: "missing role", method: "PUT", url: "/api/v1/apps/demo/members/outsider", as: asAdmin, body: `{}`, status: 422},
		{name: "role wrong type", method: "PUT", url: "/api/v1/apps/demo/members/outsider", as: asAdmin, body: `{"role": 1}`, status: 400},
		{name: "unknown user", method: "PUT", url: "/api/v1/apps/demo/members/ghost", as: asAdmin, body: `{"role": "viewer"}`, status: 404},
		{name: "unknown app", method: "PUT", url: "/api/v1/apps/nope/members/viewer", as: asAdmin, body: `{"role": "viewer"}`, status: 404},
		{name: "viewer may not add", method: "PUT", url: "/api/v1/apps/demo/members/outsider", as: asViewer, body: `{"role": "editor"}`, status: 403,
			check: func(t *testing.T, e *env, _ response) {
				if role := e.memberRole("demo", asOutsider); role != "" {
					t.Fatalf("stored as %q", role)
				}
			}},
		{name: "viewer may not promote self", method: "PUT", url: "/api/v1/apps/demo/members/viewer", as: asViewer, body: `{"role": "editor"}`, status: 403,
			check: func(t *testing.T, e *env, _ response) {
				if role := e.memberRole("demo", asViewer); role != store.AppRoleViewer {
					t.Fatalf("role %q", role)
				}
			}},
		{name: "remove", method: "DELETE", url: "/api/v1/apps/demo/members/viewer", as: asEditor, status: 204,
			check: func(t *testing.T, e *env, _ response) {
				if res := e.do("GET", "/api/v1/apps/demo", "", asViewer, ""); res.status != 403 {
					t.Fatalf("the removed viewer still sees the app: %d", res.status)
				}
			}},
		{name: "remove non-member", method: "DELETE", url: "/api/v1/apps/demo/members/outsider", as: asAdmin, status: 404},
		{name: "remove unknown user", method: "DELETE", url: "/api/v1/apps/demo/members/ghost", as: asAdmin, status: 404},
	})
}

func wantEvents(t *testing.T, e *env, want ...string) {
	t.Helper()
	var got []string
	for _, ev := range e.published() {
		got = append(got, string(ev.Kind)+" "+ev.Key)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("events %q, want %q", got, want)
	}
}
