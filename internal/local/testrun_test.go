package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/local"
)

// writeFiles writes name → content into dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var testProject = map[string]string{
	"picloud.toml": "app = \"shop\"\n[outbound]\nallow = [\"api.example.com\"]\n",
	"count.rhai":   `let n = kv::incr("n"); #{n: n, q: request.query.who ?? "nobody"}`,
	"fetch.rhai":   `let r = http::get("https://api.example.com/price"); #{upstream: r.status, body: r.body}`,
	"shop_test.rhai": `
fn test_counts_from_one() {
    let r = test::call("count", #{query: #{who: "ann"}});
    assert_eq(r.status, 200);
    assert_eq(r.json.n, 1);
    assert_eq(r.json.q, "ann");
    r = test::call("count");
    assert_eq(r.json.n, 2);
}

fn test_fresh_kv() {
    assert_eq(test::call("count").json.n, 1);
}

fn test_stub() {
    test::stub_http("https://api.example.com/price", #{status: 201, body: "42"});
    let r = test::call("fetch");
    assert_eq(r.json.upstream, 201);
    assert_eq(r.json.body, "42");
}

fn test_unstubbed_refused() {
    let r = test::call("fetch");
    assert_eq(r.status, 500);
}

fn test_fails() {
    let r = test::call("count");
    assert_eq(r.json.n, 7);
}

fn test_assert_message() {
    assert(false, "the sky fell");
}

fn helper() { 1 }

fn test_maps_equal() {
    assert_eq(#{b: 1, a: [1, "x"]}, #{a: [1, "x"], b: helper()});
}
`,
}

func TestRunTests(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, testProject)
	got := map[string]local.TestResult{}
	var order []string
	sum, err := local.RunTests(context.Background(), dir, func(r local.TestResult) {
		got[r.Name] = r
		order = append(order, r.Name)
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Passed != 5 || sum.Failed != 2 {
		t.Errorf("summary %+v, want 5 passed, 2 failed; results %v", sum, got)
	}
	for name, r := range got {
		if r.Duration <= 0 {
			t.Errorf("%s took %v: every test's time is measured", name, r.Duration)
		}
	}
	if strings.Join(order, ",") != "test_counts_from_one,test_fresh_kv,test_stub,test_unstubbed_refused,test_fails,test_assert_message,test_maps_equal" {
		t.Errorf("order %v", order)
	}
	for _, name := range []string{"test_counts_from_one", "test_fresh_kv", "test_stub", "test_unstubbed_refused", "test_maps_equal"} {
		if err := got[name].Err; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	f := got["test_fails"]
	if f.Err == nil || !strings.Contains(f.Err.Error(), "actual 3, expected 7") && !strings.Contains(f.Err.Error(), "actual 1, expected 7") {
		t.Errorf("test_fails: %v; want both values", f.Err)
	}
	if f.Pos.Line != 29 || f.Pos.Col != 5 {
		t.Errorf("test_fails at %v, want 29:5", f.Pos)
	}
	if a := got["test_assert_message"]; a.Err == nil || !strings.Contains(a.Err.Error(), "the sky fell") || a.Pos.Line != 33 {
		t.Errorf("test_assert_message: %v at %v", a.Err, a.Pos)
	}
}

func TestRunTestsCompileError(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.rhai": "1", "a_test.rhai": "fn test_x() {\n  let = 2;\n}\n"})
	_, err := local.RunTests(context.Background(), dir, func(local.TestResult) { t.Error("a test ran") })
	var ce *local.TestCompileError
	if !errors.As(err, &ce) || ce.File != "a_test.rhai" {
		t.Fatalf("err = %v, want a TestCompileError of a_test.rhai", err)
	}
}
