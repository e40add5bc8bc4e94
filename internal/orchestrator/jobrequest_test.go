package orchestrator

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/clock"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// The credentials an attacker who reads the database must not find in an
// async job's row, and the values the script must still see.
var (
	credentialHeaders = map[string]string{
		"Authorization":       "Bearer tok-3f9a1c",
		"Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
		"Cookie":              "sid=cookie-77d2e1",
		"X-Api-Key":           "apikey-5b8e0d",
		"X-Auth-Token":        "authtok-c41f9e",
	}
	// echoHeaders answers the headers the script sees, and the body.
	echoHeaders = `request.headers["authorization"] + "|" + request.headers["cookie"] + "|" +
		request.headers["x-api-key"] + "|" + request.headers["x-trace"] + "|" + request.body`
)

// rawRequest is the jobs row's request column as stored, read with SQL.
func rawRequest(t *testing.T, d dbtest.DB, id string) []byte {
	t.Helper()
	return d.Raw(t, "SELECT request FROM jobs WHERE id = '"+id+"'")
}

func queueWithCredentials(t *testing.T, e *testEnv, target string) string {
	t.Helper()
	h := map[string]string{"X-Trace": "trace-0a1b"}
	for k, v := range credentialHeaders {
		h[k] = v
	}
	return accepted(t, e.do("POST", target, strings.NewReader("body-9d8c7b"), h))
}

// TestJobRequestSealed: with a secret key, the stored request is sealed:
// no header value nor the body is in the row in clear, the script still
// sees every header, and the request is gone once the job ended.
func TestJobRequestSealed(t *testing.T) { dbtest.Run(t, testJobRequestSealed) }

func testJobRequestSealed(t *testing.T, b dbtest.Backend) {
	d := dbtest.NewDB(t, b)
	e := newEnvWith(t, d.Open(t), Config{Secrets: keyring(t, 1)})
	e.deploy("demo", "echo", echoHeaders)
	id := queueWithCredentials(t, e, "/fn/demo/echo?async=1")

	raw := rawRequest(t, d, id)
	if len(raw) == 0 {
		t.Fatal("no stored request")
	}
	for _, v := range append(values(credentialHeaders), "trace-0a1b", "body-9d8c7b") {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("the stored request holds %q in clear: %q", v, raw)
		}
	}

	ran := watch(e.orch)
	start(t, e.orch)
	if f := ran.next(t); f.state != store.JobOK {
		t.Fatalf("attempt %+v, want ok", f)
	}
	inv := e.attemptsOf(id)[0]
	want := "Bearer tok-3f9a1c|sid=cookie-77d2e1|apikey-5b8e0d|trace-0a1b|body-9d8c7b"
	if !strings.Contains(inv.Summary, want) {
		t.Errorf("the script saw %q, want %q", inv.Summary, want)
	}
	if raw := rawRequest(t, d, id); raw != nil {
		t.Errorf("the request of a job that ended is still stored: %q", raw)
	}
}

// TestJobRequestWithoutKey: without a secret key, the credential headers
// are left out of the stored request (the scripts of async calls do not
// get them), and the rest is kept.
func TestJobRequestWithoutKey(t *testing.T) { dbtest.Run(t, testJobRequestWithoutKey) }

func testJobRequestWithoutKey(t *testing.T, b dbtest.Backend) {
	d := dbtest.NewDB(t, b)
	e := newEnvWith(t, d.Open(t), Config{})
	e.deploy("demo", "echo", echoHeaders)
	id := queueWithCredentials(t, e, "/fn/demo/echo?async=1")

	raw := rawRequest(t, d, id)
	for _, v := range values(credentialHeaders) {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("the stored request holds %q in clear: %s", v, raw)
		}
	}
	if !bytes.Contains(raw, []byte("trace-0a1b")) {
		t.Errorf("the stored request lost a header that is no credential: %s", raw)
	}

	ran := watch(e.orch)
	start(t, e.orch)
	if f := ran.next(t); f.state != store.JobOK {
		t.Fatalf("attempt %+v, want ok", f)
	}
	if s := e.attemptsOf(id)[0].Summary; !strings.Contains(s, "|||trace-0a1b|body-9d8c7b") {
		t.Errorf("the script saw %q, want no credentials and the rest", s)
	}
}

