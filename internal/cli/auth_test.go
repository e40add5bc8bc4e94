package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/picloud/picloud/internal/client"

	"github.com/picloud/picloud/internal/store/dbtest"
)

// credsFile reads the shell's credentials file and checks its mode and
// its directory's.
func (sh *shell) credsFile() credentials {
	sh.t.Helper()
	path := filepath.Join(sh.config, "picloud", "credentials.json")
	fi, err := os.Stat(path)
	if err != nil {
		sh.t.Fatalf("credentials file: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		sh.t.Errorf("credentials file mode %o, want 600", mode)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		sh.t.Fatal(err)
	}
	if mode := di.Mode().Perm(); mode != 0o700 {
		sh.t.Errorf("credentials directory mode %o, want 700", mode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		sh.t.Fatal(err)
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil {
		sh.t.Fatalf("credentials file %s: %v", b, err)
	}
	return c
}

func (sh *shell) noCredsFile() {
	sh.t.Helper()
	path := filepath.Join(sh.config, "picloud", "credentials.json")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		sh.t.Fatalf("credentials file %s: want none, got err %v", path, err)
	}
}

func TestWhoami(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testWhoami)
}

func testWhoami(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	if out := sh.ok("whoami"); out != "USERNAME\tROLE\nadmin\tAdministrator\n" {
		t.Fatalf("whoami table: got %q", out)
	}
	var id map[string]any
	if err := json.Unmarshal([]byte(sh.ok("whoami", "-o", "json")), &id); err != nil {
		t.Fatal(err)
	}
	if id["username"] != "admin" || id["role"] != "admin" || id["role_label"] != "Administrator" || id["via"] != "session" {
		t.Fatalf("whoami json: %v", id)
	}

	member, name, _ := newUser(t, srv, "member")
	if out := member.ok("whoami"); out != "USERNAME\tROLE\n"+name+"\tMember\n" {
		t.Fatalf("member whoami: got %q", out)
	}
}

func TestLoginWithToken(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testLoginWithToken)
}

func testLoginWithToken(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	key, err := client.New(srv.URL, srv.AdminToken).CreateAPIKey(context.Background(), uniq("login-key"), "")
	if err != nil {
		t.Fatal(err)
	}
	sh := newShell(t, srv).set(EnvURL, "")

	// A token the server refuses is not saved.
	sh.fails(1, "error: HTTP 401: ", "login", "--server", srv.URL, "--token", "pck_not-a-real-token")
	sh.noCredsFile()

	r := sh.run("login", "--server", srv.URL, "--token", key.RawToken)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "Logged in to "+srv.URL+" as admin (Administrator)") {
		t.Fatalf("login: %v", r)
	}
	if c := sh.credsFile(); c != (credentials{Server: srv.URL, Token: key.RawToken, Username: "admin"}) {
		t.Fatalf("credentials: %+v", c)
	}
	// Later commands use the file: no PICLOUD_URL, no PICLOUD_TOKEN.
	if out := sh.ok("whoami"); out != "USERNAME\tROLE\nadmin\tAdministrator\n" {
		t.Fatalf("whoami: %q", out)
	}

	// "--token -" reads the token from stdin; logging in again replaces
	// the file (still 0600).
	if r := sh.runIn(srv.AdminToken+"\n", "login", "--token", "-"); r.code != 0 {
		t.Fatalf("login --token -: %v", r)
	}
	if c := sh.credsFile(); c.Token != srv.AdminToken || c.Server != srv.URL {
		t.Fatalf("credentials: %+v", c)
	}
}

func TestLoginWithPassword(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testLoginWithPassword)
}

func testLoginWithPassword(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	_, name, password := newUser(t, srv, "member")
	sh := newShell(t, srv)

	r := sh.runIn(password+"\n", "login", "--username", name)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "as "+name+" (Member)") {
		t.Fatalf("login: %v", r)
	}
	c := sh.credsFile()
	if c.Server != srv.URL || c.Username != name || !strings.HasPrefix(c.Token, "pcs_") {
		t.Fatalf("credentials: %+v", c)
	}
	sh.set(EnvURL, "")
	if out := sh.ok("whoami"); out != "USERNAME\tROLE\n"+name+"\tMember\n" {
		t.Fatalf("whoami: %q", out)
	}

	// A wrong password: 401, and the saved credentials stay.
	sh.set(EnvURL, srv.URL)
	r = sh.runIn("wrong-password\n", "login", "--username", name)
	if r.code != 1 || r.stderr != "error: HTTP 401: invalid username or password\n" {
		t.Fatalf("wrong password: %v", r)
	}
	if sh.credsFile() != c {
		t.Fatal("a failed login changed the credentials")
	}
	// No password at all is refused before asking the server.
	url, calls := probe(t)
	sh.set(EnvURL, url)
	sh.fails(1, "error: no password on standard input", "login", "--username", name)
	if calls.Load() != 0 {
		t.Fatal("login without a password called the server")
	}
}

func TestLoginUsage(t *testing.T) {
	t.Parallel()
	sh := newShell(t, nil)
	sh.fails(2, "error: give --token or --username\nUsage: pic login ", "login")
	sh.fails(2, "not both", "login", "--token", "x", "--username", "y")
	sh.fails(2, "too many arguments", "login", "extra", "--token", "x")
	sh.fails(2, "invalid --server", "login", "--server", "ftp://example.com", "--token", "x")
}

func TestLogout(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testLogout)
}

