package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRunOnRealRepository runs the checker with git itself on a new
// repository whose main holds a subject that breaks the rules, as the
// history before the rules does: the default range must leave it out.
func TestRunOnRealRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to check commit subjects:", err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	sh := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	check := func(wantCode int, wantOut string) {
		t.Helper()
		var stdout, stderr strings.Builder
		code := run(nil, "", gitCmd, &stdout, &stderr)
		if code != wantCode || !strings.Contains(stdout.String()+stderr.String(), wantOut) {
			t.Errorf("exit status %d, want %d; output %q, want it to contain %q",
				code, wantCode, stdout.String()+stderr.String(), wantOut)
		}
	}
	sh("init", "-q", "-b", "main")
	sh("commit", "-q", "--allow-empty", "-m", "an old subject from before the rules, which is far longer than seventy-two characters.")
	check(0, "0 commits in main..HEAD")

	sh("checkout", "-q", "-b", "topic")
	sh("commit", "-q", "--allow-empty", "-m", "feat(store): a subject that follows the rules")
	check(0, "1 commits in main..HEAD")

	sh("commit", "-q", "--allow-empty", "-m", "wip.")
	check(1, "1 of 2 commits in main..HEAD break the rules")

	// With neither main nor origin/main there is nothing to compare with.
	sh("branch", "-q", "-m", "main", "old")
	check(0, "nothing to check")
}
