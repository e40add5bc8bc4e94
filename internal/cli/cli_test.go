package cli

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/client"

	"github.com/picloud/picloud/internal/store/dbtest"
)

// leaves returns every runnable command's words, e.g. ["apps", "create"].
func leaves(c *command, prefix []string) [][]string {
	if c.subs == nil {
		return [][]string{prefix}
	}
	var out [][]string
	for _, s := range c.subs {
		out = append(out, leaves(s, append(append([]string{}, prefix...), s.name))...)
	}
	return out
}

// --help works on every command and group: exit 0, help on stdout.
func TestHelpEverywhere(t *testing.T) {
	t.Parallel()
	sh := newShell(t, nil)
	for _, words := range leaves(root(), nil) {
		for _, h := range []string{"--help", "-h"} {
			r := sh.run(append(words, h)...)
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "Usage: pic "+strings.Join(words, " ")) {
				t.Errorf("%v", r)
			}
		}
		// "pic help WORDS…" prints the same.
		if r := sh.run(append([]string{"help"}, words...)...); r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: pic "+strings.Join(words, " ")) {
			t.Errorf("%v", r)
		}
	}
	for _, group := range [][]string{{}, {"apps"}, {"scripts"}, {"members"}, {"users"}, {"api-keys"}} {
		r := sh.run(append(group, "--help")...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Usage: "+strings.TrimSpace("pic "+strings.Join(group, " "))+" COMMAND") {
			t.Errorf("%v", r)
		}
	}
	if r := sh.run("help"); r.code != 0 || !strings.Contains(r.stdout, "scripts deploy") {
		t.Errorf("%v", r)
	}
	// Flags are documented with their names as typed.
	r := sh.run("invoke", "--help")
	for _, want := range []string{"-X, --method METHOD", "-d, --data DATA", "-H, --header 'K: V'", "--path /REST", "--query K=V", "-o, --output FORMAT", "--server URL"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("invoke --help lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	sh := newShell(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "error: missing command\nUsage: pic COMMAND"},
		{[]string{"frobnicate"}, `error: unknown command "frobnicate"`},
		{[]string{"--bogus"}, "error: flag provided but not defined: --bogus"},
		{[]string{"-o", "yaml", "apps", "ls"}, `error: invalid --output "yaml": use table or json`},
		{[]string{"apps", "ls", "--output=xml"}, `error: invalid --output "xml"`},
		{[]string{"apps", "ls", "--server"}, "error: flag needs an argument: --server"},
		{[]string{"apps", "ls", "--server", "ftp://x"}, "error: invalid --server"},
		{[]string{"scripts", "deploy"}, "error: missing argument; expected 1 argument\nUsage: pic scripts deploy FILE --app SLUG [--name NAME] [--private | --public]\nRun 'pic scripts deploy --help' for more.\n"},
		{[]string{"scripts", "show", "a/b/c"}, `error: "a/b/c" is not APP/NAME`},
		{[]string{"scripts", "show", "a/b", "--version", "0"}, "error: --version must be 1 or more"},
		{[]string{"members", "add", "app"}, "error: missing argument; expected 2 arguments"},
		{[]string{"logs"}, "error: missing argument"},
		{[]string{"logs", "a", "b"}, "error: too many arguments (b); expected APP, show ID, replay ID or repro ID"},
		{[]string{"whoami", "extra"}, "error: too many arguments (extra); expected 0 arguments"},
		{[]string{"help", "nope"}, `error: unknown command "nope"`},
	} {
		r := sh.run(tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("want exit 2 with %q:\n%v", tc.want, r)
		}
	}
}

// Global flags may come before the command or among its arguments, and
// "--" ends the flags.
func TestFlagPlacement(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testFlagPlacement)
}

func testFlagPlacement(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv).set(EnvURL, "http://127.0.0.1:1") // wrong on purpose
	for _, args := range [][]string{
		{"--server", srv.URL, "-o", "json", "whoami"},
		{"whoami", "--server", srv.URL, "--output", "json"},
		{"-o=json", "whoami", "--server=" + srv.URL},
	} {
		if out := sh.ok(args...); !strings.Contains(out, `"username": "admin"`) {
			t.Errorf("%v: %q", args, out)
		}
	}
	// After "--", a word that looks like a flag is an argument.
	sh.set(EnvURL, srv.URL).fails(1, `error: HTTP 404: app "--weird" not found`, "apps", "show", "--", "--weird")
	sh.fails(2, "error: flag provided but not defined: --weird", "apps", "show", "--weird")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	if out := newShell(t, nil).ok("version"); out != "pic "+Version+"\n" {
		t.Fatalf("version: %q", out)
	}
}

// Errors of every kind print one "error: " line on stderr and nothing on
// stdout.
func TestErrorFormat(t *testing.T) {
	t.Parallel()
	// A server answering with something other than an API error.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/apps":
			http.Error(w, "upstream is down", http.StatusBadGateway)
		case "/api/v1/whoami":
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "<html>\n<body>maintenance</body>\n</html>")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTeapot)
			fmt.Fprint(w, `{"error":{"code":"teapot","message":"I am a teapot"}}`)
		}
	}))
	defer proxy.Close()
	sh := newShell(t, nil).set(EnvURL, proxy.URL).set(EnvToken, "pcs_x")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"apps", "ls"}, "error: HTTP 502: upstream is down\n"},
		{[]string{"whoami"}, "error: HTTP 503: Service Unavailable\n"},
		{[]string{"users", "ls"}, "error: HTTP 418: I am a teapot\n"},
	} {
		r := sh.run(tc.args...)
		if r.code != 1 || r.stderr != tc.want || r.stdout != "" {
			t.Errorf("want exit 1 with %q:\n%v", tc.want, r)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errHelp, 0},
		{&usageError{msg: "x"}, 2},
		{fmt.Errorf("wrapped: %w", &usageError{msg: "x"}), 2},
		{&client.Error{Status: 404, Message: "gone"}, 1},
		{&client.NetworkError{Server: "http://x", Err: errors.New("refused")}, 1},
		{errors.New("local"), 1},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestNormalizeServer(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":    "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":   "http://127.0.0.1:8080",
		"127.0.0.1:8080":           "http://127.0.0.1:8080",
		"https://pi.example/cloud": "https://pi.example/cloud",
		" https://pi.example/ ":    "https://pi.example",
		"ftp://x":                  "",
		"http://":                  "",
		"http://x/?a=1":            "",
		"http://u:p@x":             "",
	} {
		got, err := normalizeServer(in)
		if want == "" {
			if err == nil {
				t.Errorf("normalizeServer(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("normalizeServer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if !sameServer("http://A:1/", "http://a:1") || sameServer("http://a:1", "http://a:2") {
		t.Error("sameServer")
	}
}
