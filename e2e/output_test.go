package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// outputFixture is a member with one app, one script and one logged run.
type outputFixture struct {
	user, app, logID string
	pic              *cli
}

func newOutputFixture(t *testing.T) outputFixture {
	t.Helper()
	user, token := createUser(t, "output")
	f := outputFixture{user: user, app: unique("output"), pic: as(t, token)}
	f.pic.ok("apps", "create", f.app, "--description", "the output journey")
	f.pic.ok("scripts", "deploy", writeFile(t, "hello.rhai", `"hello"`), "--app", f.app)
	if got := invokeFn(t, f.app, "hello"); got != 200 {
		t.Fatalf("/fn/%s/hello: HTTP %d", f.app, got)
	}
	time.Sleep(logFlushWait) // once; see logFlushWait
	r := f.pic.ok("logs", f.app, "-o", "json")
	logs := jsonArray(t, r)
	if len(logs) != 1 {
		t.Fatalf("want one log record\n%s", r)
	}
	f.logID = fmt.Sprint(logs[0]["id"])
	return f
}

// The table's header row names its columns in upper case, tab-separated,
// and every row has as many fields (table checks that).
func TestOutputTableHeaders(t *testing.T) {
	f := newOutputFixture(t)
	for _, tc := range []struct {
		args   []string
		header string
	}{
		{[]string{"apps", "ls"}, "SLUG\tNAME\tDESCRIPTION\tCREATED"},
		{[]string{"scripts", "ls"}, "APP\tNAME\tVERSION\tUPDATED\tMAX_ATTEMPTS\tVISIBILITY"},
		{[]string{"scripts", "ls", "--app", f.app}, "APP\tNAME\tVERSION\tUPDATED\tMAX_ATTEMPTS\tVISIBILITY"},
		{[]string{"logs", f.app}, logsHeader},
		{[]string{"whoami"}, "USERNAME\tROLE"},
	} {
		r := f.pic.ok(tc.args...)
		header, rows := table(t, r)
		if got := strings.Join(header, "\t"); got != tc.header {
			t.Errorf("pic %s: header %q, want %q", strings.Join(tc.args, " "), got, tc.header)
		}
		if len(rows) != 1 {
			t.Errorf("pic %s: want one row\n%s", strings.Join(tc.args, " "), r)
		}
	}
}

// Data goes to stdout and nothing else; messages and errors go to stderr.
func TestOutputStreams(t *testing.T) {
	f := newOutputFixture(t)
	for _, args := range [][]string{
		{"apps", "ls"},
		{"apps", "show", f.app},
		{"scripts", "ls"},
		{"scripts", "show", f.app + "/hello"},
		{"scripts", "versions", f.app + "/hello"},
		{"logs", f.app},
		{"logs", "show", f.logID},
		{"whoami"},
		{"whoami", "-o", "json"},
	} {
		r := f.pic.ok(args...)
		if r.stdout == "" || r.stderr != "" {
			t.Errorf("want data on stdout and nothing on stderr\n%s", r)
		}
	}
	// Commands without data to show confirm on stderr only.
	other := unique("output-gone")
	f.pic.ok("apps", "create", other)
	f.pic.ok("scripts", "deploy", writeFile(t, "bye.rhai", `"bye"`), "--app", other)
	for _, args := range [][]string{
		{"scripts", "delete", other + "/bye"},
		{"apps", "delete", other},
	} {
		if r := f.pic.ok(args...); r.stdout != "" {
			t.Errorf("a confirmation went to stdout\n%s", r)
		}
	}
	// Errors: stderr only, in either output mode (refused checks stdout).
	refused(t, f.pic.run("scripts", "show", f.app+"/missing"), 404)
	refused(t, f.pic.run("scripts", "show", f.app+"/missing", "-o", "json"), 404)
}