// TestJobRequestWrongKey: a job queued under one key and run by a server
// with another fails with a clear error in its log, and the server goes
// on; a sealed request without any key fails the same way.
func TestJobRequestWrongKey(t *testing.T) { dbtest.Run(t, testJobRequestWrongKey) }

func testJobRequestWrongKey(t *testing.T, b dbtest.Backend) {
	d := dbtest.NewDB(t, b)
	st := d.Open(t)
	queuer := newEnvWith(t, st, Config{Secrets: keyring(t, 1)})
	queuer.deploy("demo", "echo", echoHeaders)
	id := queueWithCredentials(t, queuer, "/fn/demo/echo?async=1")

	// Each server runs on a clock past the previous one's retry time.
	for i, tc := range []struct {
		name string
		keys *secrets.Keyring
		want string
	}{
		{"another key", keyring(t, 2), "cannot be opened: secrets: sealed with another key"},
		{"no key", nil, "is sealed, and this server has no secret key to open it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := clock.NewFake(time.Now().Add(time.Duration(i+1) * time.Hour))
			e := newEnvWith(t, st, Config{Secrets: tc.keys, Workers: 1, Clock: fake})
			ran := watch(e.orch)
			start(t, e.orch)
			if f := ran.next(t); f.job != id || f.state != store.JobError {
				t.Fatalf("attempt %+v, want %s failed", f, id)
			}
			e.orch.Close(context.Background())
			inv := e.attemptsOf(id)[0]
			if inv.Status != store.StatusError || !strings.Contains(inv.Summary, tc.want) {
				t.Errorf("attempt record %q (%s), want an error saying %q", inv.Summary, inv.Status, tc.want)
			}
			// The job waits for its retry, its request kept for it.
			if raw := rawRequest(t, d, id); len(raw) == 0 {
				t.Error("the request of a job awaiting its retry was dropped")
			}
		})
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestRetryDeadJobFromRecord: a dead job lost its stored request; retried,
// it runs with the request its last attempt recorded, without the
// credential headers, which were never recorded.
func TestRetryDeadJobFromRecord(t *testing.T) { dbtest.Run(t, testRetryDeadJobFromRecord) }

func testRetryDeadJobFromRecord(t *testing.T, b dbtest.Backend) {
	d := dbtest.NewDB(t, b)
	e := newEnvWith(t, d.Open(t), Config{Secrets: keyring(t, 1)})
	e.deploy("demo", "fail", `throw "saw " + `+echoHeaders)
	sc, err := e.st.GetScript(context.Background(), e.apps["demo"].ID, "fail")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetScriptMaxAttempts(context.Background(), sc.ID, 1); err != nil {
		t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.ScriptChanged, Key: "demo/fail"})
	ran := watch(e.orch)
	start(t, e.orch)
	id := queueWithCredentials(t, e, "/fn/demo/fail?async=1")
	if f := ran.next(t); f.state != store.JobDead {
		t.Fatalf("attempt %+v, want dead", f)
	}
	if raw := rawRequest(t, d, id); raw != nil {
		t.Errorf("the request of a dead job is still stored: %q", raw)
	}
	if _, err := e.st.RetryJob(context.Background(), id, e.orch.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.orch.jobQueued(id)
	if f := ran.next(t); f.state != store.JobDead {
		t.Fatalf("retried attempt %+v, want dead again", f)
	}
	invs := e.attemptsOf(id) // newest first
	if len(invs) != 2 {
		t.Fatalf("%d attempts, want 2", len(invs))
	}
	if s := invs[1].Summary; !strings.Contains(s, "saw Bearer tok-3f9a1c|sid=cookie-77d2e1|apikey-5b8e0d|trace-0a1b|body-9d8c7b") {
		t.Errorf("first attempt %q, want every header", s)
	}
	if s := invs[0].Summary; !strings.Contains(s, "saw |||trace-0a1b|body-9d8c7b") {
		t.Errorf("retried attempt %q, want the recorded request without credentials", s)
	}
}
