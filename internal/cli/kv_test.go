package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/store/dbtest"
)

var kvHeader = []string{"KEY", "SIZE", "UPDATED", "EXPIRES"}

func TestKV(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testKV)
}

func testKV(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)

	// set: a JSON value; the row on stdout, a confirmation on stderr.
	r := sh.run("kv", "set", app, "user/1", `{"name": "ann", "tags": [1, 2]}`)
	if r.code != 0 || r.stderr != `Set "user/1" in app `+app+" (27 bytes)\n" {
		t.Fatalf("set: %v", r)
	}
	if got := rows(r.stdout); len(got) != 2 || !slices.Equal(got[0], kvHeader) || got[1][0] != "user/1" || got[1][1] != "27" || got[1][3] != "-" {
		t.Fatalf("set: table %q", r.stdout)
	}
	if got := sh.ok("kv", "get", app, "user/1"); got != `{"name":"ann","tags":[1,2]}`+"\n" {
		t.Fatalf("get: %q", got)
	}

	// --string stores text as it is; --raw prints it without quotes.
	sh.ok("kv", "set", app, "greeting", "hello world", "--string")
	if got := sh.ok("kv", "get", app, "greeting"); got != `"hello world"`+"\n" {
		t.Fatalf("get a string: %q", got)
	}
	if got := sh.ok("kv", "get", app, "greeting", "--raw"); got != "hello world\n" {
		t.Fatalf("get --raw: %q", got)
	}
	// From a file and from standard input; a negative number after --.
	sh.ok("kv", "set", app, "conf", "@"+writeFile(t, "conf.json", "{\n  \"debug\": true\n}\n"))
	if got := sh.ok("kv", "get", app, "conf"); got != `{"debug":true}`+"\n" {
		t.Fatalf("get from a file: %q", got)
	}
	if r := sh.runIn("[1, 2, 3]\n", "kv", "set", app, "list", "-"); r.code != 0 {
		t.Fatalf("set -: %v", r)
	}
	if got := sh.ok("kv", "get", app, "list"); got != "[1,2,3]\n" {
		t.Fatalf("get from stdin: %q", got)
	}
	sh.ok("kv", "set", app, "n", "--", "-5")
	if got := sh.ok("kv", "get", app, "n"); got != "-5\n" {
		t.Fatalf("get a negative number: %q", got)
	}
	// Odd keys travel intact.
	for _, key := range []string{"a/../b", ".", "50% off?", "clé #1"} {
		sh.ok("kv", "set", app, key, "true")
		if got := sh.ok("kv", "get", app, key); got != "true\n" {
			t.Fatalf("get %q: %q", key, got)
		}
	}

	// --ttl makes the key expire.
	before := time.Now()
	r = sh.run("kv", "set", app, "session", "1", "--ttl", "1h")
	if r.code != 0 || !strings.Contains(r.stderr, "), until ") {
		t.Fatalf("set --ttl: %v", r)
	}
	var e client.KVEntry
	if err := json.Unmarshal([]byte(sh.ok("kv", "get", app, "session", "-o", "json")), &e); err != nil {
		t.Fatal(err)
	}
	if e.ExpiresAt == nil || e.ExpiresAt.Sub(before) < 59*time.Minute || e.ExpiresAt.Sub(before) > time.Hour+time.Minute ||
		string(e.Value) != "1" || e.Key != "session" || e.Size != 1 {
		t.Fatalf("get -o json: %+v", e)
	}

	// ls: keys in byte order; a prefix is literal; a full page says how
	// to go on.
	got := rows(sh.ok("kv", "ls", app))
	var keys []string
	for _, row := range got[1:] {
		keys = append(keys, row[0])
	}
	want := []string{".", "50% off?", "a/../b", "clé #1", "conf", "greeting", "list", "n", "session", "user/1"}
	if !slices.Equal(got[0], kvHeader) || !slices.Equal(keys, want) {
		t.Fatalf("ls: %q", got)
	}
	if got := rows(sh.ok("kv", "ls", app, "user/")); len(got) != 2 || got[1][0] != "user/1" {
		t.Fatalf("ls PREFIX: %q", got)
	}
	if got := rows(sh.ok("kv", "ls", app, "%")); len(got) != 1 {
		t.Fatalf("ls %%: %q", got)
	}
	r = sh.run("kv", "ls", app, "--limit", "2")
	if r.code != 0 || len(rows(r.stdout)) != 3 || r.stderr != "More keys may follow: continue with --after \"50% off?\"\n" {
		t.Fatalf("ls --limit 2: %v", r)
	}
	if got := rows(sh.ok("kv", "ls", app, "--limit", "2", "--after", "50% off?")); len(got) != 3 || got[1][0] != "a/../b" || got[2][0] != "clé #1" {
		t.Fatalf("ls --after: %q", got)
	}
	var list []client.KVEntry
	if err := json.Unmarshal([]byte(sh.ok("kv", "ls", app, "-o", "json")), &list); err != nil || len(list) != len(want) || list[0].Value != nil {
		t.Fatalf("ls -o json: %v %+v", err, list)
	}

	// rm.
	if r := sh.run("kv", "rm", app, "greeting"); r.code != 0 || r.stderr != `Removed "greeting" from app `+app+"\n" || r.stdout != "" {
		t.Fatalf("rm: %v", r)
	}
	sh.fails(1, `error: HTTP 404: key "greeting" not found in app "`+app+`"`, "kv", "get", app, "greeting")
	sh.fails(1, `error: HTTP 404: key "greeting" not found in app "`+app+`"`, "kv", "rm", app, "greeting")
}

