package cli

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/client"
)

// The output formats, fed with the API's types: each table's exact TSV,
// and --output json in the server's field names.

var (
	// t0 is in another zone and has a fraction: the tables show UTC, to
	// the second.
	t0   = time.Date(2026, 1, 2, 4, 4, 5, 678_000_000, time.FixedZone("CET", 3600))
	t0s  = "2026-01-02T03:04:05Z"
	t1   = time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	t1s  = "2026-01-03T00:00:00Z"
	str  = func(s string) *string { return &s }
	id64 = func(n int64) *int64 { return &n }
)

// printed returns what p.print writes for v and t, as a table or JSON.
func printed(t *testing.T, asJSON bool, v any, tab *table) string {
	t.Helper()
	p, out, errOut := unitPic("")
	if asJSON {
		p.output = "json"
	}
	if err := p.print(v, tab); err != nil {
		t.Fatal(err)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr %q", errOut)
	}
	return out.String()
}

func TestTables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tab  *table
		want string
	}{
		{"apps", appsTable(
			client.App{Slug: "demo", Name: "Demo", Description: "tabs\tand\nlines", CreatedAt: t0},
			client.App{Slug: "b", Name: "b", CreatedAt: t1}),
			"SLUG\tNAME\tDESCRIPTION\tCREATED\n" +
				"demo\tDemo\ttabs and lines\t" + t0s + "\n" +
				"b\tb\t\t" + t1s + "\n"},
		{"apps none", appsTable(), "SLUG\tNAME\tDESCRIPTION\tCREATED\n"},
		{"app show", appShowTable(client.App{Slug: "demo", Name: "Demo", CreatedAt: t0,
			Usage: &client.AppUsage{QueuedJobs: 2, QueuedBytes: 300, MaxQueuedBytes: 4096, RecordedBytes: 5, MaxRecordedBytes: 6000}}),
			"SLUG\tNAME\tDESCRIPTION\tCREATED\tQUEUED_JOBS\tQUEUED_BYTES\tMAX_QUEUED_BYTES\tRECORDED_BYTES\tMAX_RECORDED_BYTES\n" +
				"demo\tDemo\t\t" + t0s + "\t2\t300\t4096\t5\t6000\n"},
		{"app show without usage", appShowTable(client.App{Slug: "demo", Name: "Demo", CreatedAt: t0}),
			"SLUG\tNAME\tDESCRIPTION\tCREATED\tQUEUED_JOBS\tQUEUED_BYTES\tMAX_QUEUED_BYTES\tRECORDED_BYTES\tMAX_RECORDED_BYTES\n" +
				"demo\tDemo\t\t" + t0s + "\t0\t0\t0\t0\t0\n"},
		{"outbound", outboundTable(outboundRow{App: "demo", Outbound: client.Outbound{Allow: []string{"a.com", "*.b.com"}}}),
			"APP\tALLOW\tPRIVATE\ndemo\ta.com,*.b.com\t-\n"},
		{"scripts", scriptsTable(client.Script{App: "demo", Name: "hello", LiveVersion: 3, UpdatedAt: t0, MaxAttempts: 3, Visibility: "public"}),
			"APP\tNAME\tVERSION\tUPDATED\tMAX_ATTEMPTS\tVISIBILITY\ndemo\thello\t3\t" + t0s + "\t3\tpublic\n"},
		{"versions", versionsTable(
			client.Version{Version: 2, CreatedAt: t1, RolledBackFrom: 1},
			client.Version{Version: 1, CreatedAt: t0}),
			"VERSION\tCREATED\tROLLED_BACK_FROM\n2\t" + t1s + "\t1\n1\t" + t0s + "\t-\n"},
		{"schedules", schedulesTable(
			client.Schedule{ID: 7, App: "demo", Script: "tick", Cron: "30 2 * * *", Timezone: "Europe/Paris", Enabled: true, NextRunAt: &t1},
			client.Schedule{ID: 8, App: "demo", Script: "tock", Cron: "@daily", Timezone: "UTC", LastRunAt: &t0}),
			"ID\tAPP\tSCRIPT\tCRON\tTIMEZONE\tENABLED\tNEXT_RUN\tLAST_RUN\n" +
				"7\tdemo\ttick\t30 2 * * *\tEurope/Paris\ttrue\t" + t1s + "\t-\n" +
				"8\tdemo\ttock\t@daily\tUTC\tfalse\t-\t" + t0s + "\n"},
		{"kv", kvTable(
			client.KVEntry{Key: "a", Size: 2, UpdatedAt: t0},
			client.KVEntry{Key: "b", Size: 10, UpdatedAt: t0, ExpiresAt: &t1}),
			"KEY\tSIZE\tUPDATED\tEXPIRES\na\t2\t" + t0s + "\t-\nb\t10\t" + t0s + "\t" + t1s + "\n"},
		{"secrets", secretsTable(client.Secret{Name: "KEY", CreatedAt: t0, UpdatedAt: t1}),
			"NAME\tUPDATED\nKEY\t" + t1s + "\n"},
		{"members", membersTable(client.Member{Username: "bob", Role: "editor"}, client.Member{Username: "eve", Role: "viewer"}),
			"USER\tROLE\nbob\teditor\neve\tviewer\n"},
		{"users", usersTable(client.User{Username: "admin", Role: "admin", RoleLabel: "Administrator", CreatedAt: t0}),
			"USERNAME\tROLE\tCREATED\nadmin\tadmin\t" + t0s + "\n"},
		{"api keys", apiKeysTable(
			client.APIKey{ID: 1, Name: "ci", Prefix: "pk_ab", CreatedAt: t0},
			client.APIKey{ID: 2, Name: "laptop", Prefix: "pk_cd", CreatedAt: t0, LastUsedAt: &t1}),
			"ID\tNAME\tPREFIX\tCREATED\tLAST_USED\n1\tci\tpk_ab\t" + t0s + "\t-\n2\tlaptop\tpk_cd\t" + t0s + "\t" + t1s + "\n"},
		{"logs", logsListTable(client.Invocation{ID: "inv-1", Script: "hello", Version: 2, Trigger: "http", Status: "error",
			HTTPStatus: 500, DurationMS: 1.5, StartedAt: t0, Summary: strings.Repeat("x", 70)}),
			"ID\tSCRIPT\tVERSION\tTRIGGER\tSTATUS\tHTTP\tDURATION\tSTARTED\tSUMMARY\n" +
				"inv-1\thello\t2\thttp\terror\t500\t1.500ms\t" + t0s + "\t" + strings.Repeat("x", 59) + "…\n"},
		{"jobs", jobsListTable(client.Job{Invocation: client.Invocation{ID: "job-1", Script: "hello", Trigger: "async", Status: "queued",
			StartedAt: t0, Summary: "waiting"}, Attempts: 1, MaxAttempts: 3, NextAttemptAt: &t1}),
			"ID\tSCRIPT\tTRIGGER\tSTATUS\tATTEMPTS\tNEXT_ATTEMPT\tQUEUED\tSUMMARY\n" +
				"job-1\thello\tasync\tqueued\t1/3\t" + t1s + "\t" + t0s + "\twaiting\n"},
	} {
		if got := printed(t, false, nil, tc.tab); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// --output json writes the API's objects with the server's field names:
// an array for a list (empty, not null, when there is none), an object
// for one item.
func TestJSONOutput(t *testing.T) {
	t.Parallel()
	utc := t0.UTC()
	apps := []client.App{{ID: 1, Slug: "demo", Name: "Demo", CreatedAt: utc, Outbound: client.Outbound{Allow: []string{"a.com"}}}}
	want := `[
  {
    "id": 1,
    "slug": "demo",
    "name": "Demo",
    "description": "",
    "limits": {},
    "created_at": "2026-01-02T03:04:05.678Z",
    "outbound": {
      "allow": [
        "a.com"
      ],
      "private": null
    }
  }
]
`
	if got := printed(t, true, apps, appsTable(apps...)); got != want {
		t.Errorf("apps:\n%s\nwant\n%s", got, want)
	}
	var none []client.Script
	if got := printed(t, true, none, scriptsTable(none...)); got != "[]\n" {
		t.Errorf("an empty list is %q", got)
	}
	// The JSON of each kind reads back as what was printed, whatever the
	// table shows.
	for _, v := range []any{
		&client.Script{App: "demo", Name: "hello", LiveVersion: 3, UpdatedAt: utc, Visibility: "private"},
		[]client.Schedule{{ID: 7, App: "demo", Script: "tick", Cron: "@daily", Payload: json.RawMessage(`"every day"`), NextRunAt: &utc}},
		&client.KVEntry{Key: "k", Value: json.RawMessage(`"<html>"`), Size: 8, UpdatedAt: utc},
		[]client.Secret{{Name: "KEY", UpdatedAt: utc}},
		[]client.Member{{UserID: 2, Username: "bob", Role: "viewer", CreatedAt: utc}},
		[]client.User{{ID: 1, Username: "admin", Role: "admin", RoleLabel: "Administrator", CreatedAt: utc}},
		[]client.APIKey{{ID: 1, Name: "ci", Prefix: "pk_ab", CreatedAt: utc}},
		[]client.Invocation{{ID: "inv-1", Script: "hello", Summary: strings.Repeat("x", 70), StartedAt: utc}},
		[]client.Job{{Invocation: client.Invocation{ID: "job-1", StartedAt: utc}, MaxAttempts: 3, LastInvocationID: str("inv-1"), ScheduleID: id64(7)}},
	} {
		out := printed(t, true, v, newTable("UNUSED"))
		back := reflect.New(reflect.TypeOf(v))
		if err := json.Unmarshal([]byte(out), back.Interface()); err != nil {
			t.Fatalf("%T: %v\n%s", v, err, out)
		}
		if got := back.Elem().Interface(); !reflect.DeepEqual(got, v) {
			t.Errorf("%T: read back %#v\nfrom %s", v, got, out)
		}
		// HTML is not escaped, and a long summary is whole.
		if strings.Contains(out, `\u003c`) || strings.Contains(out, "…") {
			t.Errorf("%T: %s", v, out)
		}
	}
}

// 'logs show ID' writes a record's row with the whole summary, then its
// output after an empty line; for a job, its row and its attempts.
func TestLogEntryOutput(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("y", 70)
	var b bytes.Buffer
	rec := &client.Invocation{ID: "inv-1", Script: "hello", Version: 1, Trigger: "http", Status: "ok", HTTPStatus: 200,
		DurationMS: 0.25, StartedAt: t0, Summary: long, Output: str("one\ntwo")}
	if err := writeLogEntry(&b, &client.LogEntry{Record: rec}); err != nil {
		t.Fatal(err)
	}
	want := logsTable().header
	if got := b.String(); got != strings.Join(want, "\t")+"\n"+
		"inv-1\thello\t1\thttp\tok\t200\t0.250ms\t"+t0s+"\t"+long+"\n\none\ntwo\n" {
		t.Errorf("record:\n%q", got)
	}

	b.Reset()
	rec.Output = nil
	if err := writeLogEntry(&b, &client.LogEntry{Record: rec}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); strings.Count(got, "\n") != 2 {
		t.Errorf("a record without output is its header and row:\n%q", got)
	}

	b.Reset()
	attempts := []client.Invocation{{ID: "inv-2", Attempt: 2, Version: 1, Status: "error", HTTPStatus: 500, DurationMS: 3, StartedAt: t1, Summary: "boom"}}
	job := &client.Job{Invocation: client.Invocation{ID: "job-1", Script: "hello", Trigger: "async", Status: "dead", StartedAt: t0, Summary: long},
		Attempts: 3, MaxAttempts: 3, Invocations: &attempts}
	if err := writeLogEntry(&b, &client.LogEntry{Job: job}); err != nil {
		t.Fatal(err)
	}
	wantJob := "ID\tSCRIPT\tTRIGGER\tSTATUS\tATTEMPTS\tNEXT_ATTEMPT\tQUEUED\tSUMMARY\n" +
		"job-1\thello\tasync\tdead\t3/3\t-\t" + t0s + "\t" + long + "\n\n" +
		"ATTEMPT\tID\tVERSION\tSTATUS\tHTTP\tDURATION\tSTARTED\tSUMMARY\n" +
		"2\tinv-2\t1\terror\t500\t3.000ms\t" + t1s + "\tboom\n"
	if got := b.String(); got != wantJob {
		t.Errorf("job:\n got %q\nwant %q", got, wantJob)
	}
}
