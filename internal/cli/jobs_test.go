package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store/dbtest"
)

var (
	jobsHeader     = []string{"ID", "SCRIPT", "TRIGGER", "STATUS", "ATTEMPTS", "NEXT_ATTEMPT", "QUEUED", "SUMMARY"}
	attemptsHeader = []string{"ATTEMPT", "ID", "VERSION", "STATUS", "HTTP", "DURATION", "STARTED", "SUMMARY"}
)

// showJob runs 'logs show ID' for a job and splits its output into the
// job's row and the attempts' rows.
func showJob(t *testing.T, sh *shell, id string) (job []string, attempts [][]string) {
	t.Helper()
	out := sh.ok("logs", "show", id)
	parts := strings.Split(out, "\n\n")
	if len(parts) != 2 {
		t.Fatalf("logs show %s: want two tables: %q", id, out)
	}
	jt, at := rows(parts[0]), rows(parts[1])
	if len(jt) != 2 || !slices.Equal(jt[0], jobsHeader) || len(jt[1]) != len(jobsHeader) || len(at) < 1 || !slices.Equal(at[0], attemptsHeader) {
		t.Fatalf("logs show %s: %q", id, out)
	}
	for _, r := range at[1:] {
		if len(r) != len(attemptsHeader) {
			t.Fatalf("logs show %s: attempt row %q", id, r)
		}
	}
	return jt[1], at[1:]
}

// invokeAsync queues app/name with pic and returns the invocation id.
func invokeAsync(t *testing.T, sh *shell, ref string, args ...string) string {
	t.Helper()
	r := sh.run(append([]string{"invoke", "--async", ref}, args...)...)
	id := strings.TrimSuffix(r.stdout, "\n")
	if r.code != 0 || len(id) != 26 || strings.Contains(id, "\n") || !strings.HasPrefix(r.stderr, "Queued invocation "+id+" of "+ref) {
		t.Fatalf("invoke --async: %v", r)
	}
	return id
}

func TestInvokeAsync(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testInvokeAsync)
}

func testInvokeAsync(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	deploy(t, srv, app, "hook", `print("got " + request.body); #{ n: request.json.n, kind: event.kind }`)
	ref := app + "/hook"

	id := invokeAsync(t, sh, ref, "-d", `{"n": 42}`)
	if got := srv.jobs.wait(t, id, 1); !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("job states %v, want ok", got)
	}

	// The job: its row, then its attempt.
	job, attempts := showJob(t, sh, id)
	if job[0] != id || job[1] != "hook" || job[2] != "async" || job[3] != "ok" || job[4] != "1/3" || job[5] != "-" || !isRFC3339(job[6]) {
		t.Fatalf("job row %q", job)
	}
	if len(attempts) != 1 || attempts[0][0] != "1" || attempts[0][2] != "1" || attempts[0][3] != "ok" || attempts[0][4] != "200" || !isRFC3339(attempts[0][6]) {
		t.Fatalf("attempts %q", attempts)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(sh.ok("logs", "show", id, "-o", "json")), &obj); err != nil {
		t.Fatal(err)
	}
	invs, _ := obj["invocations"].([]any)
	if obj["id"] != id || obj["status"] != "ok" || obj["attempts"] != 1.0 || obj["max_attempts"] != 3.0 || obj["next_attempt_at"] != nil || len(invs) != 1 {
		t.Fatalf("logs show -o json: %v", obj)
	}
	attempt := invs[0].(map[string]any)
	if attempt["job_id"] != id || attempt["attempt"] != 1.0 || obj["last_invocation_id"] != attempt["id"] {
		t.Fatalf("logs show -o json: attempt %v", attempt)
	}

	// The attempt's own record, with what the script printed and made.
	attemptID := attempts[0][1]
	var rec map[string]any
	if err := json.Unmarshal([]byte(sh.ok("logs", "show", attemptID, "-o", "json")), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["job_id"] != id || rec["attempt"] != 1.0 || rec["trigger"] != "async" || rec["output"] != "got {\"n\": 42}\n" ||
		!strings.Contains(rec["summary"].(string), `"kind":"async"`) {
		t.Fatalf("the attempt's record: %v", rec)
	}
	if out := sh.ok("logs", "show", attemptID); !strings.HasPrefix(out, strings.Join(logsHeader, "\t")+"\n"+attemptID+"\thook\t1\tasync\tok\t") {
		t.Fatalf("logs show of an attempt: %q", out)
	}

	// -o json prints the 202's object.
	var q map[string]any
	if err := json.Unmarshal([]byte(sh.ok("invoke", "--async", ref, "-o", "json")), &q); err != nil || len(q["invocation_id"].(string)) != 26 || q["status"] != "queued" {
		t.Fatalf("invoke --async -o json: %v %v", q, err)
	}

	// The data plane refuses: the body on stdout, exit 1.
	r := sh.run("invoke", "--async", app+"/nope")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "error: HTTP 404: ") || !strings.Contains(r.stdout, `"not_found"`) {
		t.Fatalf("invoke --async of an unknown script: %v", r)
	}
}

func TestDeadJobs(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testDeadJobs)
}

