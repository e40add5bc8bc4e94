package testdeps

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The helper is run in a child test process, where it can skip or fail
// without ending this test: the child's verdict is what is checked.
func TestMissing(t *testing.T) {
	if os.Getenv("TESTDEPS_CHILD") == "1" {
		Missing(t, "Caddy", "caddy is not on PATH (apt-get install caddy)")
		t.Error("Missing returned")
		return
	}
	for _, tc := range []struct {
		ci      string
		fail    bool
		verdict string
	}{
		{"", false, "--- SKIP: TestMissing"},
		{"false", false, "--- SKIP: TestMissing"},
		{"true", true, "--- FAIL: TestMissing"},
		{"1", true, "--- FAIL: TestMissing"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTDEPS_CHILD=1", EnvCI+"="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.fail {
			t.Errorf("CI=%q: exit error %v, want failure %v\n%s", tc.ci, err, tc.fail, out)
		}
		want := "missing dependency: Caddy: caddy is not on PATH (apt-get install caddy)"
		if !strings.Contains(string(out), tc.verdict) || !strings.Contains(string(out), want) {
			t.Errorf("CI=%q: output lacks %q or %q:\n%s", tc.ci, tc.verdict, want, out)
		}
		if tc.fail && !strings.Contains(string(out), "(CI=true: a missing dependency fails)") {
			t.Errorf("CI=%q: the failure does not say why:\n%s", tc.ci, out)
		}
	}
}

func TestInCI(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "TRUE": true, "1": true, "false": false, "0": false, "yes": false} {
		t.Setenv(EnvCI, v)
		if got := InCI(); got != want {
			t.Errorf("CI=%q: InCI() = %v, want %v", v, got, want)
		}
	}
}
