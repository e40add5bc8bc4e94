// Tests of the command dispatcher and of run, check, repl and conformance
// end to end, with buffers for the standard streams.

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// invoke runs the command line with stdin and returns the exit code and
// the two output streams.
func invoke(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = dispatch(args, streams{in: strings.NewReader(stdin), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMainUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"run"},
		{"run", "a", "b"},
		{"check"},
		{"repl", "extra"},
		{"conformance"},
		{"conformance", "-min-pass", "lots", "x.jsonl"},
		{"conformance", "-min-pass", "101", "x.jsonl"},
		{"conformance", "-no-such-flag", "x.jsonl"},
		{"conformance", "-run", "(", "x.jsonl"},
	} {
		code, stdout, stderr := invoke("", args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "usage") && !strings.Contains(stderr, "rhai conformance:") {
			t.Errorf("rhai %q: exit %d, stdout %q, stderr %q; want exit 2 and a usage message", args, code, stdout, stderr)
		}
	}
	if code, stdout, _ := invoke("", "help"); code != exitOK || !strings.Contains(stdout, "usage") {
		t.Errorf("rhai help: exit %d, stdout %q", code, stdout)
	}
}

func TestMainRunMissingFile(t *testing.T) {
	code, stdout, stderr := invoke("", "run", filepath.Join(t.TempDir(), "nope.rhai"))
	if code != exitFail || stdout != "" || !strings.Contains(stderr, "nope.rhai") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestMainRun(t *testing.T) {
	p := writeFile(t, "ok.rhai", "let x = 40;\nprint(`x = ${x + 2}`);\nx + 2\n")
	code, stdout, stderr := invoke("", "run", p)
	if code != exitOK || stdout != "x = 42\n" || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// Standard input, and output printed before the error is kept.
	code, stdout, stderr = invoke("print(\"before\");\nlet y = 0;\nlet z = 1 / y;\n", "run", "-")
	if code != exitFail || stdout != "before\n" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if !strings.HasPrefix(stderr, "<stdin>:3:") || !strings.Contains(stderr, "let z = 1 / y;") || !strings.Contains(stderr, "^") {
		t.Errorf("stderr %q, want a positioned error with the source line and a caret", stderr)
	}
	// The kind follows the position, which the message does not repeat.
	if first, _, _ := strings.Cut(stderr, "\n"); first != "<stdin>:3:11: ErrorArithmetic: Division by zero: 1 / 0" {
		t.Errorf("first line %q, want <stdin>:3:11: ErrorArithmetic: Division by zero: 1 / 0", first)
	}
	code, _, stderr = invoke("fn f() {\n    throw \"boom\";\n}\nf();\n", "run", "-")
	if first, _, _ := strings.Cut(stderr, "\n"); code != exitFail ||
		first != "<stdin>:4:1: ErrorRuntime: Error in call to function 'f': boom (line 2, column 5)" {
		t.Errorf("exit %d, first line %q, want the innermost kind and the inner position", code, first)
	}
}

// run resolves import "name" to name.rhai next to the script, also in a
// subdirectory and from a module.
func TestMainRunImports(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.rhai":     "import \"util\" as u;\nimport \"lib/deep\" as d;\nprint(u::twice(21));\nprint(d::NAME);\n",
		"util.rhai":     "fn twice(x) { x * 2 }\n",
		"lib/deep.rhai": "export const NAME = \"deep\";\n",
		"bad.rhai":      "import \"missing\" as m;\n",
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := invoke("", "run", filepath.Join(dir, "main.rhai"))
	if code != exitOK || stdout != "42\ndeep\n" || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 42 and deep", code, stdout, stderr)
	}
	code, _, stderr = invoke("", "run", filepath.Join(dir, "bad.rhai"))
	if code != exitFail || !strings.Contains(stderr, "Module not found: missing") {
		t.Errorf("missing module: exit %d, stderr %q", code, stderr)
	}
}

