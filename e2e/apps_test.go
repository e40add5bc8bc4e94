package e2e

import (
	"slices"
	"testing"
)

// An app's life: create, list, show, delete (refused while it has scripts
// unless forced).
func TestApps(t *testing.T) {
	// A fresh member sees exactly the apps they created.
	_, token := createUser(t, "apps-owner")
	pic := as(t, token)
	slug := unique("apps")
	pic.ok("apps", "create", slug, "--name", "Journey App", "--description", "made by the apps journey")

	r := pic.ok("apps", "ls")
	header, rows := table(t, r)
	if len(rows) != 1 || rows[0][indexOf(header, "SLUG")] != slug ||
		rows[0][indexOf(header, "NAME")] != "Journey App" ||
		rows[0][indexOf(header, "DESCRIPTION")] != "made by the apps journey" {
		t.Errorf("apps ls: want exactly %s with its name and description\n%s", slug, r)
	}

	r = pic.ok("apps", "show", slug, "-o", "json")
	app := jsonObject(t, r)
	if app["slug"] != slug || app["name"] != "Journey App" || app["description"] != "made by the apps journey" {
		t.Errorf("apps show: want %s with its name and description\n%s", slug, r)
	}

	// With a script in it, delete needs --force; nothing is deleted before.
	deployAPI(t, slug, "hello", `"hello"`)
	refused(t, pic.run("apps", "delete", slug), 409)
	pic.ok("apps", "show", slug)
	pic.ok("apps", "delete", slug, "--force")
	refused(t, asAdmin(t).run("apps", "show", slug), 404)
	if got := strs(jsonArray(t, pic.ok("apps", "ls", "-o", "json")), "slug"); len(got) != 0 {
		t.Errorf("apps ls after delete: %v, want none", got)
	}

	// An app without scripts goes without --force.
	empty := unique("apps-empty")
	pic.ok("apps", "create", empty)
	pic.ok("apps", "delete", empty)
	refused(t, asAdmin(t).run("apps", "show", empty), 404)
}

func TestAppsInvalidSlug(t *testing.T) {
	pic := asAdmin(t)
	for _, slug := range []string{"Bad_Slug", "UPPER", "trailing-", "dots.in.slug"} {
		refused(t, pic.run("apps", "create", slug), 422)
	}
	r := pic.ok("apps", "ls", "-o", "json")
	if got := strs(jsonArray(t, r), "slug"); slices.Contains(got, "Bad_Slug") || slices.Contains(got, "UPPER") {
		t.Errorf("an invalid slug was stored: %v", got)
	}
}

func TestAppsDuplicate(t *testing.T) {
	pic := asAdmin(t)
	slug := unique("apps-dup")
	pic.ok("apps", "create", slug, "--name", "First")
	refused(t, pic.run("apps", "create", slug, "--name", "Second"), 409)
	if got := jsonObject(t, pic.ok("apps", "show", slug, "-o", "json"))["name"]; got != "First" {
		t.Errorf("the duplicate create changed the app: name %v, want First", got)
	}
}

func TestAppsUnknown(t *testing.T) {
	pic := asAdmin(t)
	slug := unique("apps-nowhere")
	refused(t, pic.run("apps", "show", slug), 404)
	refused(t, pic.run("apps", "delete", slug), 404)
	refused(t, pic.run("apps", "delete", slug, "--force"), 404)
}
