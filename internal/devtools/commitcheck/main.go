// Command commitcheck checks the subjects of a range of commits against
// the rules of docs/git-workflow.md: a known type, a known scope when
// there is one, ": " before the text, at most 72 characters, no period
// at the end. Git's own merge subjects pass as they are.
//
//	go run ./internal/devtools/commitcheck [RANGE]
//
// The range is the argument when there is one, else $PICLOUD_COMMIT_RANGE,
// else origin/main..HEAD when origin/main exists, else main..HEAD when a
// local branch main exists, else nothing is checked. The default is
// always "what this branch adds to main": the history already on main
// predates the rules and is never checked again, so a fresh clone on
// main checks nothing and CI stays green on old subjects; and when the
// range holds the commit that added the rules, only the commits after it
// are checked. .ci/run calls
// it before the tests; the exit status is 1 when a subject breaks a rule
// and 2 when git fails.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv("PICLOUD_COMMIT_RANGE"), gitCmd, os.Stdout, os.Stderr))
}

// git runs git with args and returns its standard output; tests replace
// it so that the range logic runs without a repository.
type git func(args ...string) (string, error)

func gitCmd(args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("git", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// run checks the range chosen from args and envRange and returns the
// exit status.
func run(args []string, envRange string, g git, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: commitcheck [RANGE]")
		return 2
	}
	rng, why := commitRange(args, envRange, g)
	if rng == "" {
		fmt.Fprintf(stdout, "commitcheck: nothing to check (%s); set PICLOUD_COMMIT_RANGE to choose a range\n", why)
		return 0
	}
	out, err := g("log", "--format=%H%x00%s", rng, "--")
	if err != nil {
		fmt.Fprintln(stderr, "commitcheck:", err)
		return 2
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if out == "" {
		lines = nil
	}
	bad := 0
	for _, line := range lines {
		hash, subject, ok := strings.Cut(line, "\x00")
		if !ok {
			fmt.Fprintf(stderr, "commitcheck: unexpected line from git log: %q\n", line)
			return 2
		}
		if err := checkSubject(subject); err != nil {
			bad++
			fmt.Fprintf(stderr, "%.10s %s\n           %v\n", hash, subject, err)
		}
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "commitcheck: %d of %d commits in %s break the rules of docs/git-workflow.md; reword them with git rebase -i\n", bad, len(lines), rng)
		return 1
	}
	fmt.Fprintf(stdout, "commitcheck: %d commits in %s (%s), all subjects follow docs/git-workflow.md\n", len(lines), rng, why)
	return 0
}

// commitRange returns the range to check and where it came from, or ""
// and why there is none.
func commitRange(args []string, envRange string, g git) (rng, why string) {
	switch {
	case len(args) == 1:
		return args[0], "the argument"
	case envRange != "":
		return envRange, "PICLOUD_COMMIT_RANGE"
	}
	// A branch's submitted commits are those main does not have yet; the
	// remote's main is the reference when the clone has one.
	for _, ref := range []string{"origin/main", "main"} {
		if _, err := g("rev-parse", "--verify", "--quiet", ref+"^{commit}"); err == nil {
			// The commits from before the rules were written are not held
			// to them: when the range holds the commit that brought this
			// checker, it starts after that commit.
			out, err := g("log", "--diff-filter=A", "--format=%H", ref+"..HEAD", "--", rulesFile)
			if intro := lastLine(out); err == nil && intro != "" {
				return intro + "..HEAD", "the commits HEAD adds to " + ref + " since the rules came"
			}
			return ref + "..HEAD", "the commits HEAD adds to " + ref
		}
	}
	return "", "no origin/main or main to compare HEAD with"
}

// rulesFile is the file that brought the rules; the commit that added it
// is where they begin.
const rulesFile = "internal/devtools/commitcheck/rules.go"

// lastLine returns the last non-empty line of out, "" for none.
func lastLine(out string) string {
	lines := strings.Fields(out)
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}
