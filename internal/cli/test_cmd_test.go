package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestParseTest(t *testing.T) {
	t.Parallel()
	checkParse(t, []string{"test"}, parseDirArg, []parseCase[dirArg]{
		{args: nil, want: dirArg{Dir: "."}},
		{args: []string{"shop"}, want: dirArg{Dir: "shop"}},
		{args: []string{"a", "b"}, err: "too many arguments (b); expected 0 to 1 arguments"},
	})
}

// writeProject writes name → content into a new folder.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTestCommand(t *testing.T) {
	t.Parallel()
	sh := newShell(t, nil)
	dir := writeProject(t, map[string]string{
		"picloud.toml": "app = \"shop\"\n",
		"add.rhai":     `let n = kv::incr("hits"); #{sum: request.json.a + request.json.b, hits: n}`,
		"add_test.rhai": `fn test_adds() {
    let r = test::call("add", #{method: "POST", body: #{a: 2, b: 3}});
    assert_eq(r.json.sum, 5);
    assert_eq(r.json.hits, 1);
}
fn test_again_fresh() {
    assert_eq(test::call("add", #{method: "POST", body: #{a: 0, b: 0}}).json.hits, 1);
}
`,
	})
	out := sh.ok("test", dir)
	want := `(?s)^ok   add_test.rhai test_adds \d+\.\dms\nok   add_test.rhai test_again_fresh \S+\n2 passed, 0 failed\n$`
	if !regexp.MustCompile(want).MatchString(out) {
		t.Errorf("pic test:\n%s\nwant %s", out, want)
	}

	failing := filepath.Join(dir, "fail_test.rhai")
	if err := os.WriteFile(failing, []byte("fn test_wrong() {\n    print(\"looking\");\n    assert_eq(test::call(\"add\", #{method: \"POST\", body: #{a: 1, b: 1}}).json.sum, 3);\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := sh.run("test", dir)
	want = `(?s)FAIL fail_test.rhai test_wrong \S+\n    fail_test.rhai:3:5: assert_eq failed: actual 2, expected 3\n    \| looking\n.*2 passed, 1 failed\n$`
	if r.code != 1 || !regexp.MustCompile(want).MatchString(r.stdout) {
		t.Errorf("pic test with a failure:\n%v\nwant %s", r, want)
	}

	if err := os.WriteFile(failing, []byte("fn test_broken( {\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh.fails(2, "error: fail_test.rhai:1:", "test", dir)
}
