package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck: every script that does not compile is reported with its
// file, line, column, source line and a caret; good scripts are not.
func TestCheck(t *testing.T) {
	p := &Project{Scripts: []Script{
		{Name: "good", File: "good.rhai", Source: "let x = 1;\nx + 1\n"},
		{Name: "bad", File: "src/bad.rhai", Source: "let a = 1;\nlet b = (a + ;\n"},
		{Name: "tabs", File: "tabs.rhai", Source: "fn f() {\n\tlet = 2;\n}\n"},
	}}
	err := Check(p)
	var ce *CheckError
	if !errors.As(err, &ce) || len(ce.Reports) != 2 {
		t.Fatalf("error %v, want a CheckError with two reports", err)
	}
	want := []string{
		"src/bad.rhai:2:14: Unexpected ';'\n    let b = (a + ;\n                 ^",
		"tabs.rhai:2:6: Expecting name of a variable after let\n    \tlet = 2;\n    \t    ^",
	}
	for i, w := range want {
		if ce.Reports[i] != w {
			t.Errorf("report %d\n%s\nwant\n%s", i, ce.Reports[i], w)
		}
	}
	if err.Error() != want[0]+"\n"+want[1] {
		t.Errorf("Error() = %q", err.Error())
	}
	if err := Check(&Project{Scripts: p.Scripts[:1]}); err != nil {
		t.Errorf("a good script: %v", err)
	}
}

// TestFormatCompileErrorWithoutPosition: a plain error is file: message.
func TestFormatCompileErrorWithoutPosition(t *testing.T) {
	if got := FormatCompileError("a.rhai", "", errors.New("boom")); got != "a.rhai: boom" {
		t.Errorf("got %q", got)
	}
}

// TestInit writes a starter that loads, compiles and ignores local state,
// and refuses to overwrite anything.
func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	if err := Init(dir, "shop"); err != nil {
		t.Fatal(err)
	}
	p, err := Load(dir)
	if err != nil {
		t.Fatalf("the starter does not load: %v", err)
	}
	if p.App != "shop" || len(p.Scripts) != 1 || p.Scripts[0].Name != "hello" {
		t.Errorf("starter project %+v, want app shop with the script hello", p)
	}
	if err := Check(p); err != nil {
		t.Errorf("the starter does not compile: %v", err)
	}
	test, err := os.ReadFile(filepath.Join(dir, "hello_test.rhai"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := compiler().Compile(string(test)); err != nil {
		t.Errorf("hello_test.rhai does not compile: %v", err)
	}
	for _, s := range []string{"fn test_", "test::call(\"hello\"", "assert_eq(", "assert("} {
		if !strings.Contains(string(test), s) {
			t.Errorf("hello_test.rhai lacks %q", s)
		}
	}
	ignore, _ := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if string(ignore) != ".picloud/\n.env\n" {
		t.Errorf(".gitignore %q", ignore)
	}

	err = Init(dir, "shop")
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "picloud.toml already exists") {
		t.Errorf("second init: %v", err)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, ".gitignore"), []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Init(other, "shop"); !errors.Is(err, ErrExists) {
		t.Errorf("init over a .gitignore: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, ManifestName)); err == nil {
		t.Error("a refused init wrote picloud.toml")
	}
	if err := Init(t.TempDir(), "Shop"); err == nil || !strings.Contains(err.Error(), `invalid app slug "Shop"`) {
		t.Errorf("bad slug: %v", err)
	}
}