func testDeadJobs(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	deploy(t, srv, app, "boom", `throw "boom"`)
	deploy(t, srv, app, "flaky", `throw "flaky"`)
	deploy(t, srv, app, "fine", `"fine"`)

	// set-attempts prints the script's row.
	r := sh.run("scripts", "set-attempts", app+"/boom", "1")
	got := rows(r.stdout)
	if r.code != 0 || len(got) != 2 || got[1][1] != "boom" || got[1][4] != "1" || !strings.Contains(r.stderr, "at most 1 attempt") {
		t.Fatalf("set-attempts: %v", r)
	}
	sh.ok("scripts", "set-attempts", app+"/flaky", "2")
	ls := rows(sh.ok("scripts", "ls", "--app", app))
	if len(ls) != 4 || ls[1][4] != "1" || ls[2][4] != "3" || ls[3][4] != "2" {
		t.Fatalf("scripts ls: MAX_ATTEMPTS of boom, fine, flaky: %q", ls)
	}
	sh.fails(1, "error: HTTP 422: ", "scripts", "set-attempts", app+"/boom", "11")
	sh.fails(2, "error: \"x\" is not a number of attempts", "scripts", "set-attempts", app+"/boom", "x")

	// One attempt that fails: dead.
	dead := invokeAsync(t, sh, app+"/boom")
	if got := srv.jobs.wait(t, dead, 1); !slices.Equal(got, []string{"dead"}) {
		t.Fatalf("job states %v, want dead", got)
	}
	job, attempts := showJob(t, sh, dead)
	if job[3] != "dead" || job[4] != "1/1" || job[5] != "-" || !strings.Contains(job[7], "boom") ||
		len(attempts) != 1 || attempts[0][3] != "error" || attempts[0][4] != "500" {
		t.Fatalf("dead job: %q %q", job, attempts)
	}

	// Two attempts: after the first fails, the job waits for the second.
	flaky := invokeAsync(t, sh, app+"/flaky")
	if got := srv.jobs.wait(t, flaky, 1); !slices.Equal(got, []string{"error"}) {
		t.Fatalf("job states %v, want error", got)
	}
	job, _ = showJob(t, sh, flaky)
	retryAt, err := time.Parse(time.RFC3339, job[5])
	if job[3] != "error" || job[4] != "1/2" || err != nil || !retryAt.After(time.Now()) {
		t.Fatalf("job awaiting a retry: %q", job)
	}
	// The failed attempts are records with the status error.
	if got := rows(sh.ok("logs", app, "--status", "error")); len(got) != 3 || got[1][3] != "async" {
		t.Fatalf("logs --status error: %q", got)
	}

	// --status dead lists the dead jobs; the other states are accepted.
	got = rows(sh.ok("logs", app, "--status", "dead"))
	if len(got) != 2 || !slices.Equal(got[0], jobsHeader) || got[1][0] != dead || got[1][3] != "dead" {
		t.Fatalf("logs --status dead: %q", got)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(sh.ok("logs", app, "--status", "dead", "-o", "json")), &list); err != nil || len(list) != 1 || list[0]["id"] != dead || list[0]["max_attempts"] != 1.0 {
		t.Fatalf("logs --status dead -o json: %v %v", list, err)
	}
	for _, status := range []string{"queued", "running"} {
		if out := sh.ok("logs", app, "--status", status); out != strings.Join(jobsHeader, "\t")+"\n" {
			t.Fatalf("logs --status %s: %q", status, out)
		}
	}

	// --retry queues it again and prints its id; it runs, and dies, again.
	r = sh.run("invoke", "--retry", dead)
	if r.code != 0 || r.stdout != dead+"\n" || !strings.HasPrefix(r.stderr, "Queued job "+dead+" of "+app+"/boom again") {
		t.Fatalf("invoke --retry: %v", r)
	}
	if got := srv.jobs.wait(t, dead, 2); !slices.Equal(got, []string{"dead", "dead"}) {
		t.Fatalf("job states %v, want dead twice", got)
	}
	job, attempts = showJob(t, sh, dead)
	if job[3] != "dead" || job[4] != "1/1" || len(attempts) != 2 {
		t.Fatalf("the job retried: %q %q", job, attempts)
	}
	// The id of an attempt names its job too.
	var j map[string]any
	if err := json.Unmarshal([]byte(sh.ok("invoke", "--retry", attempts[1][1], "-o", "json")), &j); err != nil || j["id"] != dead || j["status"] != "queued" {
		t.Fatalf("invoke --retry ATTEMPT -o json: %v %v", j, err)
	}
	srv.jobs.wait(t, dead, 3)

	// Refusals: a job that is not dead, an unknown id. (An HTTP request's
	// record, 409 too, is in the journey test: records of HTTP requests
	// are written in batches.)
	ok := invokeAsync(t, sh, app+"/fine")
	srv.jobs.wait(t, ok, 1)
	sh.fails(1, "error: HTTP 409: job \""+ok+"\" is ok", "invoke", "--retry", ok)
	sh.fails(1, "error: HTTP 404: ", "invoke", "--retry", "01NOSUCHJOB")
	viewer, name, _ := newUser(t, srv, "member")
	sh.ok("members", "add", app, name, "--role", "viewer")
	viewer.fails(1, "error: HTTP 403: ", "invoke", "--retry", dead)
	viewer.ok("logs", "show", dead)

	// Usage errors.
	sh.fails(2, "--retry ID takes no APP/NAME", "invoke", "--retry", dead, app+"/boom")
	sh.fails(2, "--retry ID takes no APP/NAME", "invoke", "--retry", dead, "-d", "x")
	sh.fails(2, "error: missing argument; expected APP/NAME", "invoke", "--async")
	sh.fails(2, "error: invalid --status \"gone\": use ok, error, timeout, limit, queued, running, dead", "logs", app, "--status", "gone")
}
