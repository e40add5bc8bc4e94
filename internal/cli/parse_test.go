package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/client"
)

// The errors every parse shares come from p.parse; they are checked once
// here, on 'apps create', and the commands' own rules below.
func TestParseCommon(t *testing.T) {
	t.Parallel()
	checkParse(t, []string{"apps", "create"}, parseAppsCreate, []parseCase[appsCreateOptions]{
		{args: []string{"demo"}, want: appsCreateOptions{Slug: "demo"}},
		{args: []string{"demo", "--name", "Demo", "--description", "a demo"}, want: appsCreateOptions{Slug: "demo", Name: "Demo", Description: "a demo"}},
		// Flags before, between and after the argument, with = or not.
		{args: []string{"--name=Demo", "demo", "--description=d"}, want: appsCreateOptions{Slug: "demo", Name: "Demo", Description: "d"}},
		// "--" ends the flags: a slug that looks like a flag.
		{args: []string{"--", "-x"}, want: appsCreateOptions{Slug: "-x"}},
		{args: nil, err: "missing argument; expected 1 argument"},
		{args: []string{"a", "b"}, err: "too many arguments (b); expected 1 argument"},
		{args: []string{"demo", "--nope"}, err: "flag provided but not defined: --nope"},
		{args: []string{"demo", "-z"}, err: "flag provided but not defined: -z"},
		{args: []string{"demo", "--name"}, err: "flag needs an argument: --name"},
		{args: []string{"demo", "-o", "yaml"}, err: `invalid --output "yaml": use table or json`},
		{args: []string{"demo", "--server", "ftp://x"}, err: `invalid --server: "ftp://x": the scheme must be http or https`},
	})
}

// The global flags land in the run's state, for the run function.
func TestParseGlobals(t *testing.T) {
	t.Parallel()
	p, _, _ := unitPic("")
	if _, err := parseNoArgs(p, commandAt(t, "apps", "ls"), []string{"-o", "json", "--server", "http://h:1"}); err != nil {
		t.Fatal(err)
	}
	if !p.isJSON() || p.server != "http://h:1" {
		t.Errorf("output %q, server %q", p.output, p.server)
	}
	p, _, _ = unitPic("")
	if _, err := parseNoArgs(p, commandAt(t, "apps", "ls"), []string{"--output=table"}); err != nil || p.isJSON() {
		t.Errorf("err %v, output %q", err, p.output)
	}
}

func TestParseApps(t *testing.T) {
	t.Parallel()
	checkParse(t, []string{"apps", "ls"}, parseNoArgs, []parseCase[noOptions]{
		{args: nil},
		{args: []string{"extra"}, err: "too many arguments (extra); expected 0 arguments"},
	})
	checkParse(t, []string{"apps", "show"}, parseOneArg, []parseCase[oneArg]{
		{args: []string{"demo"}, want: oneArg{Arg: "demo"}},
		{args: nil, err: "missing argument; expected 1 argument"},
	})
	checkParse(t, []string{"apps", "delete"}, parseAppsDelete, []parseCase[appsDeleteOptions]{
		{args: []string{"demo"}, want: appsDeleteOptions{Slug: "demo"}},
		{args: []string{"demo", "--force"}, want: appsDeleteOptions{Slug: "demo", Force: true}},
		{args: []string{"--force=false", "demo"}, want: appsDeleteOptions{Slug: "demo"}},
		{args: []string{"demo", "--force=maybe"}, err: `invalid value "maybe" for --force: not true or false`},
		{args: nil, err: "missing argument; expected 1 argument"},
	})
	checkParse(t, []string{"apps", "set-outbound"}, parseAppsSetOutbound, []parseCase[appsSetOutboundOptions]{
		{args: []string{"demo", "--allow", "a.com", "--allow", "b.com"}, want: appsSetOutboundOptions{
			Slug: "demo", Allow: []string{"a.com", "b.com"},
			Update: client.OutboundUpdate{Allow: &[]string{"a.com", "b.com"}}}},
		{args: []string{"demo", "--none"}, want: appsSetOutboundOptions{
			Slug: "demo", None: true, Update: client.OutboundUpdate{Allow: &[]string{}}}},
		{args: []string{"demo", "--private", "10.0.0.0/8", "--allow", "a.com"}, want: appsSetOutboundOptions{
			Slug: "demo", Allow: []string{"a.com"}, Private: []string{"10.0.0.0/8"},
			Update: client.OutboundUpdate{Allow: &[]string{"a.com"}, Private: &[]string{"10.0.0.0/8"}}}},
		{args: []string{"demo", "--no-private"}, want: appsSetOutboundOptions{
			Slug: "demo", NoPrivate: true, Update: client.OutboundUpdate{Private: &[]string{}}}},
		{args: []string{"demo", "--none", "--allow", "a.com"}, err: "--none and --allow exclude each other"},
		{args: []string{"demo", "--no-private", "--private", "h"}, err: "--no-private and --private exclude each other"},
		{args: []string{"demo"}, err: "nothing to change: give --allow HOST, --none, --private HOST|CIDR or --no-private"},
		{args: []string{"--none"}, err: "missing argument; expected 1 argument"},
	})
}

