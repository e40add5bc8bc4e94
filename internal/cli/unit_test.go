package cli

// Unit tests of the commands' two halves without a server: the parse
// functions (flags, arguments, validation, exit codes) and the output
// formats (tables and JSON) fed with the API's types.

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// unitPic returns the state of a run of pic for a unit test: buffers for
// the streams, standard input holding in, and an empty environment.
func unitPic(in string) (p *pic, out, errOut *bytes.Buffer) {
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	p = &pic{
		ctx:    context.Background(),
		io:     &IOStreams{In: strings.NewReader(in), Out: out, ErrOut: errOut},
		getenv: func(string) string { return "" },
		output: "table",
	}
	return p, out, errOut
}

// commandAt returns the command named by words, e.g. "apps", "create".
func commandAt(t *testing.T, words ...string) *command {
	t.Helper()
	c := root()
	for _, w := range words {
		if c = c.find(w); c == nil {
			t.Fatalf("no command %q", strings.Join(words, " "))
		}
	}
	return c
}

// parseCase is one command line given to a parse function: either want
// is what it parses into, or err is its exact error and code the exit
// code (2, a usage error, unless set).
type parseCase[O any] struct {
	args  []string
	stdin string
	want  O
	err   string
	code  int
}

// checkParse runs every case through parse, as the command at words.
func checkParse[O any](t *testing.T, words []string, parse func(*pic, *command, []string) (O, error), cases []parseCase[O]) {
	t.Helper()
	for _, tc := range cases {
		name := strings.Join(append(append([]string{}, words...), tc.args...), " ")
		t.Run(name, func(t *testing.T) {
			t.Helper()
			c := commandAt(t, words...)
			p, out, errOut := unitPic(tc.stdin)
			got, err := parse(p, c, tc.args)
			if out.Len() != 0 || errOut.Len() != 0 {
				t.Errorf("the parse wrote stdout %q, stderr %q", out, errOut)
			}
			if tc.err == "" {
				if err != nil {
					t.Fatalf("err = %v (exit %d), want none", err, exitCode(err))
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("options\n got %#v\nwant %#v", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; parsed %#v, want %q", got, tc.err)
			}
			if err.Error() != tc.err {
				t.Errorf("err = %q\nwant  %q", err, tc.err)
			}
			code := tc.code
			if code == 0 {
				code = exitUsage
			}
			if exitCode(err) != code {
				t.Errorf("exit code = %d, want %d", exitCode(err), code)
			}
			// A usage error names its command, whose usage line the
			// report prints.
			var ue *usageError
			if errors.As(err, &ue) && ue.cmd != c {
				t.Errorf("the usage error names %v, not %s", ue.cmd, c.path())
			}
		})
	}
}
