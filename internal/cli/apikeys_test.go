package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testAPIKeys)
}

func testAPIKeys(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	member, name, password := newUser(t, srv, "member")

	if out := member.ok("api-keys", "ls"); out != "ID\tNAME\tPREFIX\tCREATED\tLAST_USED\n" {
		t.Fatalf("empty ls: %q", out)
	}
	if out := member.ok("api-keys", "ls", "-o", "json"); out != "[]\n" {
		t.Fatalf("empty ls json: %q", out)
	}

	// create: the raw token alone on stdout, the details on stderr.
	r := member.run("api-keys", "create", "ci")
	if r.code != 0 || len(lines(r.stdout)) != 1 || !strings.HasPrefix(r.stdout, "pck_") {
		t.Fatalf("create: %v", r)
	}
	token := strings.TrimSpace(r.stdout)
	if !strings.Contains(r.stderr, `Created API key `) || !strings.Contains(r.stderr, `"ci" (prefix `+token[:12]+`)`) || strings.Contains(r.stderr, token) {
		t.Fatalf("create stderr: %q", r.stderr)
	}

	// The token works as a bearer, as its owner.
	keyShell := as(t, srv, token)
	if out := keyShell.ok("whoami"); out != "USERNAME\tROLE\n"+name+"\tMember\n" {
		t.Fatalf("whoami with the key: %q", out)
	}
	// An API key creates another only with the password, read from stdin.
	if r := keyShell.runIn(password+"\n", "api-keys", "create", "from-key"); r.code != 0 || !strings.HasPrefix(r.stdout, "pck_") {
		t.Fatalf("create with an API key and the password: %v", r)
	}
	if r := keyShell.runIn("", "api-keys", "create", "no-password"); r.code != 1 || !strings.Contains(r.stderr, "no password on standard input") {
		t.Fatalf("create with an API key and no password: %v", r)
	}
	if r := keyShell.runIn("wrong-password\n", "api-keys", "create", "wrong-password"); r.code != 1 || !strings.Contains(r.stderr, "HTTP 403") {
		t.Fatalf("create with an API key and a wrong password: %v", r)
	}
	listed := rows(member.ok("api-keys", "ls"))
	if len(listed) != 3 || listed[2][1] != "from-key" {
		t.Fatalf("ls after creating with the key: %q", listed)
	}
	member.ok("api-keys", "rm", listed[2][0])

	var id map[string]any
	json.Unmarshal([]byte(keyShell.ok("whoami", "-o", "json")), &id)
	if id["via"] != "api_key" {
		t.Fatalf("whoami json: %v", id)
	}

	// ls never shows the token.
	out := member.ok("api-keys", "ls")
	got := rows(out)
	if len(got) != 2 || got[1][1] != "ci" || got[1][2] != token[:12] || !isRFC3339(got[1][3]) || !isRFC3339(got[1][4]) {
		t.Fatalf("ls: %q", out)
	}
	jsonOut := member.ok("api-keys", "ls", "-o", "json")
	if strings.Contains(out+jsonOut, token) || strings.Contains(jsonOut, "raw_token") {
		t.Fatalf("ls shows the token: %s %s", out, jsonOut)
	}
	var keys []map[string]any
	if err := json.Unmarshal([]byte(jsonOut), &keys); err != nil || len(keys) != 1 || keys[0]["name"] != "ci" {
		t.Fatalf("ls json: %s", jsonOut)
	}
	keyID := got[1][0]

	// create -o json: the server's answer, with raw_token.
	var k map[string]any
	if err := json.Unmarshal([]byte(member.ok("api-keys", "create", "second", "-o", "json")), &k); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k["raw_token"].(string), "pck_") || k["name"] != "second" || k["last_used_at"] != nil {
		t.Fatalf("create json: %v", k)
	}
	if got := rows(member.ok("api-keys", "ls")); len(got) != 3 || got[2][4] != "-" {
		t.Fatalf("an unused key's LAST_USED: %q", got)
	}

	// rm revokes it at once.
	r = member.run("api-keys", "rm", keyID)
	if r.code != 0 || r.stdout != "" || r.stderr != "Revoked API key "+keyID+"\n" {
		t.Fatalf("rm: %v", r)
	}
	keyShell.fails(1, "error: HTTP 401: ", "whoami")
	member.fails(1, "error: HTTP 404: ", "api-keys", "rm", keyID)
	member.fails(2, "error: \"abc\" is not an API key id", "api-keys", "rm", "abc")
}