func TestMainCheck(t *testing.T) {
	// check does not run the script: the division by zero is never reached.
	code, stdout, stderr := invoke("", "check", writeFile(t, "ok.rhai", "print(1);\n1 / 0\n"))
	if code != exitOK || stdout != "" || stderr != "" {
		t.Errorf("good script: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	p := writeFile(t, "bad.rhai", "let x = 1;\nlet y = (x + ;\n")
	code, stdout, stderr = invoke("", "check", p)
	if code != exitFail || stdout != "" || !strings.HasPrefix(stderr, p+":2:") {
		t.Errorf("bad script: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestMainRepl(t *testing.T) {
	in := strings.Join([]string{
		"let x = 40;",
		"x + 2",
		"print(\"hi\");",
		"",
		"let a = [",
		"  1, 2,",
		"  3",
		"];",
		"a.len()",
		"\"s\" + x",
		"undefined_variable",
		"x",
		":scope",
	}, "\n") + "\n"
	code, stdout, stderr := invoke(in, "repl")
	if code != exitOK {
		t.Errorf("exit %d", code)
	}
	want := "42\nhi\n3\n\"s40\"\n40\nx = 40\na = [1, 2, 3]\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	if !strings.Contains(stderr, "undefined_variable") {
		t.Errorf("stderr %q, want the variable-not-found error", stderr)
	}
}

// Functions defined in one input stay callable from later ones, and a
// later definition with the same signature replaces the earlier one.
func TestMainReplKeepsFunctions(t *testing.T) {
	in := "fn double(x) { x * 2 }\nlet y = 21;\ndouble(y)\nfn double(x) { x * 3 }\ndouble(y)\n"
	code, stdout, stderr := invoke(in, "repl")
	if code != exitOK || stdout != "42\n63\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 42 then 63", code, stdout, stderr)
	}
}

func TestMainIncomplete(t *testing.T) {
	for _, tc := range []struct {
		src  string
		open bool
	}{
		{"let x = 1;", false},
		{"fn f() {", true},
		{"fn f() { 1 }", false},
		{"[1, 2,", true},
		{"foo(1,", true},
		{`"{"`, false},
		{`'{'`, false},
		{"// {", false},
		{"/* { */ 1", false},
		{"/* outer /* inner */", true},
		{"`line ${x}", true},
		{"`a`", false},
		{"\"abc\\", true},  // line continuation
		{"\"abc\n", false}, // an unterminated string is the parser's to report
		{"}", false},
	} {
		if got := incomplete(tc.src + "\n"); got != tc.open {
			t.Errorf("incomplete(%q) = %v, want %v", tc.src, got, tc.open)
		}
	}
}

func TestMainConformance(t *testing.T) {
	p := writeFile(t, "cases.jsonl", strings.Join([]string{
		`{"id": "t-1", "file": "tests/t.rs", "line": 1, "mode": "compile", "script": "let x = ;", "error": "ErrorParsing"}`,
		`{"id": "t-2", "file": "tests/t.rs", "line": 2, "mode": "eval", "script": "40 + 2", "expect": {"int": 43}, "eval_type": "int"}`,
		`{"id": "u-1", "file": "tests/u.rs", "line": 1, "mode": "compile_expression", "script": "let x = 1;", "error": "any"}`,
	}, "\n")+"\n")
	hang := writeFile(t, "hang.jsonl", `{"id": "h-1", "file": "tests/h.rs", "line": 1, "mode": "eval", "script": "loop {}", "error": "any"}`+"\n")
	code, stdout, stderr := invoke("", "conformance", p)
	if code != exitOK {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if last := lines[len(lines)-1]; last != "conformance: 2 passed, 1 failed" {
		t.Errorf("last line %q\n%s", last, stdout)
	}
	if !strings.Contains(stdout, "FAIL t-2: expected 43 (i64), got ") {
		t.Errorf("stdout lacks the failure of t-2:\n%s", stdout)
	}

	code, _, stderr = invoke("", "conformance", "-min-pass", "90", p)
	if code != exitFail || !strings.Contains(stderr, "below -min-pass") {
		t.Errorf("-min-pass 90: exit %d, stderr %q", code, stderr)
	}
	code, _, _ = invoke("", "conformance", "-min-pass", "60%", p)
	if code != exitOK {
		t.Errorf("-min-pass 60%%: exit %d", code)
	}
	code, stdout, _ = invoke("", "conformance", "-run", "^u-", p)
	if code != exitOK || !strings.HasSuffix(stdout, "conformance: 1 passed, 0 failed\n") {
		t.Errorf("-run: exit %d, stdout %q", code, stdout)
	}
	// A case that never ends fails on its own; the run goes on.
	code, stdout, _ = invoke("", "conformance", "-timeout", "100ms", hang)
	if code != exitOK || !strings.Contains(stdout, "FAIL h-1: timed out after 100ms") ||
		!strings.HasSuffix(stdout, "conformance: 0 passed, 1 failed\n") {
		t.Errorf("hanging case: exit %d, stdout %q", code, stdout)
	}
	code, _, stderr = invoke("", "conformance", writeFile(t, "bad.jsonl", "{not json}\n"))
	if code != exitFail || !strings.Contains(stderr, "line 1") {
		t.Errorf("bad file: exit %d, stderr %q", code, stderr)
	}
}

// The README's quick start runs this example; keep it working.
func TestMainExampleHello(t *testing.T) {
	code, stdout, stderr := invoke("", "run", filepath.Join("..", "..", "examples", "hello.rhai"))
	if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, "1. Hello, Raspberry Pi!\n") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
