package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists is the error of Init when a starter file is already there.
var ErrExists = errors.New("already exists")

// starterHello answers JSON built from the request.
const starterHello = `// hello: GET /fn/APP/hello?name=pi answers {"message": "Hello, pi!", ...}
let name = request.query.name ?? "world";

#{
    message: ` + "`Hello, ${name}!`" + `,
    method: request.method,
    path: request.path,
}
`

// starterTest tests hello with pic test.
const starterTest = `// pic test runs every fn test_*() of the *_test.rhai files.

fn test_default_name() {
    let r = test::call("hello", #{ method: "GET" });
    assert_eq(r.status, 200);
    assert_eq(r.json.message, "Hello, world!");
}

fn test_name_from_query() {
    let r = test::call("hello", #{ method: "GET", path: "/greet", query: #{ name: "pi" } });
    assert(r.status == 200, "hello answers 200");
    assert_eq(r.json.message, "Hello, pi!");
    assert_eq(r.json.path, "/greet");
}
`

// starterIgnore keeps local state and secrets out of git.
const starterIgnore = StateDir + "/\n.env\n"

// starterManifest is the manifest of a new project, with the sections a
// project may add shown as comments.
const starterManifest = `# The PiCloud project of app %q: see docs/projects.md.
app = %q

# Every NAME.rhai here is the script NAME; a section overrides it:
# [scripts.hello]
# attempts = 5            # tries of its async and scheduled jobs
# visibility = "private"  # imported and scheduled only

# [[schedules]]
# script = "hello"
# cron = "0 9 * * MON-FRI"
# tz = "Europe/Paris"

# [outbound]
# allow = ["api.example.com"]

# [secrets]
# required = ["API_TOKEN"]
`

// Init writes a starter project for app into dir (created when missing):
// picloud.toml, hello.rhai, hello_test.rhai and .gitignore. It writes
// nothing when one of them exists (an error wrapping ErrExists).
func Init(dir, app string) error {
	if !slugPattern.MatchString(app) {
		return fmt.Errorf("project: invalid app slug %q: use 1-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen", app)
	}
	files := []struct{ name, text string }{
		{ManifestName, fmt.Sprintf(starterManifest, app, app)},
		{"hello.rhai", starterHello},
		{"hello_test.rhai", starterTest},
		{".gitignore", starterIgnore},
	}
	for _, f := range files {
		_, err := os.Lstat(filepath.Join(dir, f.name))
		if err == nil {
			return fmt.Errorf("project: %s %w; pic init writes only into a folder without it", filepath.Join(dir, f.name), ErrExists)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("project: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	for _, f := range files {
		if err := writeNew(filepath.Join(dir, f.name), f.text); err != nil {
			return err
		}
	}
	return nil
}

// writeNew creates a file that must not exist.
func writeNew(name, text string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("project: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("project: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}
