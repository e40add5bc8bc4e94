package main

import (
	"errors"
	"strings"
	"testing"
)

// fakeGit answers rev-parse for the refs it has and log for one range.
type fakeGit struct {
	refs   map[string]bool
	logged string // the range git log was asked for
	log    string
	logErr error
	intro  string // the commit that added the rules, when in the range
}

func (f *fakeGit) run(args ...string) (string, error) {
	switch args[0] {
	case "rev-parse":
		ref := strings.TrimSuffix(args[len(args)-1], "^{commit}")
		if f.refs[ref] {
			return "0123456789abcdef\n", nil
		}
		return "", errors.New("exit status 1")
	case "log":
		if args[1] == "--diff-filter=A" {
			return f.intro, nil
		}
		f.logged = args[2]
		return f.log, f.logErr
	}
	return "", errors.New("unexpected git " + strings.Join(args, " "))
}

func TestCommitRange(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		env      string
		refs     map[string]bool
		rng, why string
	}{
		{"argument first", []string{"a..b"}, "c..d", map[string]bool{"origin/main": true}, "a..b", "the argument"},
		{"environment next", nil, "c..d", map[string]bool{"origin/main": true}, "c..d", "PICLOUD_COMMIT_RANGE"},
		{"remote main", nil, "", map[string]bool{"origin/main": true, "main": true}, "origin/main..HEAD", "the commits HEAD adds to origin/main"},
		{"local main", nil, "", map[string]bool{"main": true}, "main..HEAD", "the commits HEAD adds to main"},
		{"neither", nil, "", nil, "", "no origin/main or main to compare HEAD with"},
		{"since the rules came", nil, "", map[string]bool{"origin/main": true}, "abc123..HEAD", "the commits HEAD adds to origin/main since the rules came"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeGit{refs: tc.refs}
			if tc.name == "since the rules came" {
				f.intro = "abc123\n"
			}
			rng, why := commitRange(tc.args, tc.env, f.run)
			if rng != tc.rng || why != tc.why {
				t.Errorf("commitRange = %q, %q; want %q, %q", rng, why, tc.rng, tc.why)
			}
		})
	}
}

func TestRun(t *testing.T) {
	good := "aaaa\x00feat(store): one store\nbbbb\x00Merge branch 'h/x'\n"
	bad := good + "cccc\x00fix(store): ends with a period.\ndddd\x00wip\n"
	for _, tc := range []struct {
		name       string
		args       []string
		refs       map[string]bool
		log        string
		logErr     error
		code       int
		out, err   string
		wantLogged string
	}{
		{name: "all good", refs: map[string]bool{"main": true}, log: good, code: 0,
			out: "commitcheck: 2 commits in main..HEAD", wantLogged: "main..HEAD"},
		{name: "empty range", refs: map[string]bool{"origin/main": true}, log: "", code: 0,
			out: "commitcheck: 0 commits in origin/main..HEAD", wantLogged: "origin/main..HEAD"},
		{name: "bad subjects", args: []string{"x..y"}, log: bad, code: 1,
			err: "cccc fix(store): ends with a period.\n           ends with a period\ndddd wip\n           no \"type(scope): \" in front\ncommitcheck: 2 of 4 commits in x..y break the rules", wantLogged: "x..y"},
		{name: "nothing to compare with", code: 0,
			out: "commitcheck: nothing to check (no origin/main or main to compare HEAD with)"},
		{name: "git fails", args: []string{"nosuch..HEAD"}, logErr: errors.New("unknown revision"), code: 2,
			err: "commitcheck: unknown revision", wantLogged: "nosuch..HEAD"},
		{name: "garbled log", args: []string{"x..y"}, log: "no separator\n", code: 2,
			err: `unexpected line from git log: "no separator"`, wantLogged: "x..y"},
		{name: "two ranges", args: []string{"a..b", "c..d"}, code: 2, err: "usage: commitcheck [RANGE]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeGit{refs: tc.refs, log: tc.log, logErr: tc.logErr}
			var stdout, stderr strings.Builder
			code := run(tc.args, "", f.run, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stdout %q stderr %q", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.out) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tc.out)
			}
			if !strings.Contains(stderr.String(), tc.err) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.err)
			}
			if tc.out == "" && stdout.Len() > 0 && tc.code != 0 {
				t.Errorf("stdout %q, want nothing on failure", stdout.String())
			}
			if f.logged != tc.wantLogged {
				t.Errorf("git log asked for %q, want %q", f.logged, tc.wantLogged)
			}
		})
	}
}
