package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Login with a bearer token: the token is checked against the server
// before anything is saved, and the saved credentials then authenticate
// later commands.
func TestAuthLoginWithToken(t *testing.T) {
	user, token := createUser(t, "auth-token")

	pic := newCLI(t)
	refused(t, pic.run("login", "--server", serverURL, "--token", "pcs_not-a-real-token"), 401)
	if _, err := os.Stat(pic.credentialsPath()); !os.IsNotExist(err) {
		t.Fatalf("a refused token was saved: stat %s: %v", pic.credentialsPath(), err)
	}

	pic.ok("login", "--server", serverURL, "--token", token)
	creds := readCredentials(t, pic)
	if creds.Server != serverURL || creds.Token != token || creds.Username != user {
		t.Errorf("credentials file holds %+v, want server %s, the token and username %s", creds, serverURL, user)
	}
	r := pic.ok("whoami")
	if _, rows := table(t, r); len(rows) != 1 || rows[0][0] != user {
		t.Errorf("whoami after login: want %s\n%s", user, r)
	}
}

// Login with a user name reads the password from standard input.
func TestAuthLoginWithPassword(t *testing.T) {
	user, _ := createUser(t, "auth-pass")

	pic := newCLI(t)
	refused(t, pic.runStdin("wrong-password\n", "login", "--server", serverURL, "--username", user), 401)
	if _, err := os.Stat(pic.credentialsPath()); !os.IsNotExist(err) {
		t.Fatalf("a failed login saved credentials: stat %s: %v", pic.credentialsPath(), err)
	}

	r := pic.runStdin(memberPassword+"\n", "login", "--server", serverURL, "--username", user)
	if r.code != 0 {
		t.Fatalf("login: want exit 0\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, memberPassword) {
		t.Errorf("login echoed the password\n%s", r)
	}
	creds := readCredentials(t, pic)
	if creds.Server != serverURL || creds.Username != user || !strings.HasPrefix(creds.Token, "pcs_") {
		t.Errorf("credentials file holds %+v, want server %s, username %s and a session token", creds, serverURL, user)
	}
	r = pic.ok("whoami")
	if _, rows := table(t, r); len(rows) != 1 || rows[0][0] != user {
		t.Errorf("whoami after login: want %s\n%s", user, r)
	}
}

// Logout ends the session on the server and removes the local file.
func TestAuthLogout(t *testing.T) {
	user, _ := createUser(t, "auth-logout")
	pic := newCLI(t)
	if r := pic.runStdin(memberPassword+"\n", "login", "--server", serverURL, "--username", user); r.code != 0 {
		t.Fatalf("login: want exit 0\n%s", r)
	}
	old := readCredentials(t, pic).Token

	pic.ok("logout")
	if _, err := os.Stat(pic.credentialsPath()); !os.IsNotExist(err) {
		t.Errorf("logout left the credentials file: stat %s: %v", pic.credentialsPath(), err)
	}
	// The old token is dead on the server, not merely forgotten locally.
	if code, body := apiCall("GET", "/api/v1/whoami", old, "", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/whoami with the logged-out token: HTTP %d, want 401: %s", code, body)
	}
	refused(t, as(t, old).run("whoami"), 401)
}

// PICLOUD_URL and PICLOUD_TOKEN win over the credentials file.
func TestAuthEnvOverridesFile(t *testing.T) {
	user, token := createUser(t, "auth-env")
	pic := newCLI(t)
	pic.ok("login", "--server", serverURL, "--token", token)

	r := pic.with("PICLOUD_TOKEN="+adminToken).ok("whoami", "-o", "json")
	if got := jsonObject(t, r)["username"]; got != adminUser {
		t.Errorf("with PICLOUD_TOKEN of the admin, whoami is %v, want %s\n%s", got, adminUser, r)
	}
	r = pic.ok("whoami", "-o", "json")
	if got := jsonObject(t, r)["username"]; got != user {
		t.Errorf("without the variable, whoami is %v, want %s from the file\n%s", got, user, r)
	}

	// A server nobody listens on: the request must go there, and fail
	// locally (no HTTP status), rather than to the file's server.
	r = pic.with("PICLOUD_URL=http://127.0.0.1:1").run("whoami")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "error: ") || strings.Contains(r.stderr, "HTTP ") || r.stdout != "" {
		t.Errorf("with PICLOUD_URL of a dead server: want exit 1 and a local error on stderr\n%s", r)
	}
}

// whoami renders the role label, not the role's code.
func TestAuthWhoamiRoleLabel(t *testing.T) {
	user, token := createUser(t, "auth-label")
	for _, tc := range []struct {
		token, user, label string
	}{
		{adminToken, adminUser, "Administrator"},
		{token, user, "Member"},
	} {
		r := as(t, tc.token).ok("whoami")
		if r.stdout != "USERNAME\tROLE\n"+tc.user+"\t"+tc.label+"\n" {
			t.Errorf("whoami of %s: want the row %q\n%s", tc.user, tc.user+"\t"+tc.label, r)
		}
	}
}

type credentials struct {
	Server   string `json:"server"`
	Token    string `json:"token"`
	Username string `json:"username"`
}

// readCredentials reads pic's credentials file, checking that it and its
// directory are private to the user.
func readCredentials(t *testing.T, c *cli) credentials {
	t.Helper()
	p := c.credentialsPath()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("no credentials file: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %o, want 600", p, mode)
	}
	if di, err := os.Stat(filepath.Dir(p)); err != nil {
		t.Error(err)
	} else if mode := di.Mode().Perm(); mode != 0o700 {
		t.Errorf("%s has mode %o, want 700", filepath.Dir(p), mode)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var cr credentials
	if err := json.Unmarshal(b, &cr); err != nil {
		t.Fatalf("credentials file %s: %v\n%s", p, err, b)
	}
	return cr
}
