package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const logsHeader = "ID\tSCRIPT\tVERSION\tTRIGGER\tSTATUS\tHTTP\tDURATION\tSTARTED\tSUMMARY"

// A body long enough that the summary of its run (status, type, size and
// the start of the body) is well over the table's width.
var longBody = strings.Repeat("The quick brown fox jumps over the lazy dog. ", 3)

func TestLogs(t *testing.T) {
	app := createApp(t, "logs")
	pic := asAdmin(t)

	// No runs yet: a header and no rows; an empty JSON array.
	if r := pic.ok("logs", app); r.stdout != logsHeader+"\n" {
		t.Errorf("logs of a fresh app: want only the header row\n%s", r)
	}
	if r := pic.ok("logs", app, "-o", "json"); len(jsonArray(t, r)) != 0 {
		t.Errorf("logs of a fresh app: want []\n%s", r)
	}

	// A short time limit, and no operation limit to reach first, make
	// the endless loop a timeout.
	api(t, 200, "PATCH", "/api/v1/apps/"+app, adminToken, `{"limits":{"timeout_ms":200,"max_operations":1099511627776}}`)
	deployAPI(t, app, "fine", fmt.Sprintf("print(\"printed by fine\");\n%q", longBody))
	deployAPI(t, app, "broken", `throw "boom"`)
	deployAPI(t, app, "endless", `loop {}`)
	for _, run := range []struct {
		script string
		status int
	}{{"fine", 200}, {"broken", 500}, {"endless", 504}} {
		if got := invokeFn(t, app, run.script); got != run.status {
			t.Fatalf("/fn/%s/%s: HTTP %d, want %d", app, run.script, got, run.status)
		}
	}
	time.Sleep(logFlushWait) // once; see logFlushWait

	// Newest first, with their status labels.
	r := pic.ok("logs", app, "-o", "json")
	records := jsonArray(t, r)
	if got := strs(records, "script"); !slices.Equal(got, []string{"endless", "broken", "fine"}) {
		t.Fatalf("log records of %v, want endless, broken, fine (newest first)\n%s", got, r)
	}
	if got := strs(records, "status"); !slices.Equal(got, []string{"timeout", "error", "ok"}) {
		t.Errorf("statuses %v, want timeout, error, ok\n%s", got, r)
	}
	r = pic.ok("logs", app)
	header, _ := table(t, r)
	if strings.Join(header, "\t") != logsHeader {
		t.Errorf("header %q, want %q", strings.Join(header, "\t"), logsHeader)
	}
	if got := column(t, r, "STATUS"); !slices.Equal(got, []string{"timeout", "error", "ok"}) {
		t.Errorf("STATUS column %v, want timeout, error, ok\n%s", got, r)
	}
	if got := column(t, r, "HTTP"); !slices.Equal(got, []string{"504", "500", "200"}) {
		t.Errorf("HTTP column %v, want 504, 500, 200\n%s", got, r)
	}
	r = pic.ok("logs", app, "--status", "timeout", "-o", "json")
	if got := strs(jsonArray(t, r), "script"); !slices.Equal(got, []string{"endless"}) {
		t.Errorf("--status timeout: %v, want endless\n%s", got, r)
	}

	// --limit keeps the newest.
	r = pic.ok("logs", app, "--limit", "1")
	if got := column(t, r, "SCRIPT"); !slices.Equal(got, []string{"endless"}) {
		t.Errorf("--limit 1: %v, want endless\n%s", got, r)
	}
	r = pic.ok("logs", app, "--limit", "2", "-o", "json")
	if got := strs(jsonArray(t, r), "script"); !slices.Equal(got, []string{"endless", "broken"}) {
		t.Errorf("--limit 2: %v, want endless, broken\n%s", got, r)
	}

	// The table cuts long summaries with an ellipsis; JSON has them whole.
	full := strs(records, "summary")
	if !strings.Contains(full[2], longBody[:100]) {
		t.Errorf("the JSON summary of fine is cut: %q", full[2])
	}
	shown := column(t, pic.ok("logs", app), "SUMMARY")
	for i, s := range shown {
		if utf8.RuneCountInString(full[i]) <= 60 {
			if s != full[i] {
				t.Errorf("the short summary %q is shown as %q", full[i], s)
			}
			continue
		}
		cut, ok := strings.CutSuffix(s, "…")
		if !ok {
			cut, ok = strings.CutSuffix(s, "...")
		}
		if !ok || !strings.HasPrefix(full[i], cut) || len(cut) < 20 || utf8.RuneCountInString(s) > 80 {
			t.Errorf("the long summary %q is shown as %q, want its start and an ellipsis", full[i], s)
		}
	}
	if !strings.HasSuffix(shown[2], "…") && !strings.HasSuffix(shown[2], "...") {
		t.Errorf("the summary of fine (%d characters) is not truncated in the table: %q", len(full[2]), shown[2])
	}

	// One record, with what the script printed.
	id := fmt.Sprint(records[2]["id"])
	r = pic.ok("logs", "show", id, "-o", "json")
	rec := jsonObject(t, r)
	if rec["id"] != id || rec["status"] != "ok" || !strings.Contains(fmt.Sprint(rec["output"]), "printed by fine") {
		t.Errorf("logs show %s: want the ok record with its output\n%s", id, r)
	}
}

func TestLogsUnknownID(t *testing.T) {
	refused(t, asAdmin(t).run("logs", "show", "01AAAAAAAAAAAAAAAAAAAAAAAA"), 404)
	_, token := createUser(t, "logs-nobody")
	refused(t, as(t, token).run("logs", "show", "01AAAAAAAAAAAAAAAAAAAAAAAA"), 404)
}