// Times are RFC 3339 in UTC, in tables and in JSON.
func TestOutputTimestamps(t *testing.T) {
	f := newOutputFixture(t)
	check := func(what, v string) {
		t.Helper()
		ts, err := time.Parse(time.RFC3339, v)
		if err != nil || !strings.HasSuffix(v, "Z") {
			t.Errorf("%s: %q is not an RFC 3339 UTC time", what, v)
			return
		}
		if d := time.Since(ts); d < -time.Minute || d > 10*time.Minute {
			t.Errorf("%s: %q is not about now", what, v)
		}
	}
	for _, tc := range []struct {
		args   []string
		column string
	}{
		{[]string{"apps", "ls"}, "CREATED"},
		{[]string{"scripts", "ls", "--app", f.app}, "UPDATED"},
		{[]string{"logs", f.app}, "STARTED"},
	} {
		for _, v := range column(t, f.pic.ok(tc.args...), tc.column) {
			check(strings.Join(tc.args, " ")+" "+tc.column, v)
		}
	}
	for _, tc := range []struct {
		args  []string
		field string
	}{
		{[]string{"apps", "show", f.app}, "created_at"},
		{[]string{"scripts", "show", f.app + "/hello"}, "updated_at"},
		{[]string{"logs", "show", f.logID}, "started_at"},
		{[]string{"whoami"}, "created_at"},
	} {
		obj := jsonObject(t, f.pic.ok(append(tc.args, "-o", "json")...))
		check(strings.Join(tc.args, " ")+" "+tc.field, fmt.Sprint(obj[tc.field]))
	}
}

// --output json: an array for every list (empty ones too), an object for
// every single item.
func TestOutputJSON(t *testing.T) {
	f := newOutputFixture(t)
	lists := []struct {
		args []string
		key  string // a field each element has
		want string // its value in the one element
	}{
		{[]string{"apps", "ls"}, "slug", f.app},
		{[]string{"scripts", "ls"}, "name", "hello"},
		{[]string{"scripts", "ls", "--app", f.app}, "name", "hello"},
		{[]string{"logs", f.app}, "id", f.logID},
	}
	for _, tc := range lists {
		for _, flag := range [][]string{{"-o", "json"}, {"--output", "json"}} {
			r := f.pic.ok(append(tc.args, flag...)...)
			if got := strs(jsonArray(t, r), tc.key); len(got) != 1 || got[0] != tc.want {
				t.Errorf("want one element with %s %q\n%s", tc.key, tc.want, r)
			}
		}
	}
	items := []struct {
		args       []string
		key, value string
	}{
		{[]string{"apps", "show", f.app}, "slug", f.app},
		{[]string{"scripts", "show", f.app + "/hello"}, "name", "hello"},
		{[]string{"logs", "show", f.logID}, "id", f.logID},
		{[]string{"whoami"}, "username", f.user},
	}
	for _, tc := range items {
		r := f.pic.ok(append(tc.args, "-o", "json")...)
		if got := jsonObject(t, r)[tc.key]; got != tc.value {
			t.Errorf("want an object with %s %q\n%s", tc.key, tc.value, r)
		}
	}
	// whoami carries the role and its label.
	who := jsonObject(t, f.pic.ok("whoami", "-o", "json"))
	if who["role"] != "member" || who["role_label"] != "Member" {
		t.Errorf("whoami JSON: role %v, role_label %v, want member and Member", who["role"], who["role_label"])
	}
	// The global flag also works before the command.
	if r := f.pic.ok("--output", "json", "whoami"); jsonObject(t, r)["username"] != f.user {
		t.Errorf("--output json before the command\n%s", r)
	}

	// Empty lists are [] rather than null or nothing.
	_, token := createUser(t, "output-empty")
	empty := as(t, token)
	for _, args := range [][]string{{"apps", "ls"}, {"scripts", "ls"}, {"logs", f.app, "--script", "nothing"}} {
		pic := empty
		if args[0] == "logs" {
			pic = f.pic
		}
		r := pic.ok(append(args, "-o", "json")...)
		if len(jsonArray(t, r)) != 0 {
			t.Errorf("want an empty array\n%s", r)
		}
	}
}
