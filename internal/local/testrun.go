package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/project"
	"github.com/picloud/picloud/rhai"
)

// TestResult is the outcome of one test function.
type TestResult struct {
	File     string // the test file, relative to the project
	Name     string // the function, e.g. test_hello
	Duration time.Duration
	// Err is why the test failed, nil when it passed; Pos is where, in
	// File (zero when unknown).
	Err error
	Pos rhai.Position
	// Output is the test's print lines.
	Output string
}

// TestSummary counts the results of a RunTests.
type TestSummary struct {
	Passed, Failed int
}

// TestCompileError is a test file that does not compile: no test ran.
type TestCompileError struct {
	File   string
	Source string
	Err    error
}

func (e *TestCompileError) Error() string { return fmt.Sprintf("%s: %v", e.File, e.Err) }

func (e *TestCompileError) Unwrap() error { return e.Err }

// testFn finds the test functions of a file, in the order written.
var testFn = regexp.MustCompile(`(?m)^\s*fn\s+(test_[A-Za-z0-9_]*)\s*\(\s*\)`)

// RunTests runs the tests of the project in dir: every fn test_*() of its
// *_test.rhai files, each against a node holding the project's scripts,
// with an empty key-value store and no stubs. report is called with each
// result as it comes. A test file or a script that does not compile is a
// *TestCompileError or a *CompileError, before any test runs.
func RunTests(ctx context.Context, dir string, report func(TestResult)) (TestSummary, error) {
	var sum TestSummary
	p, err := LoadFolder(dir)
	if err != nil {
		return sum, err
	}
	files, err := loadTestFiles(p.Dir)
	if err != nil {
		return sum, err
	}
	tmp, err := os.MkdirTemp("", "pic-test-")
	if err != nil {
		return sum, fmt.Errorf("local: %w", err)
	}
	defer os.RemoveAll(tmp)
	stubs := &stubTransport{}
	r, err := Start(ctx, Options{SQLite: filepath.Join(tmp, "local.db"), Transport: stubs})
	if err != nil {
		return sum, err
	}
	defer r.Close(context.Background())
	if err := r.Apply(ctx, p, ApplyOptions{}); err != nil {
		return sum, err
	}
	tr := &testRunner{rt: r, stubs: stubs, engine: newTestEngine()}
	for _, f := range files {
		for _, name := range f.tests {
			res := tr.run(ctx, f, name)
			if res.Err != nil {
				sum.Failed++
			} else {
				sum.Passed++
			}
			report(res)
		}
	}
	return sum, nil
}

// testFile is a compiled test file.
type testFile struct {
	name   string // relative to the project
	source string
	tests  []string
}

// loadTestFiles reads and compiles the *_test.rhai files of dir.
func loadTestFiles(dir string) ([]testFile, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*"+project.TestSuffix))
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	e := newTestEngine()
	var files []testFile
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
		f := testFile{name: filepath.Base(path), source: string(src)}
		ast, err := e.Compile(f.source)
		if err != nil {
			return nil, &TestCompileError{File: f.name, Source: f.source, Err: err}
		}
		defined := ast.Functions()
		for _, m := range testFn.FindAllStringSubmatch(f.source, -1) {
			if slices.Contains(defined, m[1]+"/0") && !slices.Contains(f.tests, m[1]) {
				f.tests = append(f.tests, m[1])
			}
		}
		files = append(files, f)
	}
	return files, nil
}

// testRunner runs the tests of one RunTests.
type testRunner struct {
	rt     *Runtime
	stubs  *stubTransport
	engine *rhai.Engine
}

// testHost is what the test module's functions reach of a running test.
type testHost struct {
	rt    *Runtime
	stubs *stubTransport
}

// run runs one test function: the file's top level and then the
// function, compiled together so that positions stay the file's own.
func (tr *testRunner) run(ctx context.Context, f testFile, name string) (res TestResult) {
	res = TestResult{File: f.name, Name: name}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	tr.stubs.reset()
	if err := tr.rt.ClearKV(ctx); err != nil {
		res.Err = err
		return res
	}
	ast, err := tr.engine.Compile(f.source + "\n" + name + "();\n")
	if err != nil {
		res.Err = err
		return res
	}
	var out strings.Builder
	_, err = tr.engine.Run(ast, rhai.RunOptions{
		Context: ctx,
		Host:    &testHost{rt: tr.rt, stubs: tr.stubs},
		Print:   func(s string) { out.WriteString(s + "\n") },
	})
	res.Output = out.String()
	var ee *rhai.EvalError
	if errors.As(err, &ee) {
		root := ee.Root()
		res.Err, res.Pos = errors.New(root.Msg), root.Pos
		if res.Pos.Line > int32(strings.Count(f.source, "\n")+1) {
			res.Pos = rhai.Position{} // the call of the test, not a place in the file
		}
	} else if err != nil {
		res.Err = err
	}
	return res
}
