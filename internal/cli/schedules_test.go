package cli

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	// The zones the tests use, whatever the system has.
	_ "time/tzdata"

	"github.com/picloud/picloud/internal/store/dbtest"
)

var schedulesHeader = []string{"ID", "APP", "SCRIPT", "CRON", "TIMEZONE", "ENABLED", "NEXT_RUN", "LAST_RUN"}

// scheduleRow checks that out is the schedules table with one row and
// returns the row.
func scheduleRow(t *testing.T, out string) []string {
	t.Helper()
	got := rows(out)
	if len(got) != 2 || !slices.Equal(got[0], schedulesHeader) || len(got[1]) != len(schedulesHeader) {
		t.Fatalf("want the schedules header and one row: %q", out)
	}
	return got[1]
}

func TestSchedules(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testSchedules)
}

func testSchedules(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app, other := newApp(t, srv), newApp(t, srv)
	deploy(t, srv, app, "report", `event.payload`)
	deploy(t, srv, other, "tick", `1`)

	// create: the row on stdout, a confirmation on stderr.
	before := time.Now().Add(-time.Second)
	r := sh.run("schedules", "create", app+"/report", "--cron", "30 2 * * *", "--tz", "America/New_York", "--payload", `{"to": "ops"}`)
	if r.code != 0 || !strings.HasPrefix(r.stderr, "Created schedule ") || !strings.Contains(r.stderr, "next run ") {
		t.Fatalf("create: %v", r)
	}
	row := scheduleRow(t, r.stdout)
	id := row[0]
	if n, err := strconv.Atoi(id); err != nil || n < 1 {
		t.Fatalf("create: id %q", id)
	}
	if !slices.Equal(row[1:7], []string{app, "report", "30 2 * * *", "America/New_York", "true", row[6]}) || row[7] != "-" {
		t.Fatalf("create: row %q", row)
	}
	next, err := time.Parse(time.RFC3339, row[6])
	if err != nil || !next.After(before) || next.Location() != time.UTC {
		t.Fatalf("create: NEXT_RUN %q (%v)", row[6], err)
	}
	// 02:30 in New York, or 03:30 on the day 02:00–03:00 is skipped.
	ny, _ := time.LoadLocation("America/New_York")
	if local := next.In(ny).Format("15:04"); local != "02:30" && local != "03:30" {
		t.Fatalf("create: next run %v is %s in New York", next, local)
	}

	// The zone defaults to UTC; --paused creates it paused; JSON is the
	// server's object with the payload.
	utc := scheduleRow(t, sh.ok("schedules", "create", app+"/report", "--cron", "@hourly"))
	if utc[4] != "UTC" || utc[5] != "true" {
		t.Fatalf("create without --tz: %q", utc)
	}
	paused := scheduleRow(t, sh.ok("schedules", "create", app+"/report", "--cron", "0 9 * * MON-FRI", "--paused"))
	if paused[5] != "false" || paused[6] != "-" {
		t.Fatalf("create --paused: %q", paused)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(sh.ok("schedules", "create", other+"/tick", "--cron", "*/5 * * * *", "--payload", "[1, 2]", "-o", "json")), &obj); err != nil {
		t.Fatal(err)
	}
	if obj["app"] != other || obj["script"] != "tick" || obj["cron"] != "*/5 * * * *" || obj["enabled"] != true ||
		obj["last_run_at"] != nil || !slices.Equal(obj["payload"].([]any), []any{1.0, 2.0}) {
		t.Fatalf("create -o json: %v", obj)
	}
	otherID := strconv.FormatFloat(obj["id"].(float64), 'f', -1, 64)

	// --payload @FILE and @-.
	file := writeFile(t, "payload.json", `{"from": "file"}`)
	sh.ok("schedules", "create", app+"/report", "--cron", "@daily", "--payload", "@"+file)
	var fromStdin map[string]any
	r = sh.runIn(`"text"`, "schedules", "create", app+"/report", "--cron", "@daily", "--payload", "@-", "-o", "json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &fromStdin) != nil || fromStdin["payload"] != "text" {
		t.Fatalf("--payload @-: %v", r)
	}

	// ls --app: the app's schedules by id; JSON an array of them.
	got := rows(sh.ok("schedules", "ls", "--app", app))
	if !slices.Equal(got[0], schedulesHeader) || len(got) != 6 || got[1][0] != id {
		t.Fatalf("ls --app: %q", got)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(sh.ok("schedules", "ls", "--app", app, "-o", "json")), &list); err != nil || len(list) != 5 {
		t.Fatalf("ls --app -o json: %v %v", list, err)
	}
	if p, _ := json.Marshal(list[0]["payload"]); string(p) != `{"to":"ops"}` {
		t.Fatalf("ls -o json: payload %s", p)
	}
	if list[1]["payload"] != nil {
		t.Fatalf("ls -o json: a schedule without a payload has %v", list[1]["payload"])
	}
	// Without --app: every app's, in one call.
	counted, token := newAdmin(t, srv)
	all := rows(counted.ok("schedules", "ls"))
	if n := srv.apiCallsOf(token); n != 1 {
		t.Fatalf("schedules ls made %d API calls, want 1", n)
	}
	var ids []string
	for _, r := range all[1:] {
		if r[1] == app || r[1] == other {
			ids = append(ids, r[0])
		}
	}
	if len(ids) != 6 || !slices.Contains(ids, id) || !slices.Contains(ids, otherID) {
		t.Fatalf("schedules ls: %q", all)
	}

	// pause and resume print the row.
	r = sh.run("schedules", "pause", id)
	if row := scheduleRow(t, r.stdout); r.code != 0 || row[5] != "false" || row[6] != "-" || r.stderr != "Paused schedule "+id+"\n" {
		t.Fatalf("pause: %v", r)
	}
	r = sh.run("schedules", "resume", id)
	if row := scheduleRow(t, r.stdout); r.code != 0 || row[5] != "true" || !isRFC3339(row[6]) || !strings.HasPrefix(r.stderr, "Resumed schedule "+id+"; next run ") {
		t.Fatalf("resume: %v", r)
	}
	if row := scheduleRow(t, sh.ok("schedules", "show", id)); row[0] != id || row[5] != "true" {
		t.Fatalf("show: %q", row)
	}

	// rm: nothing on stdout; the schedule is gone.
	r = sh.run("schedules", "rm", id)
	if r.code != 0 || r.stdout != "" || r.stderr != "Deleted schedule "+id+"\n" {
		t.Fatalf("rm: %v", r)
	}
	sh.fails(1, "error: HTTP 404: schedule "+id+" not found", "schedules", "show", id)
	sh.fails(1, "error: HTTP 404: ", "schedules", "rm", id)
	sh.fails(1, "error: HTTP 404: ", "schedules", "pause", id)

	// Refusals by the server.
	sh.fails(1, "error: HTTP 422: invalid cron expression", "schedules", "create", app+"/report", "--cron", "61 * * * *")
	sh.fails(1, "error: HTTP 422: unknown time zone", "schedules", "create", app+"/report", "--cron", "@daily", "--tz", "Mars/Olympus")
	sh.fails(1, "error: HTTP 404: script \"nope\" not found", "schedules", "create", app+"/nope", "--cron", "@daily")
	viewer, name, _ := newUser(t, srv, "member")
	sh.ok("members", "add", app, name, "--role", "viewer")
	viewer.fails(1, "error: HTTP 403: ", "schedules", "create", app+"/report", "--cron", "@daily")
	viewer.fails(1, "error: HTTP 403: you are a viewer", "schedules", "pause", utc[0])
	viewer.fails(1, "error: HTTP 403: ", "schedules", "pause", otherID)
	if got := rows(viewer.ok("schedules", "ls")); len(got) != 5 {
		t.Fatalf("a viewer of one app lists %q", got)
	}

	// Usage errors.
	sh.fails(2, "error: --cron is required", "schedules", "create", app+"/report")
	sh.fails(2, "error: --payload is not valid JSON", "schedules", "create", app+"/report", "--cron", "@daily", "--payload", "text")
	sh.fails(2, "is not APP/NAME", "schedules", "create", "report", "--cron", "@daily")
	sh.fails(2, "error: \"x\" is not a schedule id", "schedules", "rm", "x")
	sh.fails(2, "error: missing argument", "schedules", "pause")
	sh.fails(1, "error: reading the payload: ", "schedules", "create", app+"/report", "--cron", "@daily", "--payload", "@/no/such/file")
}