func TestParseScripts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "hello.rhai")
	if err := os.WriteFile(file, []byte("40 + 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.rhai")
	checkParse(t, []string{"scripts", "deploy"}, parseScriptsDeploy, []parseCase[scriptsDeployOptions]{
		{args: []string{file, "--app", "demo"}, want: scriptsDeployOptions{File: file, App: "demo", Name: "hello", Source: "40 + 2\n"}},
		{args: []string{"--app=demo", file, "--name", "greet", "--public"}, want: scriptsDeployOptions{File: file, App: "demo", Name: "greet", Visibility: client.VisibilityPublic, Source: "40 + 2\n"}},
		{args: []string{file, "--app", "demo", "--private"}, want: scriptsDeployOptions{File: file, App: "demo", Name: "hello", Visibility: client.VisibilityPrivate, Source: "40 + 2\n"}},
		{args: []string{"-", "--app", "demo", "--name", "std"}, stdin: "1", want: scriptsDeployOptions{File: "-", App: "demo", Name: "std", Source: "1"}},
		{args: []string{"-", "--app", "demo"}, err: "--name is required when the source comes from standard input"},
		{args: []string{file}, err: "--app is required"},
		{args: []string{file, "--app", "demo", "--private", "--public"}, err: "--private and --public exclude each other"},
		{args: []string{"--app", "demo"}, err: "missing argument; expected 1 argument"},
		// A file that cannot be read is not a usage error: exit 1.
		{args: []string{missing, "--app", "demo"}, err: "reading the script: open " + missing + ": no such file or directory", code: exitFail},
	})
	checkParse(t, []string{"scripts", "ls"}, parseScriptsList, []parseCase[appFilterOptions]{
		{args: nil, want: appFilterOptions{}},
		{args: []string{"--app", "demo"}, want: appFilterOptions{App: "demo"}},
		{args: []string{"demo"}, err: "too many arguments (demo); expected 0 arguments"},
	})
	checkParse(t, []string{"scripts", "show"}, parseScriptsShow, []parseCase[scriptsShowOptions]{
		{args: []string{"demo/hello"}, want: scriptsShowOptions{App: "demo", Name: "hello"}},
		{args: []string{"demo/hello", "--version", "3"}, want: scriptsShowOptions{App: "demo", Name: "hello", Version: 3}},
		{args: []string{"demo/hello", "--version", "0"}, err: "--version must be 1 or more"},
		{args: []string{"demo/hello", "--version", "x"}, err: `invalid value "x" for --version: not a number`},
		{args: []string{"demo"}, err: `"demo" is not APP/NAME`},
		{args: []string{"/hello"}, err: `"/hello" is not APP/NAME`},
		{args: []string{"demo/"}, err: `"demo/" is not APP/NAME`},
		{args: []string{"a/b/c"}, err: `"a/b/c" is not APP/NAME`},
	})
	for _, cmd := range []string{"versions", "delete"} {
		checkParse(t, []string{"scripts", cmd}, parseScriptRefOnly, []parseCase[scriptRefOptions]{
			{args: []string{"demo/hello"}, want: scriptRefOptions{App: "demo", Name: "hello"}},
			{args: []string{"demo"}, err: `"demo" is not APP/NAME`},
			{args: nil, err: "missing argument; expected 1 argument"},
		})
	}
	checkParse(t, []string{"scripts", "rollback"}, parseScriptsRollback, []parseCase[scriptsRollbackOptions]{
		{args: []string{"demo/hello", "--to", "2"}, want: scriptsRollbackOptions{App: "demo", Name: "hello", To: 2}},
		{args: []string{"demo/hello"}, err: "--to is required"},
		{args: []string{"demo/hello", "--to", "0"}, err: "--to must be 1 or more"},
		{args: []string{"demo/hello", "--to", "two"}, err: `invalid value "two" for --to: not a number`},
		{args: []string{"hello", "--to", "2"}, err: `"hello" is not APP/NAME`},
	})
	checkParse(t, []string{"scripts", "set-attempts"}, parseScriptsSetAttempts, []parseCase[scriptsSetAttemptsOptions]{
		{args: []string{"demo/hello", "5"}, want: scriptsSetAttemptsOptions{App: "demo", Name: "hello", Attempts: 5}},
		{args: []string{"demo/hello", "0"}, want: scriptsSetAttemptsOptions{App: "demo", Name: "hello"}},
		{args: []string{"demo/hello", "--", "-1"}, err: `"-1" is not a number of attempts (1 to 10, or 0 for the default)`},
		{args: []string{"demo/hello", "many"}, err: `"many" is not a number of attempts (1 to 10, or 0 for the default)`},
		{args: []string{"demo/hello"}, err: "missing argument; expected 2 arguments"},
	})
}