func TestKVFailures(t *testing.T) {
	t.Parallel()
	srv := shared(t, dbtest.SQLite)
	sh := admin(t, srv)
	app := newApp(t, srv)

	// A value over the limit is refused by the server and not stored.
	big := `"` + strings.Repeat("x", 70000) + `"`
	sh.fails(1, "error: HTTP 413: value of 70002 bytes is over the limit of 65536", "kv", "set", app, "big", big)
	sh.fails(1, `error: HTTP 404: key "big" not found`, "kv", "get", app, "big")
	// And so is a key past the app's own limit.
	adm := client.New(srv.URL, srv.AdminToken)
	if _, err := adm.UpdateApp(context.Background(), app, client.AppUpdate{Limits: client.SetLimits(client.AppLimits{KVMaxKeys: 1})}); err != nil {
		t.Fatal(err)
	}
	sh.ok("kv", "set", app, "one", "1")
	sh.fails(1, "error: HTTP 413: the app would have 2 keys, over its limit of 1", "kv", "set", app, "two", "2")

	// Mistakes on the command line do not reach the server.
	sh.fails(2, "the value is not valid JSON; quote a string", "kv", "set", app, "k", "hello")
	sh.fails(2, `--ttl "soon" is not a duration`, "kv", "set", app, "k", "1", "--ttl", "soon")
	sh.fails(2, `--ttl "10ms" is not a duration of a second or more`, "kv", "set", app, "k", "1", "--ttl", "10ms")
	sh.fails(2, "--limit must be from 1 to 1000", "kv", "ls", app, "--limit", "0")
	sh.fails(2, "Usage: pic kv get APP KEY", "kv", "get", app)
	sh.fails(1, "error: reading the value: ", "kv", "set", app, "k", "@/nonexistent/value.json")
	// The server checks keys.
	sh.fails(1, "error: HTTP 422: the key of 257 bytes is longer than the limit of 256", "kv", "get", app, strings.Repeat("k", 257))
	// A viewer reads but does not write.
	viewer, name, _ := newUser(t, srv, "member")
	if _, _, err := adm.PutMember(context.Background(), app, name, "viewer"); err != nil {
		t.Fatal(err)
	}
	if got := viewer.ok("kv", "get", app, "one"); got != "1\n" {
		t.Fatalf("viewer get: %q", got)
	}
	viewer.fails(1, "error: HTTP 403: ", "kv", "set", app, "one", "2")
}

// TestKVCountsScriptRuns checks that pic shows what scripts store.
func TestKVCountsScriptRuns(t *testing.T) {
	t.Parallel()
	srv := shared(t, dbtest.SQLite)
	sh := admin(t, srv)
	app := newApp(t, srv)
	deploy(t, srv, app, "hit", `kv::incr("hits")`)
	for range 3 {
		sh.ok("invoke", app+"/hit")
	}
	if got := sh.ok("kv", "get", app, "hits"); got != "3\n" {
		t.Fatalf("hits: %q", got)
	}
}
