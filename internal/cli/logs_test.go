package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/client"

	"github.com/picloud/picloud/internal/store/dbtest"
)

var logsHeader = []string{"ID", "SCRIPT", "VERSION", "TRIGGER", "STATUS", "HTTP", "DURATION", "STARTED", "SUMMARY"}

// The logs tests run on servers of their own: the records are flushed by
// closing the data plane, which is then done.
func TestLogs(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testLogs)
}

func testLogs(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := newServer(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	api := client.New(srv.URL, srv.AdminToken)
	if _, err := api.UpdateApp(context.Background(), app, client.AppUpdate{Limits: client.SetLimits(client.AppLimits{TimeoutMS: 50})}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("ab", 50) // 100 characters
	deploy(t, srv, app, "ok", `print("printed"); "`+long+`"`)
	deploy(t, srv, app, "fail", `throw "no"`)
	deploy(t, srv, app, "slow", `loop {}`)
	deploy(t, srv, app, "refuse", `response(422, #{error: "send a name"})`)

	// Empty: the header alone, or [].
	if out := sh.ok("logs", app); out != strings.Join(logsHeader, "\t")+"\n" {
		t.Fatalf("empty logs: %q", out)
	}
	if out := sh.ok("logs", app, "-o", "json"); out != "[]\n" {
		t.Fatalf("empty logs json: %q", out)
	}

	sh.run("invoke", app+"/refuse")
	sh.run("invoke", app+"/ok")
	sh.run("invoke", app+"/fail")
	if r := sh.run("invoke", app+"/slow"); r.code != 1 || !strings.HasPrefix(r.stderr, "error: HTTP 504: ") {
		t.Fatalf("timeout: %v", r)
	}
	sh.run("invoke", app+"/ok")
	srv.flushLogs(t)

	got := rows(sh.ok("logs", app))
	if !slices.Equal(got[0], logsHeader) || len(got) != 6 {
		t.Fatalf("logs: %q", got)
	}
	// Newest first: ok, slow, fail, ok, refuse.
	var labels []string
	for _, r := range got[1:] {
		if len(r) != len(logsHeader) {
			t.Fatalf("row %q has %d cells", r, len(r))
		}
		labels = append(labels, r[1]+":"+r[4]+":"+r[5])
		if r[2] != "1" || r[3] != "http" || !strings.HasSuffix(r[6], "ms") || !isRFC3339(r[7]) {
			t.Fatalf("row: %q", r)
		}
	}
	if want := []string{"ok:ok:200", "slow:timeout:504", "fail:error:500", "ok:ok:200", "refuse:ok:422"}; !slices.Equal(labels, want) {
		t.Fatalf("script:status:http = %v, want %v", labels, want)
	}

	// The table truncates a long summary to 60 characters with an
	// ellipsis; JSON has it whole.
	summary := got[1][8]
	if utf8.RuneCountInString(summary) != summaryWidth || !strings.HasSuffix(summary, "…") {
		t.Fatalf("truncated summary %q (%d characters)", summary, utf8.RuneCountInString(summary))
	}
	var logs []map[string]any
	if err := json.Unmarshal([]byte(sh.ok("logs", app, "-o", "json")), &logs); err != nil {
		t.Fatal(err)
	}
	full := logs[0]["summary"].(string)
	if !strings.Contains(full, long) || !strings.HasPrefix(full, strings.TrimSuffix(summary, "…")) {
		t.Fatalf("json summary %q", full)
	}
	for _, k := range []string{"id", "app", "script", "version", "trigger", "started_at", "duration_ms", "status", "http_status", "operations", "summary"} {
		if _, ok := logs[0][k]; !ok {
			t.Fatalf("json record without %q: %v", k, logs[0])
		}
	}
	if _, ok := logs[0]["output"]; ok {
		t.Fatalf("a listed record has output: %v", logs[0])
	}

	// Filters.
	if got := rows(sh.ok("logs", app, "--limit", "2")); len(got) != 3 || got[1][1] != "ok" || got[2][1] != "slow" {
		t.Fatalf("--limit 2: %q", got)
	}
	if got := rows(sh.ok("logs", app, "--status", "error")); len(got) != 2 || got[1][1] != "fail" || got[1][4] != "error" {
		t.Fatalf("--status error: %q", got)
	}
	if got := rows(sh.ok("logs", app, "--script", "ok", "--status", "ok")); len(got) != 3 {
		t.Fatalf("--script ok: %q", got)
	}
	if got := rows(sh.ok("logs", app, "--status", "limit")); len(got) != 1 {
		t.Fatalf("--status limit: %q", got)
	}
	// A script's own 4xx ran fine (ok): the HTTP status finds it.
	if got := rows(sh.ok("logs", app, "--http-status", "4xx")); len(got) != 2 || got[1][1] != "refuse" || got[1][5] != "422" {
		t.Fatalf("--http-status 4xx: %q", got)
	}
	if got := rows(sh.ok("logs", app, "--http-status", "5xx", "--status", "error")); len(got) != 2 || got[1][1] != "fail" {
		t.Fatalf("--http-status 5xx --status error: %q", got)
	}
	if got := rows(sh.ok("logs", app, "--http-status", "504")); len(got) != 2 || got[1][1] != "slow" {
		t.Fatalf("--http-status 504: %q", got)
	}

	// logs show: the row with the whole summary, then the output.
	id := rows(sh.ok("logs", app, "--limit", "1"))[1][0]
	out := sh.ok("logs", "show", id)
	parts := strings.SplitN(out, "\n\n", 2)
	show := rows(parts[0])
	if len(parts) != 2 || len(show) != 2 || show[1][0] != id || show[1][8] != full || parts[1] != "printed\n" {
		t.Fatalf("logs show: %q", out)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(sh.ok("logs", "show", id, "-o", "json")), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["id"] != id || rec["output"] != "printed\n" {
		t.Fatalf("logs show json: %v", rec)
	}

	// Errors.
	sh.fails(1, "error: HTTP 404: log \"01NOSUCHLOG\" not found", "logs", "show", "01NOSUCHLOG")
	sh.fails(1, "error: HTTP 404: app \"no-such-app\" not found", "logs", "no-such-app")
	sh.fails(2, "error: invalid --status \"bad\": use ok, error, timeout, limit", "logs", app, "--status", "bad")
	sh.fails(2, "error: --limit must be 1 or more", "logs", app, "--limit", "0")
	sh.fails(1, "error: HTTP 422: limit must be an integer from 1 to 1000", "logs", app, "--limit", "1001")
	sh.fails(2, "error: invalid value \"x\" for --limit: not a number", "logs", app, "--limit", "x")
	sh.fails(2, "filter a list", "logs", "show", id, "--limit", "3")
	sh.fails(1, "error: HTTP 422: invalid http_status \"4\": use a status from 100 to 599 (404) or a class (1xx to 5xx)\n", "logs", app, "--http-status", "4")
	sh.fails(2, "error: --http-status filters invocation records, not jobs (--status dead)", "logs", app, "--http-status", "4xx", "--status", "dead")

	// A member who does not belong to the app: 403 on its logs and records.
	outsider, _, _ := newUser(t, srv, "member")
	outsider.fails(1, "error: HTTP 403: ", "logs", app)
	outsider.fails(1, "error: HTTP 403: ", "logs", "show", id)
}

func TestLogsLimitStatus(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testLogsLimitStatus)
}

func testLogsLimitStatus(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := newServer(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	api := client.New(srv.URL, srv.AdminToken)
	if _, err := api.UpdateApp(context.Background(), app, client.AppUpdate{Limits: client.SetLimits(client.AppLimits{MaxOperations: 100})}); err != nil {
		t.Fatal(err)
	}
	deploy(t, srv, app, "spin", `let i = 0; loop { i += 1; }`)
	if r := sh.run("invoke", app+"/spin"); r.code != 1 || !strings.HasPrefix(r.stderr, "error: HTTP 500: ") {
		t.Fatalf("limit: %v", r)
	}
	srv.flushLogs(t)
	got := rows(sh.ok("logs", app, "--status", "limit"))
	if len(got) != 2 || got[1][4] != "limit" || got[1][5] != "500" {
		t.Fatalf("limit record: %q", got)
	}
}

// "logs show" with one argument lists the logs of an app named "show".
func TestLogsAppNamedShow(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testLogsAppNamedShow)
}

func testLogsAppNamedShow(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := newServer(t, b)
	sh := admin(t, srv)
	sh.ok("apps", "create", "show")
	if out := sh.ok("logs", "show"); out != strings.Join(logsHeader, "\t")+"\n" {
		t.Fatalf("logs show: %q", out)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"héllo wörld", 6, "héllo…"},
		{"two\nlines", 20, "two lines"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
