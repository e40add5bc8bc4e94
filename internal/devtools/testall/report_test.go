package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// testdata/run.jsonl is go test -json run on a small module: package a
// has a passing, a failing and a test whose PostgreSQL subtest skipped;
// b's TestMain prints a missing dependency and its tests skip, one for
// Chromium; c has no test files.
func readRun(t *testing.T) (*report, string, string) {
	t.Helper()
	f, err := os.Open("testdata/run.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rp := newReport()
	var progress, summary bytes.Buffer
	if err := rp.read(f, &progress); err != nil {
		t.Fatal(err)
	}
	rp.summary(&summary)
	return rp, progress.String(), summary.String()
}

func TestSummary(t *testing.T) {
	rp, progress, summary := readRun(t)
	if rp.ok() {
		t.Error("a run with a failed test is ok")
	}
	// Progress: a line per package, saying how many tests it skipped.
	for _, want := range []string{
		"FAIL\texample.com/tamod/a\t",
		"ok  \texample.com/tamod/b\t",
		"\t(2 skipped: see the summary)\n",
	} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress lacks %q:\n%s", want, progress)
		}
	}
	if strings.Contains(progress, "tamod/c") {
		t.Errorf("progress lists a package without tests:\n%s", progress)
	}
	// Summary: the failure with its output, every skip under its reason
	// (the logged line, without file:line), the TestMain's line, counts.
	for _, want := range []string{
		"FAILED: 2\n",
		"--- FAIL example.com/tamod/a TestFail\n",
		"a_test.go:6: context",
		"boom: want 2, got 3",
		"--- FAIL example.com/tamod/a (the package)",
		"SKIPPED: 4 test(s) did not run — the suite is incomplete. By reason:\n",
		"\n  missing dependency: Chromium: no Chromium at /usr/bin/chromium (apt-get install chromium)\n      example.com/tamod/b TestBrowser\n",
		"\n  missing dependency: PostgreSQL: pgtest: PostgreSQL is not reachable at postgres://root@127.0.0.1:5432/postgres\n      example.com/tamod/a TestDeps/postgres\n",
		"\n  slow; skipped with -short\n      example.com/tamod/b TestShort\n",
		"\n  missing dependency: PostgreSQL: not reachable (printed by the package's TestMain)\n      example.com/tamod/b (TestMain)\n",
		"In CI (CI=true) a missing dependency fails its test.",
		"FAIL: 3 passed, 2 failed, 4 skipped; 1 package(s) without tests\n",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
}

// A run where everything passed ends with PASS and no skip section.
func TestSummaryPass(t *testing.T) {
	lines := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.01s\n"}
{"Action":"pass","Package":"p","Elapsed":0.01}
`
	rp := newReport()
	var progress, summary bytes.Buffer
	if err := rp.read(strings.NewReader(lines), &progress); err != nil {
		t.Fatal(err)
	}
	rp.summary(&summary)
	if !rp.ok() || progress.String() != "ok  \tp\t0.010s\n" {
		t.Errorf("ok %v, progress %q", rp.ok(), progress.String())
	}
	if s := summary.String(); strings.Contains(s, "SKIPPED") || !strings.HasSuffix(s, "PASS: 1 passed, 0 failed, 0 skipped; 0 package(s) without tests\n") {
		t.Errorf("summary:\n%s", s)
	}
}

// Lines that are not JSON (go's own errors) are shown, not dropped.
func TestSummaryTextLines(t *testing.T) {
	rp := newReport()
	var progress, summary bytes.Buffer
	if err := rp.read(strings.NewReader("no Go files in /x\n"), &progress); err != nil {
		t.Fatal(err)
	}
	rp.summary(&summary)
	if progress.String() != "no Go files in /x\n" || !strings.Contains(summary.String(), "go test said: no Go files in /x") {
		t.Errorf("progress %q, summary %q", progress.String(), summary.String())
	}
}

func TestPackagesInArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-run", "TestX"}, false},
		{[]string{"-run=TestX", "-v"}, false},
		{[]string{"-short", "./internal/cli/"}, true},
		{[]string{"-run", "TestX", "./rhai/..."}, true},
		{[]string{"-timeout", "5m"}, false},
	} {
		if got := hasPackages(tc.args); got != tc.want {
			t.Errorf("hasPackages(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
	if got := withPackages([]string{"-v"}); strings.Join(got, " ") != "-v ./..." {
		t.Errorf("withPackages: %q", got)
	}
}
