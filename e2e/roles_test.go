package e2e

import (
	"slices"
	"strings"
	"testing"
)

// A member sees only the apps they belong to, whatever their role in it.
func TestRolesAppListFiltering(t *testing.T) {
	user, token := createUser(t, "roles-list")
	viewed, edited, other := createApp(t, "roles-viewed"), createApp(t, "roles-edited"), createApp(t, "roles-other")
	admin := asAdmin(t)
	admin.ok("members", "add", viewed, user, "--role", "viewer")
	admin.ok("members", "add", edited, user, "--role", "editor")

	r := as(t, token).ok("apps", "ls", "-o", "json")
	got := strs(jsonArray(t, r), "slug")
	want := []string{viewed, edited}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the member sees %v, want %v\n%s", got, want, r)
	}
	if slices.Contains(got, other) {
		t.Errorf("the member sees %s, an app they do not belong to", other)
	}
	// The admin sees every app.
	all := strs(jsonArray(t, admin.ok("apps", "ls", "-o", "json")), "slug")
	for _, app := range []string{viewed, edited, other} {
		if !slices.Contains(all, app) {
			t.Errorf("the admin does not see %s", app)
		}
	}
}

// A viewer may not deploy (403); an editor may.
func TestRolesViewerVersusEditor(t *testing.T) {
	viewerName, viewerToken := createUser(t, "roles-viewer")
	editorName, editorToken := createUser(t, "roles-editor")
	app := createApp(t, "roles-deploy")
	admin := asAdmin(t)
	admin.ok("members", "add", app, viewerName, "--role", "viewer")
	admin.ok("members", "add", app, editorName, "--role", "editor")
	r := admin.ok("members", "ls", app, "-o", "json")
	roles := map[string]string{}
	for _, m := range jsonArray(t, r) {
		roles[m["username"].(string)] = m["role"].(string)
	}
	if roles[viewerName] != "viewer" || roles[editorName] != "editor" {
		t.Fatalf("members %v\n%s", roles, r)
	}

	file := writeFile(t, "hello.rhai", `"hello"`)
	refused(t, as(t, viewerToken).run("scripts", "deploy", file, "--app", app), 403)
	refused(t, asAdmin(t).run("scripts", "show", app+"/hello"), 404)

	as(t, editorToken).ok("scripts", "deploy", file, "--app", app)
	// The viewer reads what the editor deployed.
	r = as(t, viewerToken).ok("scripts", "ls", "--app", app)
	if got := column(t, r, "NAME"); !slices.Equal(got, []string{"hello"}) {
		t.Errorf("the viewer lists %v, want hello\n%s", got, r)
	}
	refused(t, as(t, viewerToken).run("scripts", "delete", app+"/hello"), 403)
}

// The data plane is public: any member, even of no app, invokes a script.
func TestRolesMemberInvokesDataPlane(t *testing.T) {
	_, token := createUser(t, "roles-invoker")
	app := createApp(t, "roles-public")
	deployAPI(t, app, "hello", `"hello from " + app`)

	r := as(t, token).ok("invoke", app+"/hello")
	if strings.TrimSuffix(r.stdout, "\n") != "hello from "+app {
		t.Errorf("want the script's answer on stdout\n%s", r)
	}
	// The same member is refused the app on the control plane.
	refused(t, as(t, token).run("scripts", "ls", "--app", app), 403)
}

// A member who does not belong to an app gets 403 on its logs, whether or
// not it has any.
func TestRolesNonMemberLogs(t *testing.T) {
	_, token := createUser(t, "roles-outsider")
	app := createApp(t, "roles-logs")
	refused(t, as(t, token).run("logs", app), 403)
	deployAPI(t, app, "hello", `"hello"`)
	invokeFn(t, app, "hello")
	refused(t, as(t, token).run("logs", app, "--script", "hello"), 403)
	refused(t, as(t, token).run("logs", app, "-o", "json"), 403)
}
