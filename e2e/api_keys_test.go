package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var rawKey = regexp.MustCompile(`pck_[A-Za-z0-9_-]+`)

// An API key: its raw token is printed once, at creation; ls never shows
// it; it authenticates as its owner; rm revokes it on the server at once.
func TestAPIKeys(t *testing.T) {
	user, token := createUser(t, "keys")
	pic := as(t, token)
	name := "ci-" + unique("key")

	r := pic.ok("api-keys", "create", name)
	raws := rawKey.FindAllString(r.stdout, -1)
	if len(raws) != 1 {
		t.Fatalf("api-keys create: want the raw token once on stdout\n%s", r)
	}
	raw := raws[0]

	// ls shows the key by name, never its token.
	for _, args := range [][]string{{"api-keys", "ls"}, {"api-keys", "ls", "-o", "json"}} {
		r := pic.ok(args...)
		if !strings.Contains(r.stdout, name) {
			t.Errorf("the key %s is not listed\n%s", name, r)
		}
		if strings.Contains(r.stdout+r.stderr, raw) || strings.Contains(r.stdout, "raw_token") {
			t.Errorf("ls shows the raw token\n%s", r)
		}
	}
	keys := jsonArray(t, pic.ok("api-keys", "ls", "-o", "json"))
	if len(keys) != 1 || keys[0]["name"] != name || !strings.HasPrefix(raw, fmt.Sprint(keys[0]["prefix"])) {
		t.Fatalf("api-keys ls: want the one key %s with the token's prefix: %v", name, keys)
	}
	id := fmt.Sprint(keys[0]["id"])

	// The token is a real bearer: as the owner, through the CLI and raw HTTP.
	withKey := as(t, raw)
	who := jsonObject(t, withKey.ok("whoami", "-o", "json"))
	if who["username"] != user {
		t.Errorf("whoami with the key: %v, want %s", who, user)
	}
	api(t, http.StatusOK, "GET", "/api/v1/apps", raw, "")

	// rm revokes it on the server.
	pic.ok("api-keys", "rm", id)
	refused(t, withKey.run("whoami"), 401)
	if code, body := apiCall("GET", "/api/v1/whoami", raw, "", ""); code != http.StatusUnauthorized {
		t.Errorf("the revoked key: HTTP %d, want 401: %s", code, body)
	}
	if got := jsonArray(t, pic.ok("api-keys", "ls", "-o", "json")); len(got) != 0 {
		t.Errorf("api-keys ls after rm: %v, want none", got)
	}
	refused(t, pic.run("api-keys", "rm", id), 404)
}
