package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	// The zones the tests use, whatever the system has.
	_ "time/tzdata"
)

const (
	schedulesHeader = "ID\tAPP\tSCRIPT\tCRON\tTIMEZONE\tENABLED\tNEXT_RUN\tLAST_RUN"
	jobHeader       = "ID\tSCRIPT\tTRIGGER\tSTATUS\tATTEMPTS\tNEXT_ATTEMPT\tQUEUED\tSUMMARY"
	attemptsHeader  = "ATTEMPT\tID\tVERSION\tSTATUS\tHTTP\tDURATION\tSTARTED\tSUMMARY"
)

// oneRow checks that r printed the table with header and exactly one row,
// and returns the row as a map from column to cell.
func oneRow(t *testing.T, r result, header string) map[string]string {
	t.Helper()
	h, rows := table(t, r)
	if strings.Join(h, "\t") != header || len(rows) != 1 {
		t.Fatalf("want the header %q and one row\n%s", header, r)
	}
	row := map[string]string{}
	for i, name := range h {
		row[name] = rows[0][i]
	}
	return row
}

// Schedules: create, list, pause, resume and delete them with pic, and the
// server's refusals with their exact statuses.
func TestSchedules(t *testing.T) {
	app := createApp(t, "sched")
	deployAPI(t, app, "report", `event.payload`)
	pic := asAdmin(t)

	r := pic.ok("schedules", "create", app+"/report", "--cron", "0 9 * * MON-FRI", "--tz", "Europe/Paris", "--payload", `{"to": "ops"}`)
	row := oneRow(t, r, schedulesHeader)
	id := row["ID"]
	if row["APP"] != app || row["SCRIPT"] != "report" || row["CRON"] != "0 9 * * MON-FRI" || row["TIMEZONE"] != "Europe/Paris" ||
		row["ENABLED"] != "true" || row["LAST_RUN"] != "-" {
		t.Errorf("the created schedule's row %v\n%s", row, r)
	}
	if !strings.HasPrefix(r.stderr, "Created schedule "+id+": ") {
		t.Errorf("no confirmation on stderr\n%s", r)
	}
	// The next run is 09:00 in Paris on a weekday, in RFC 3339 UTC.
	next, err := time.Parse(time.RFC3339, row["NEXT_RUN"])
	paris, _ := time.LoadLocation("Europe/Paris")
	if err != nil || !strings.HasSuffix(row["NEXT_RUN"], "Z") || next.In(paris).Format("15:04") != "09:00" ||
		next.In(paris).Weekday() == time.Saturday || next.In(paris).Weekday() == time.Sunday || !next.After(time.Now()) {
		t.Errorf("NEXT_RUN %q is not the next weekday 09:00 in Paris\n%s", row["NEXT_RUN"], r)
	}

	// ls --app, in JSON: the one schedule with its payload; ls alone lists
	// it among those of every app.
	r = pic.ok("schedules", "ls", "--app", app, "-o", "json")
	list := jsonArray(t, r)
	if len(list) != 1 || fmt.Sprint(list[0]["id"]) != id || list[0]["timezone"] != "Europe/Paris" ||
		fmt.Sprint(list[0]["payload"]) != "map[to:ops]" || list[0]["enabled"] != true {
		t.Errorf("schedules ls --app -o json\n%s", r)
	}
	if ids := column(t, pic.ok("schedules", "ls"), "ID"); !contains(ids, id) {
		t.Errorf("schedules ls does not list %s: %v", id, ids)
	}

	// pause: disabled, no next run, here and on the server.
	row = oneRow(t, pic.ok("schedules", "pause", id), schedulesHeader)
	if row["ENABLED"] != "false" || row["NEXT_RUN"] != "-" {
		t.Errorf("paused: %v", row)
	}
	body := api(t, http.StatusOK, "GET", "/api/v1/schedules/"+id, adminToken, "")
	if !strings.Contains(body, `"enabled":false`) || !strings.Contains(body, `"next_run_at":null`) {
		t.Errorf("the server's paused schedule: %s", body)
	}
	// resume: enabled, planned from now.
	row = oneRow(t, pic.ok("schedules", "resume", id), schedulesHeader)
	if resumed, err := time.Parse(time.RFC3339, row["NEXT_RUN"]); row["ENABLED"] != "true" || err != nil || !resumed.After(time.Now()) {
		t.Errorf("resumed: %v", row)
	}

	// Refusals, with their exact statuses.
	refused(t, pic.run("schedules", "create", app+"/report", "--cron", "61 * * * *"), 422)
	refused(t, pic.run("schedules", "create", app+"/report", "--cron", "@daily", "--tz", "Mars/Olympus_Mons"), 422)
	refused(t, pic.run("schedules", "create", app+"/missing", "--cron", "@daily"), 404)
	viewer, token := createUser(t, "sched-viewer")
	pic.ok("members", "add", app, viewer, "--role", "viewer")
	refused(t, as(t, token).run("schedules", "create", app+"/report", "--cron", "@daily"), 403)
	refused(t, as(t, token).run("schedules", "pause", id), 403)
	if ids := column(t, as(t, token).ok("schedules", "ls", "--app", app), "ID"); !slices.Equal(ids, []string{id}) {
		t.Errorf("the viewer lists %v, want [%s]", ids, id)
	}
	if r := pic.run("schedules", "create", app+"/report"); r.code != 2 || !strings.Contains(r.stderr, "--cron is required") {
		t.Errorf("create without --cron: want exit 2\n%s", r)
	}

	// rm: nothing on stdout, gone from the server.
	r = pic.ok("schedules", "rm", id)
	if r.stdout != "" || r.stderr != "Deleted schedule "+id+"\n" {
		t.Errorf("rm\n%s", r)
	}
	api(t, http.StatusNotFound, "GET", "/api/v1/schedules/"+id, adminToken, "")
	refused(t, pic.run("schedules", "rm", id), 404)
	if r := pic.ok("schedules", "ls", "--app", app); r.stdout != schedulesHeader+"\n" {
		t.Errorf("ls after rm: want the header alone\n%s", r)
	}
}

