package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/testdeps"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Time       time.Time
	Action     string
	Package    string
	ImportPath string // of build-output and build-fail
	Test       string
	Elapsed    float64
	Output     string
}

// testKey names a test of a package.
type testKey struct{ pkg, test string }

// report is what a run of go test -json says, gathered for the summary.
type report struct {
	// output holds each running test's lines (and each package's, under
	// test ""), until its verdict.
	output map[testKey][]string
	// failed lists the failed tests with their output; a package that
	// failed outside any test (a build error, a panic in TestMain) is a
	// test "".
	failed []failure
	// skipped maps a skip's reason to the tests it skipped.
	skipped map[string][]testKey
	// missing holds the missing-dependency lines printed outside a test
	// (by a TestMain), with their package.
	missing map[string][]testKey
	passed  int
	// noTests counts the packages without test files.
	noTests int
	// badLines counts the lines that were not JSON (go's own errors, such
	// as a package that does not exist, are printed as text).
	badLines []string
}

type failure struct {
	key    testKey
	output []string
}

func newReport() *report {
	return &report{output: map[testKey][]string{}, skipped: map[string][]testKey{}, missing: map[string][]testKey{}}
}

// read consumes go test -json lines from r, writing a go-test-like
// progress to progress as packages finish.
func (rp *report) read(r io.Reader, progress io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			rp.badLines = append(rp.badLines, string(line))
			fmt.Fprintln(progress, string(line))
			continue
		}
		rp.add(ev, progress)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("testall: reading go test's output: %w", err)
	}
	return nil
}

// add records one event.
func (rp *report) add(ev event, progress io.Writer) {
	key := testKey{ev.Package, ev.Test}
	switch ev.Action {
	case "build-output":
		fmt.Fprint(progress, ev.Output)
	case "output":
		rp.output[key] = append(rp.output[key], ev.Output)
		if i := strings.Index(ev.Output, testdeps.Marker); i >= 0 && ev.Test == "" {
			msg := strings.TrimSpace(ev.Output[i:])
			rp.missing[msg] = append(rp.missing[msg], key)
		}
	case "pass":
		if ev.Test != "" {
			rp.passed++
		} else {
			rp.packageDone(key, "ok  ", ev.Elapsed, progress)
		}
		delete(rp.output, key)
	case "skip":
		if ev.Test == "" {
			if rp.hasNoTestFiles(key) {
				rp.noTests++
			} else {
				rp.packageDone(key, "ok  ", ev.Elapsed, progress)
			}
		} else {
			reason := skipReason(rp.output[key])
			rp.skipped[reason] = append(rp.skipped[reason], key)
		}
		delete(rp.output, key)
	case "fail":
		rp.failed = append(rp.failed, failure{key: key, output: rp.output[key]})
		if ev.Test == "" {
			rp.packageDone(key, "FAIL", ev.Elapsed, progress)
		}
		delete(rp.output, key)
	}
}

func (rp *report) hasNoTestFiles(pkg testKey) bool {
	return slices.ContainsFunc(rp.output[pkg], func(l string) bool { return strings.Contains(l, "[no test files]") })
}

// packageDone prints a package's line of progress, saying how many of
// its tests were skipped.
func (rp *report) packageDone(pkg testKey, verdict string, elapsed float64, progress io.Writer) {
	skipped := 0
	for _, keys := range rp.skipped {
		for _, k := range keys {
			if k.pkg == pkg.pkg {
				skipped++
			}
		}
	}
	line := fmt.Sprintf("%s\t%s\t%.3fs", verdict, pkg.pkg, elapsed)
	if skipped > 0 {
		line += fmt.Sprintf("\t(%d skipped: see the summary)", skipped)
	}
	fmt.Fprintln(progress, line)
}

// skipReason finds why a test skipped in its output: the lines t.Skip
// logged ("    file_test.go:31: reason"), or, for a test that skipped
// because its subtests all did, a note saying so.
func skipReason(lines []string) string {
	var reason []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		reason = append(reason, logPrefix.ReplaceAllString(t, ""))
	}
	if len(reason) == 0 {
		return "(no reason given)"
	}
	return strings.Join(reason, " / ")
}

// logPrefix is the file:line testing writes before a logged line.
var logPrefix = regexp.MustCompile(`^[\w./-]+\.go:\d+: `)

// maxListed bounds the tests listed under one reason of the summary.
const maxListed = 8

// summary writes the closing summary: failures with their output, then
// every skip grouped by reason, then the counts. It is loud on purpose: a
// skip is a part of the suite that did not run.
func (rp *report) summary(w io.Writer) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, strings.Repeat("=", 72))
	if len(rp.failed) > 0 {
		fmt.Fprintf(w, "FAILED: %d\n", len(rp.failed))
		for _, f := range rp.failed {
			name := f.key.test
			if name == "" {
				name = "(the package)"
			}
			fmt.Fprintf(w, "\n--- FAIL %s %s\n", f.key.pkg, name)
			for _, l := range f.output {
				if !strings.HasPrefix(l, "=== ") {
					fmt.Fprint(w, "    ", l)
				}
			}
		}
		fmt.Fprintln(w)
	}
	if n := rp.skipCount(); n > 0 {
		fmt.Fprintf(w, "SKIPPED: %d test(s) did not run — the suite is incomplete. By reason:\n", n)
		for _, reason := range sortedKeys(rp.skipped) {
			writeGroup(w, reason, rp.skipped[reason])
		}
		for _, msg := range sortedKeys(rp.missing) {
			writeGroup(w, msg+" (printed by the package's TestMain)", rp.missing[msg])
		}
		fmt.Fprintf(w, "In CI (%s=true) a missing dependency fails its test.\n\n", testdeps.EnvCI)
	}
	for _, l := range rp.badLines {
		if strings.TrimSpace(l) != "" {
			fmt.Fprintln(w, "go test said:", l)
		}
	}
	verdict := "PASS"
	if !rp.ok() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: %d passed, %d failed, %d skipped; %d package(s) without tests\n",
		verdict, rp.passed, len(rp.failed), rp.skipCount(), rp.noTests)
}

func writeGroup(w io.Writer, reason string, keys []testKey) {
	fmt.Fprintf(w, "\n  %s\n", reason)
	for i, k := range keys {
		if i == maxListed {
			fmt.Fprintf(w, "      … and %d more\n", len(keys)-maxListed)
			break
		}
		name := k.test
		if name == "" {
			name = "(TestMain)"
		}
		fmt.Fprintf(w, "      %s %s\n", k.pkg, name)
	}
}

func (rp *report) skipCount() int {
	n := 0
	for _, keys := range rp.skipped {
		n += len(keys)
	}
	for _, keys := range rp.missing {
		n += len(keys)
	}
	return n
}

// ok reports whether nothing failed.
func (rp *report) ok() bool { return len(rp.failed) == 0 }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
