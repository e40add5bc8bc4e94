package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// Deploy creates a script, deploys again add versions 1, 2, 3, --name
// overrides the file's stem, and delete removes the script.
func TestScripts(t *testing.T) {
	_, token := createUser(t, "scripts-editor")
	pic := as(t, token)
	app := unique("scripts")
	pic.ok("apps", "create", app)

	// The name comes from the file's stem; every deploy prints its version.
	file := writeFile(t, "hello.rhai", `"v1"`)
	for v := 1; v <= 3; v++ {
		if err := os.WriteFile(file, []byte(fmt.Sprintf(`"v%d"`, v)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := pic.ok("scripts", "deploy", file, "--app", app, "-o", "json")
		got := jsonObject(t, r)
		if got["name"] != "hello" || fmt.Sprint(got["version"]) != fmt.Sprint(v) {
			t.Errorf("deploy %d: want script hello at version %d\n%s", v, v, r)
		}
	}
	r := pic.ok("scripts", "versions", app+"/hello", "-o", "json")
	versions := jsonArray(t, r)
	if got := strs(versions, "version"); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Errorf("versions %v, want 1, 2, 3\n%s", got, r)
	}
	if got := strs(versions, "live"); !slices.Equal(got, []string{"false", "false", "true"}) {
		t.Errorf("live flags %v, want only version 3\n%s", got, r)
	}
	r = pic.ok("scripts", "show", app+"/hello", "-o", "json")
	if s := jsonObject(t, r); s["source"] != `"v3"` || fmt.Sprint(s["live_version"]) != "3" {
		t.Errorf("show: want live version 3 with its source\n%s", r)
	}

	// --name overrides the stem and leaves hello alone.
	r = pic.ok("scripts", "deploy", file, "--app", app, "--name", "greeter", "-o", "json")
	if got := jsonObject(t, r); got["name"] != "greeter" || fmt.Sprint(got["version"]) != "1" {
		t.Errorf("deploy --name greeter: want greeter at version 1\n%s", r)
	}
	r = pic.ok("scripts", "ls", "--app", app)
	if got := column(t, r, "NAME"); !slices.Equal(got, []string{"greeter", "hello"}) {
		t.Errorf("scripts ls --app: names %v, want greeter, hello\n%s", got, r)
	}
	if got := column(t, r, "VERSION"); !slices.Equal(got, []string{"1", "3"}) {
		t.Errorf("scripts ls --app: versions %v, want 1, 3\n%s", got, r)
	}

	// Delete removes the script and all its versions.
	pic.ok("scripts", "delete", app+"/greeter")
	refused(t, pic.run("scripts", "show", app+"/greeter"), 404)
	refused(t, pic.run("scripts", "versions", app+"/greeter"), 404)
	refused(t, pic.run("scripts", "delete", app+"/greeter"), 404)
	r = pic.ok("scripts", "ls", "--app", app)
	if got := column(t, r, "NAME"); !slices.Equal(got, []string{"hello"}) {
		t.Errorf("scripts ls after delete: names %v, want hello\n%s", got, r)
	}
}

// Without --app, scripts ls lists the scripts of every app the caller can
// see, apps created just before included, with one request: no walk over
// the apps that a missing or concurrently deleted app could break.
func TestScriptsListAllApps(t *testing.T) {
	_, token := createUser(t, "scripts-all")
	pic := as(t, token)
	var want []string
	var apps []string
	for i := 0; i < 3; i++ {
		app := unique("scripts-all")
		apps = append(apps, app)
		pic.ok("apps", "create", app)
	}
	// The last app stays empty; the first two get scripts.
	for _, app := range apps[:2] {
		for _, name := range []string{"alpha", "beta"} {
			pic.ok("scripts", "deploy", writeFile(t, name+".rhai", `"hi"`), "--app", app)
			want = append(want, app+"/"+name)
		}
	}
	// An app the member cannot see must not show up.
	hidden := createApp(t, "scripts-hidden")
	deployAPI(t, hidden, "secret", `"no"`)

	// The server's request counter tells how many calls pic made. It is
	// calibrated with one direct call, since what one request adds is the
	// server's business (see the report: it counts each request twice).
	allRoute, perAppRoute := "GET /api/v1/scripts", "GET /api/v1/apps/{slug}/scripts"
	before := routeCount(t, allRoute)
	api(t, 200, "GET", "/api/v1/scripts", token, "")
	perCall := routeCount(t, allRoute) - before
	if perCall != 1 {
		t.Logf("the server counts one GET /api/v1/scripts as %v requests in picloud_http_requests_total", perCall)
	}
	before, beforePerApp := routeCount(t, allRoute), routeCount(t, perAppRoute)

	r := pic.ok("scripts", "ls")

	if d := routeCount(t, allRoute) - before; d != perCall {
		t.Errorf("scripts ls made %v calls of %s, want 1", d/perCall, allRoute)
	}
	if d := routeCount(t, perAppRoute) - beforePerApp; d != 0 {
		t.Errorf("scripts ls made %v calls of %s, want none", d/perCall, perAppRoute)
	}
	slices.SortFunc(want, byAppAndName)
	header, rows := table(t, r)
	if !slices.Equal(header, []string{"APP", "NAME", "VERSION", "UPDATED", "MAX_ATTEMPTS", "VISIBILITY"}) {
		t.Errorf("header %q\n%s", header, r)
	}
	var got []string
	for _, row := range rows {
		got = append(got, row[0]+"/"+row[1])
	}
	if !slices.Equal(got, want) {
		t.Errorf("scripts ls listed %v, want %v\n%s", got, want, r)
	}
}

// A script that does not compile is refused with 422 and the line and
// column of the error, and no version is stored.
func TestScriptsCompileError(t *testing.T) {
	app := createApp(t, "scripts-broken")
	pic := asAdmin(t)
	pic.ok("scripts", "deploy", writeFile(t, "calc.rhai", "40 + 2"), "--app", app)

	broken := writeFile(t, "calc.rhai", "let a = 1;\nlet b = (2;\n")
	r := pic.run("scripts", "deploy", broken, "--app", app)
	refused(t, r, 422)
	if !strings.Contains(r.stderr, "line 2, column 11") {
		t.Errorf("want the error's position (line 2, column 11) on stderr\n%s", r)
	}
	r = pic.ok("scripts", "versions", app+"/calc", "-o", "json")
	if got := strs(jsonArray(t, r), "version"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("versions after a refused deploy: %v, want only 1\n%s", got, r)
	}
	// Nothing is created under a new name either.
	refused(t, pic.run("scripts", "deploy", broken, "--app", app, "--name", "fresh"), 422)
	refused(t, pic.run("scripts", "show", app+"/fresh"), 404)
}

// byAppAndName orders "app/name" strings as the server orders scripts:
// by app, then by name.
func byAppAndName(a, b string) int {
	aApp, aName, _ := strings.Cut(a, "/")
	bApp, bName, _ := strings.Cut(b, "/")
	if c := strings.Compare(aApp, bApp); c != 0 {
		return c
	}
	return strings.Compare(aName, bName)
}