// showJob runs 'pic logs show ID' for a job: the job's row, an empty line,
// and the table of its attempts.
func showJob(t *testing.T, pic *cli, id string) (job map[string]string, attempts [][]string) {
	t.Helper()
	r := pic.ok("logs", "show", id)
	jobPart, attemptsPart, ok := strings.Cut(r.stdout, "\n\n")
	if !ok {
		t.Fatalf("logs show %s: want the job, an empty line and its attempts\n%s", id, r)
	}
	job = oneRow(t, result{args: r.args, stdout: jobPart + "\n"}, jobHeader)
	h, rows := table(t, result{args: r.args, stdout: attemptsPart})
	if strings.Join(h, "\t") != attemptsHeader {
		t.Fatalf("logs show %s: attempts header %q\n%s", id, h, r)
	}
	return job, rows
}

// Async invocations: queued with pic, run by the server's queue, followed
// with 'pic logs show'; a job that fails its only attempt is dead, listed
// with --status dead, and queued again with 'pic invoke --retry'.
func TestAsyncInvocations(t *testing.T) {
	app := createApp(t, "async")
	deployAPI(t, app, "hook", `print("got " + request.body); "done"`)
	deployAPI(t, app, "boom", `throw "boom"`)
	api(t, http.StatusOK, "PATCH", "/api/v1/apps/"+app+"/scripts/boom", adminToken, `{"max_attempts":1}`)
	pic := asAdmin(t)

	queue := func(script string, args ...string) string {
		t.Helper()
		r := pic.ok(append([]string{"invoke", "--async", app + "/" + script}, args...)...)
		id, ok := strings.CutSuffix(r.stdout, "\n")
		if !ok || len(id) != 26 || strings.ContainsAny(id, "\n\t ") {
			t.Fatalf("invoke --async: want the invocation id alone on stdout\n%s", r)
		}
		return id
	}
	okID := queue("hook", "-d", "hello")
	deadID := queue("boom")
	// A synchronous request, whose record cannot be retried.
	resp, err := http.Get(serverURL + "/fn/" + app + "/hook")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	httpID := resp.Header.Get("X-Picloud-Invocation")
	time.Sleep(logFlushWait) // once; see logFlushWait

	// The job that succeeded.
	job, attempts := showJob(t, pic, okID)
	if job["ID"] != okID || job["STATUS"] != "ok" || job["TRIGGER"] != "async" || job["ATTEMPTS"] != "1/3" || job["NEXT_ATTEMPT"] != "-" {
		t.Errorf("the ok job: %v", job)
	}
	if len(attempts) != 1 || attempts[0][0] != "1" || attempts[0][3] != "ok" || attempts[0][4] != "200" {
		t.Errorf("the ok job's attempts: %q", attempts)
	}
	obj := jsonObject(t, pic.ok("logs", "show", okID, "-o", "json"))
	invs, _ := obj["invocations"].([]any)
	if obj["status"] != "ok" || fmt.Sprint(obj["attempts"]) != "1" || len(invs) != 1 {
		t.Errorf("logs show -o json of the ok job: %v", obj)
	} else if rec := invs[0].(map[string]any); rec["job_id"] != okID || fmt.Sprint(rec["attempt"]) != "1" {
		t.Errorf("its attempt's record: %v", rec)
	}
	// The attempt's own record has what the script printed.
	rec := jsonObject(t, pic.ok("logs", "show", attempts[0][1], "-o", "json"))
	if rec["job_id"] != okID || rec["trigger"] != "async" || rec["output"] != "got hello\n" {
		t.Errorf("the attempt's record: %v", rec)
	}

	// The job that failed its only attempt: dead, and listed as such.
	job, attempts = showJob(t, pic, deadID)
	if job["STATUS"] != "dead" || job["ATTEMPTS"] != "1/1" || !strings.Contains(job["SUMMARY"], "boom") ||
		len(attempts) != 1 || attempts[0][3] != "error" {
		t.Errorf("the dead job: %v %q", job, attempts)
	}
	r := pic.ok("logs", app, "--status", "dead")
	if h, _ := table(t, r); strings.Join(h, "\t") != jobHeader {
		t.Errorf("logs --status dead: header %q\n%s", h, r)
	}
	if ids := column(t, r, "ID"); !slices.Equal(ids, []string{deadID}) {
		t.Errorf("logs --status dead lists %v, want [%s]\n%s", ids, deadID, r)
	}
	if got := jsonArray(t, pic.ok("logs", app, "--status", "dead", "-o", "json")); len(got) != 1 || got[0]["id"] != deadID || got[0]["status"] != "dead" {
		t.Errorf("logs --status dead -o json: %v", got)
	}

	// Only a dead job can be retried, and only by an editor.
	refused(t, pic.run("invoke", "--retry", okID), 409)
	refused(t, pic.run("invoke", "--retry", httpID), 409)
	refused(t, pic.run("invoke", "--retry", "01AAAAAAAAAAAAAAAAAAAAAAAA"), 404)
	viewer, token := createUser(t, "async-viewer")
	pic.ok("members", "add", app, viewer, "--role", "viewer")
	refused(t, as(t, token).run("invoke", "--retry", deadID), 403)

	// --retry queues it again, with its attempts reset: the job's id on
	// stdout (with -o json, the job as the server answered, queued).
	r = pic.ok("invoke", "--retry", deadID, "-o", "json")
	if j := jsonObject(t, r); j["id"] != deadID || j["status"] != "queued" || fmt.Sprint(j["attempts"]) != "0" {
		t.Errorf("invoke --retry -o json: want the job queued again\n%s", r)
	}
	time.Sleep(logFlushWait) // once: the retried job runs, and fails again
	job, attempts = showJob(t, pic, deadID)
	if job["STATUS"] != "dead" || job["ATTEMPTS"] != "1/1" || len(attempts) != 2 {
		t.Errorf("the retried job: %v %q", job, attempts)
	}
}
