// Package testdeps is how a test says that it needs something outside Go
// — PostgreSQL, Chromium, Node's packages, Caddy — and cannot run
// without it. Outside CI the test is skipped with a message that names
// the dependency and how to get it, in one form that the test runner's
// summary (internal/devtools/testall) collects; in CI (CI=true) the test
// fails instead, so that a suite never passes by skipping its tests.
package testdeps

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// EnvCI is the variable CI services set ("true"); with it, a missing
// dependency fails the test.
const EnvCI = "CI"

// Marker starts every message of a missing dependency.
const Marker = "missing dependency: "

// InCI reports whether the tests run in CI: CI set to a true value.
func InCI() bool {
	ci, err := strconv.ParseBool(os.Getenv(EnvCI))
	return err == nil && ci
}

// Message is the line that reports dependency dep missing: why, and how
// to get it. A test main (TestMain) that cannot run prints it.
func Message(dep, why string) string {
	return Marker + dep + ": " + why
}

// Missing ends t because dependency dep is missing (why says what is
// missing and how to get it): a skip, or a failure in CI.
func Missing(t testing.TB, dep, why string) {
	t.Helper()
	msg := Message(dep, why)
	if InCI() {
		t.Fatalf("%s (%s=true: a missing dependency fails)", msg, EnvCI)
	}
	t.Skip(msg)
}

// Missingf is Missing with a formatted reason.
func Missingf(t testing.TB, dep, format string, a ...any) {
	t.Helper()
	Missing(t, dep, fmt.Sprintf(format, a...))
}