func testLogout(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	_, name, password := newUser(t, srv, "member")
	sh := newShell(t, srv).set(EnvURL, "")
	if r := sh.runIn(password+"\n", "login", "--server", srv.URL, "--username", name); r.code != 0 {
		t.Fatalf("login: %v", r)
	}
	token := sh.credsFile().Token

	r := sh.run("logout")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "Logged out of "+srv.URL) {
		t.Fatalf("logout: %v", r)
	}
	sh.noCredsFile()
	// The session ended on the server: the old token is refused.
	if _, err := client.New(srv.URL, token).Whoami(context.Background()); client.StatusOf(err) != 401 {
		t.Fatalf("old token after logout: %v, want HTTP 401", err)
	}
	old := newShell(t, srv).set(EnvToken, token)
	old.fails(1, "error: HTTP 401: ", "whoami")

	// Logged out, there is nothing to log out of.
	sh.set(EnvURL, srv.URL).fails(1, "error: not logged in to "+srv.URL, "logout")
}

func TestLogoutWithAPIKey(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testLogoutWithAPIKey)
}

func testLogoutWithAPIKey(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	key, err := client.New(srv.URL, srv.AdminToken).CreateAPIKey(context.Background(), uniq("logout-key"), "")
	if err != nil {
		t.Fatal(err)
	}
	sh := newShell(t, srv)
	sh.ok("login", "--token", key.RawToken)
	r := sh.run("logout")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: the token is an API key") {
		t.Fatalf("logout: %v", r)
	}
	sh.noCredsFile()
	// An API key is revoked with api-keys rm, not by logout.
	if _, err := client.New(srv.URL, key.RawToken).Whoami(context.Background()); err != nil {
		t.Fatalf("the API key stopped working: %v", err)
	}
}

func TestEnvOverridesCredentialsFile(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testEnvOverridesCredentialsFile)
}

func testEnvOverridesCredentialsFile(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	member, name, _ := newUser(t, srv, "member")
	sh := newShell(t, srv).set(EnvURL, "")
	sh.ok("login", "--server", srv.URL, "--token", srv.AdminToken)

	// PICLOUD_TOKEN overrides the file's token.
	sh.set(EnvToken, member.vars[EnvToken])
	if out := sh.ok("whoami"); out != "USERNAME\tROLE\n"+name+"\tMember\n" {
		t.Fatalf("PICLOUD_TOKEN: whoami %q", out)
	}
	sh.set(EnvToken, "")

	// PICLOUD_URL overrides the file's server (here one that is down).
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	sh.set(EnvURL, dead.URL)
	r := sh.fails(1, "error: cannot reach the server at "+dead.URL, "whoami")
	if r.stdout != "" {
		t.Fatalf("stdout: %q", r.stdout)
	}
	// --server overrides PICLOUD_URL.
	if out := sh.ok("whoami", "--server", srv.URL); !strings.Contains(out, "admin\tAdministrator") {
		t.Fatalf("--server: whoami %q", out)
	}
}

// The saved token is only sent to the server it was saved for.
func TestSavedTokenStaysWithItsServer(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testSavedTokenStaysWithItsServer)
}

func testSavedTokenStaysWithItsServer(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	var mu sync.Mutex
	var auths []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"unauthorized","message":"who are you?"}}`))
	}))
	defer other.Close()

	sh := newShell(t, srv).set(EnvURL, "")
	sh.ok("login", "--server", srv.URL, "--token", srv.AdminToken)
	r := sh.fails(1, "error: HTTP 401: who are you?\nhint: you are not logged in to "+other.URL, "whoami", "--server", other.URL)
	mu.Lock()
	defer mu.Unlock()
	if len(auths) != 1 || auths[0] != "" {
		t.Fatalf("Authorization sent to another server: %q\n%v", auths, r)
	}
}

func TestCredentialsPath(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/x/cfg", "HOME": "/home/u"}, "/x/cfg/picloud/credentials.json"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.config/picloud/credentials.json"},
		// A relative XDG_CONFIG_HOME is invalid and ignored.
		{map[string]string{"XDG_CONFIG_HOME": "rel", "HOME": "/home/u"}, "/home/u/.config/picloud/credentials.json"},
	} {
		p := &pic{getenv: func(k string) string { return tc.vars[k] }}
		got, err := p.credentialsPath()
		if err != nil || got != tc.want {
			t.Errorf("%v: got %q, %v; want %q", tc.vars, got, err, tc.want)
		}
	}
	p := &pic{getenv: func(string) string { return "" }}
	if _, err := p.credentialsPath(); err == nil {
		t.Error("no HOME nor XDG_CONFIG_HOME: want an error")
	}
}

// Saving over a file with a looser mode leaves it 0600.
func TestCredentialsFileMode(t *testing.T) {
	t.Parallel()
	sh := newShell(t, nil)
	dir := filepath.Join(sh.config, "picloud")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "credentials.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &pic{getenv: sh.getenv}
	if _, err := p.saveCredentials(credentials{Server: "http://a", Token: "t", Username: "u"}); err != nil {
		t.Fatal(err)
	}
	if c := sh.credsFile(); c.Token != "t" {
		t.Fatalf("credentials: %+v", c)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left-over files in %s: %v", dir, entries)
	}

	// A corrupt file is reported, not ignored.
	if err := os.WriteFile(filepath.Join(dir, "credentials.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	sh.set(EnvURL, "http://127.0.0.1:1").fails(1, "error: the credentials file "+filepath.Join(dir, "credentials.json")+" is not valid JSON", "whoami")
}