func TestParseSchedules(t *testing.T) {
	t.Parallel()
	payload := filepath.Join(t.TempDir(), "payload.json")
	if err := os.WriteFile(payload, []byte(`{"from":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	paused := false
	checkParse(t, []string{"schedules", "create"}, parseSchedulesCreate, []parseCase[schedulesCreateOptions]{
		{args: []string{"demo/tick", "--cron", "@daily"}, want: schedulesCreateOptions{
			App: "demo", Script: "tick", Cron: "@daily",
			Schedule: client.NewSchedule{Script: "tick", Cron: "@daily"}}},
		{args: []string{"demo/tick", "--cron", "30 2 * * *", "--tz", "Europe/Paris", "--payload", `{"a":1}`, "--paused"}, want: schedulesCreateOptions{
			App: "demo", Script: "tick", Cron: "30 2 * * *", Timezone: "Europe/Paris", Payload: `{"a":1}`, Paused: true,
			Schedule: client.NewSchedule{Script: "tick", Cron: "30 2 * * *", Timezone: "Europe/Paris", Payload: json.RawMessage(`{"a":1}`), Enabled: &paused}}},
		{args: []string{"demo/tick", "--cron", "@hourly", "--timezone", "UTC", "--payload", "@-"}, stdin: `"text"`, want: schedulesCreateOptions{
			App: "demo", Script: "tick", Cron: "@hourly", Timezone: "UTC", Payload: "@-",
			Schedule: client.NewSchedule{Script: "tick", Cron: "@hourly", Timezone: "UTC", Payload: json.RawMessage(`"text"`)}}},
		{args: []string{"demo/tick", "--cron", "@hourly", "--payload", "@" + payload}, want: schedulesCreateOptions{
			App: "demo", Script: "tick", Cron: "@hourly", Payload: "@" + payload,
			Schedule: client.NewSchedule{Script: "tick", Cron: "@hourly", Payload: json.RawMessage(`{"from":"file"}`)}}},
		{args: []string{"demo/tick"}, err: "--cron is required, e.g. --cron '0 9 * * MON-FRI'"},
		{args: []string{"demo/tick", "--cron", "@daily", "--payload", "text"}, err: `--payload is not valid JSON (a string needs quotes: --payload '"text"')`},
		{args: []string{"demo/tick", "--cron", "@daily", "--payload", "@" + payload + ".gone"}, err: "reading the payload: open " + payload + ".gone: no such file or directory", code: exitFail},
		{args: []string{"tick", "--cron", "@daily"}, err: `"tick" is not APP/NAME`},
		{args: []string{"--cron", "@daily"}, err: "missing argument; expected 1 argument"},
	})
	checkParse(t, []string{"schedules", "ls"}, parseSchedulesList, []parseCase[appFilterOptions]{
		{args: nil, want: appFilterOptions{}},
		{args: []string{"--app", "demo"}, want: appFilterOptions{App: "demo"}},
		{args: []string{"--app"}, err: "flag needs an argument: --app"},
	})
	for _, cmd := range []string{"show", "pause", "resume", "rm"} {
		checkParse(t, []string{"schedules", cmd}, parseScheduleID, []parseCase[scheduleIDOptions]{
			{args: []string{"7"}, want: scheduleIDOptions{ID: 7}},
			{args: []string{"0"}, err: `"0" is not a schedule id (see 'pic schedules ls')`},
			{args: []string{"x"}, err: `"x" is not a schedule id (see 'pic schedules ls')`},
			{args: nil, err: "missing argument; expected 1 argument"},
		})
	}
}

func TestParseKV(t *testing.T) {
	t.Parallel()
	value := filepath.Join(t.TempDir(), "value.json")
	if err := os.WriteFile(value, []byte("[1, 2]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkParse(t, []string{"kv", "get"}, parseKVGet, []parseCase[kvGetOptions]{
		{args: []string{"demo", "k"}, want: kvGetOptions{App: "demo", Key: "k"}},
		{args: []string{"demo", "k", "--raw"}, want: kvGetOptions{App: "demo", Key: "k", Raw: true}},
		{args: []string{"-r", "demo", "k"}, want: kvGetOptions{App: "demo", Key: "k", Raw: true}},
		{args: []string{"demo"}, err: "missing argument; expected 2 arguments"},
	})
	checkParse(t, []string{"kv", "set"}, parseKVSet, []parseCase[kvSetOptions]{
		{args: []string{"demo", "k", "42"}, want: kvSetOptions{App: "demo", Key: "k", Value: "42", Data: json.RawMessage("42")}},
		{args: []string{"demo", "k", "hello", "--string"}, want: kvSetOptions{App: "demo", Key: "k", Value: "hello", String: true, Data: json.RawMessage(`"hello"`)}},
		{args: []string{"demo", "k", "-"}, stdin: " {\"a\": 1}\n", want: kvSetOptions{App: "demo", Key: "k", Value: "@-", Data: json.RawMessage(`{"a": 1}`)}},
		{args: []string{"demo", "k", "@" + value, "--ttl", "90s"}, want: kvSetOptions{App: "demo", Key: "k", Value: "@" + value, TTL: "90s", Data: json.RawMessage("[1, 2]"), Expiry: 90 * time.Second}},
		{args: []string{"demo", "k", "1", "--ttl", "500ms"}, err: `--ttl "500ms" is not a duration of a second or more, such as 90s or 24h`},
		{args: []string{"demo", "k", "1", "--ttl", "soon"}, err: `--ttl "soon" is not a duration of a second or more, such as 90s or 24h`},
		{args: []string{"demo", "k", "hello"}, err: `the value is not valid JSON; quote a string ('"text"') or give --string`},
		{args: []string{"demo", "k"}, err: "missing argument; expected 3 arguments"},
	})
	checkParse(t, []string{"kv", "ls"}, parseKVList, []parseCase[kvListOptions]{
		{args: []string{"demo"}, want: kvListOptions{App: "demo"}},
		{args: []string{"demo", "user:", "--after", "user:1", "--limit", "10"}, want: kvListOptions{App: "demo", Filter: client.KVFilter{Prefix: "user:", After: "user:1", Limit: 10}}},
		{args: []string{"demo", "--limit", "0"}, err: "--limit must be from 1 to 1000"},
		{args: []string{"demo", "--limit", "1001"}, err: "--limit must be from 1 to 1000"},
		{args: []string{"demo", "--limit", "ten"}, err: `invalid value "ten" for --limit: not a number`},
		{args: []string{"demo", "a", "b"}, err: "too many arguments (b); expected 1 to 2 arguments"},
	})
	checkParse(t, []string{"kv", "rm"}, parseAppItem, []parseCase[appItemOptions]{
		{args: []string{"demo", "k"}, want: appItemOptions{App: "demo", Name: "k"}},
		{args: []string{"demo"}, err: "missing argument; expected 2 arguments"},
	})
}

func TestParseSecrets(t *testing.T) {
	t.Parallel()
	checkParse(t, []string{"secrets", "set"}, parseSecretsSet, []parseCase[secretsSetOptions]{
		{args: []string{"demo", "KEY"}, stdin: "s3cret\n", want: secretsSetOptions{App: "demo", Name: "KEY", Value: "s3cret"}},
		{args: []string{"demo", "KEY"}, stdin: "s3cret\r\n", want: secretsSetOptions{App: "demo", Name: "KEY", Value: "s3cret"}},
		// Only one trailing line ending goes: a PEM key keeps its lines.
		{args: []string{"demo", "PEM"}, stdin: "line 1\nline 2\n\n", want: secretsSetOptions{App: "demo", Name: "PEM", Value: "line 1\nline 2\n"}},
		{args: []string{"demo", "KEY"}, stdin: "", err: `no value on standard input; pipe it in, e.g. printf %s "$VALUE" | pic secrets set demo KEY`},
		{args: []string{"demo", "KEY", "value"}, err: "too many arguments (value); expected 2 arguments"},
	})
	checkParse(t, []string{"secrets", "ls"}, parseOneArg, []parseCase[oneArg]{
		{args: []string{"demo"}, want: oneArg{Arg: "demo"}},
		{args: nil, err: "missing argument; expected 1 argument"},
	})
	checkParse(t, []string{"secrets", "rm"}, parseAppItem, []parseCase[appItemOptions]{
		{args: []string{"demo", "KEY"}, want: appItemOptions{App: "demo", Name: "KEY"}},
	})
}

func TestParseMembersUsersKeys(t *testing.T) {
	t.Parallel()
	checkParse(t, []string{"members", "add"}, parseMembersAdd, []parseCase[membersAddOptions]{
		{args: []string{"demo", "bob", "--role", "viewer"}, want: membersAddOptions{App: "demo", User: "bob", Role: "viewer"}},
		{args: []string{"--role=editor", "demo", "bob"}, want: membersAddOptions{App: "demo", User: "bob", Role: "editor"}},
		{args: []string{"demo", "bob"}, err: "--role is required: viewer or editor"},
		{args: []string{"demo", "bob", "--role", "owner"}, err: `invalid --role "owner": use viewer or editor`},
	})
	checkParse(t, []string{"users", "create"}, parseUsersCreate, []parseCase[usersCreateOptions]{
		{args: []string{"bob"}, stdin: "pw-of-bob\nignored\n", want: usersCreateOptions{Name: "bob", Role: "member", Password: "pw-of-bob"}},
		// No password: the server generates one.
		{args: []string{"bob", "--role", "admin"}, want: usersCreateOptions{Name: "bob", Role: "admin"}},
		{args: []string{"bob", "--role", "root"}, err: `invalid --role "root": use admin or member`},
		{args: nil, err: "missing argument; expected 1 argument"},
	})
	checkParse(t, []string{"users", "delete"}, parseOneArg, []parseCase[oneArg]{
		{args: []string{"bob"}, want: oneArg{Arg: "bob"}},
		{args: []string{"bob", "carol"}, err: "too many arguments (carol); expected 1 argument"},
	})
	checkParse(t, []string{"api-keys", "create"}, parseOneArg, []parseCase[oneArg]{
		{args: []string{"ci"}, want: oneArg{Arg: "ci"}},
		{args: nil, err: "missing argument; expected 1 argument"},
	})
	checkParse(t, []string{"api-keys", "rm"}, parseAPIKeyID, []parseCase[apiKeyIDOptions]{
		{args: []string{"3"}, want: apiKeyIDOptions{ID: 3}},
		{args: []string{"0"}, err: `"0" is not an API key id (see 'pic api-keys ls')`},
		{args: []string{"abc"}, err: `"abc" is not an API key id (see 'pic api-keys ls')`},
	})
	checkParse(t, []string{"login"}, parseLogin, []parseCase[loginOptions]{
		{args: []string{"--token", "tok"}, want: loginOptions{Token: "tok"}},
		{args: []string{"--username", "bob"}, want: loginOptions{Username: "bob"}},
		{args: nil, err: "give --token or --username"},
		{args: []string{"--token", "t", "--username", "bob"}, err: "give --token or --username, not both"},
		{args: []string{"bob"}, err: "too many arguments (bob); expected 0 arguments"},
	})
}

func TestParseLogs(t *testing.T) {
	t.Parallel()
	checkParse(t, []string{"logs"}, parseLogs, []parseCase[logsOptions]{
		{args: []string{"demo"}, want: logsOptions{Mode: logsList, App: "demo"}},
		{args: []string{"demo", "--script", "hello", "--status", "error", "--http-status", "4xx", "--limit", "5"}, want: logsOptions{
			Mode: logsList, App: "demo", Filter: client.LogFilter{Script: "hello", Status: "error", HTTPStatus: "4xx", Limit: 5}}},
		{args: []string{"demo", "--status", "dead"}, want: logsOptions{Mode: logsList, App: "demo", Jobs: true, Filter: client.LogFilter{Status: "dead"}}},
		{args: []string{"demo", "-f", "--status", "ok"}, want: logsOptions{Mode: logsFollow, App: "demo", Filter: client.LogFilter{Status: "ok"}, Live: liveOptions{Follow: true}}},
		{args: []string{"demo", "--follow", "--after", "inv-1"}, want: logsOptions{Mode: logsFollow, App: "demo", Live: liveOptions{Follow: true, After: "inv-1"}}},
		{args: []string{"show", "inv-1"}, want: logsOptions{Mode: logsShow, ID: "inv-1"}},
		{args: []string{"replay", "inv-1", "--version", "2", "--force"}, want: logsOptions{Mode: logsReplay, ID: "inv-1", Live: liveOptions{Version: 2, Force: true}}},
		// "logs show" lists the logs of an app named show.
		{args: []string{"show"}, want: logsOptions{Mode: logsList, App: "show"}},
		{args: nil, err: "missing argument; expected 1 to 2 arguments"},
		{args: []string{"demo", "x"}, err: "too many arguments (x); expected APP, show ID, replay ID or repro ID"},
		{args: []string{"demo", "--status", "bogus"}, err: `invalid --status "bogus": use ok, error, timeout, limit, queued, running, dead`},
		{args: []string{"demo", "--status", "dead", "--http-status", "500"}, err: "--http-status filters invocation records, not jobs (--status dead)"},
		{args: []string{"demo", "--limit", "0"}, err: "--limit must be 1 or more"},
		{args: []string{"demo", "--after", "inv-1"}, err: "--after needs --follow"},
		{args: []string{"demo", "-f", "--status", "queued"}, err: "--follow streams invocation records: use --status ok, error, timeout, limit"},
		{args: []string{"demo", "-f", "--limit", "3"}, err: "--limit bounds a list; --follow prints every new record"},
		{args: []string{"demo", "--force"}, err: "--version and --force are for 'logs replay ID'"},
		{args: []string{"show", "inv-1", "--version", "2"}, err: "--version and --force are for 'logs replay'"},
		{args: []string{"show", "inv-1", "--limit", "3"}, err: "--script, --status, --http-status and --limit filter a list, not 'logs show'"},
		{args: []string{"replay", "inv-1", "-f"}, err: "--follow and --after follow an app's logs, not 'logs replay'"},
		{args: []string{"replay", "inv-1", "--version", "-1"}, err: "--version must be a version number (0 or absent: the live version)"},
	})
}

func TestParseInvoke(t *testing.T) {
	t.Parallel()
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	checkParse(t, []string{"invoke"}, parseInvoke, []parseCase[invokeOptions]{
		{args: []string{"demo/hello"}, want: invokeOptions{App: "demo", Script: "hello", Method: "GET", Header: hdr(), Query: url.Values{}}},
		{args: []string{"demo/hello", "-d", `{"a":1}`}, want: invokeOptions{App: "demo", Script: "hello", Method: "POST", Data: `{"a":1}`, HasData: true,
			Body: []byte(`{"a":1}`), Header: hdr("Content-Type", "application/json"), Query: url.Values{}}},
		{args: []string{"demo/hello", "--data", "@-", "-X", "put", "-H", "Content-Type: text/csv", "-H", "X-A:  1 "}, stdin: "a,b", want: invokeOptions{
			App: "demo", Script: "hello", Method: "PUT", Data: "@-", HasData: true, Body: []byte("a,b"),
			Header: hdr("Content-Type", "text/csv", "X-A", "1"), Query: url.Values{}}},
		{args: []string{"demo/hello", "-d", "plain"}, want: invokeOptions{App: "demo", Script: "hello", Method: "POST", Data: "plain", HasData: true,
			Body: []byte("plain"), Header: hdr("Content-Type", "text/plain; charset=utf-8"), Query: url.Values{}}},
		{args: []string{"demo/hello", "--path", "a/b", "--query", "q=1", "--query", "q=2", "--async"}, want: invokeOptions{
			App: "demo", Script: "hello", Method: "GET", Path: "/a/b", Header: hdr(), Query: url.Values{"q": {"1", "2"}}, Async: true}},
		{args: []string{"--retry", "job-1"}, want: invokeOptions{Retry: "job-1", Header: hdr(), Query: url.Values{}}},
		{args: nil, err: "missing argument; expected APP/NAME"},
		{args: []string{"demo/hello", "-d", "1", "-d", "2"}, err: `invalid value "2" for -d: only one body may be given`},
		{args: []string{"demo/hello", "-H", "no colon"}, err: `invalid value "no colon" for -H: want 'Name: value'`},
		{args: []string{"demo/hello", "--query", "=1"}, err: `invalid value "=1" for --query: want K=V`},
		{args: []string{"--retry", "job-1", "demo/hello"}, err: "--retry ID takes no APP/NAME and no request flags: the job's request is kept"},
		{args: []string{"--retry", "job-1", "--async"}, err: "--retry ID takes no APP/NAME and no request flags: the job's request is kept"},
		{args: []string{"--retry="}, err: "--retry needs a job id"},
		{args: []string{"hello"}, err: `"hello" is not APP/NAME`},
	})
}
