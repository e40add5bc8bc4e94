package transfer

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// base is the fixture's clock, in the past: nanoseconds that PostgreSQL
// cannot keep, so that every copied time shows the truncation to
// microseconds.
var base = time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

// testKey seals the fixture's secrets, as a server's secret.key would.
var testKey = func() *secrets.Keyring {
	kr, err := secrets.NewKeyring([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	return kr
}()

// fixture is what populate made: the ids the comparisons look up.
type fixture struct {
	users   []store.User
	apps    []store.App
	scripts []store.Script
	jobs    []string
	// tokens are the sessions' token hashes.
	tokens []string
	// secret is the plain value of demo's secret TOKEN.
	secret string
}

// newSource creates a SQLite install in a temporary directory, fills it
// with populate and closes it, as a stopped server leaves it.
func newSource(t *testing.T) (path string, fx fixture) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "data", "picloud.db")
	st, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	fx = populate(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path, fx
}

// populate fills st through the store's API with a bit of everything a
// single-node install keeps: users (one deleted, so that the AUTOINCREMENT
// went past the highest id), sessions, API keys, two apps with limits and
// outbound policies, members, scripts with several versions, a rollback
// and a private script, releases, schedules enabled and disabled, jobs in every
// state, keys with and without expiry, sealed secrets, and invocation
// records with and without their HTTP exchange.
func populate(t *testing.T, st *sqlstore.Store) fixture {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var fx fixture

	for i, u := range []store.User{
		{Username: "admin", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", Role: store.RoleAdmin, CreatedAt: at(0)},
		{Username: "alice", PasswordHash: "$argon2id$alice", Role: store.RoleMember, CreatedAt: at(time.Second)},
		{Username: "bob", PasswordHash: "$argon2id$bob", Role: store.RoleMember, CreatedAt: at(3 * time.Second)},
		{Username: "carol", PasswordHash: "$argon2id$carol", Role: store.RoleMember},
	} {
		must("CreateUser", st.CreateUser(ctx, &u))
		if i == 3 {
			must("DeleteUser", st.DeleteUser(ctx, u.ID))
			continue
		}
		fx.users = append(fx.users, u)
	}
	admin, alice, bob := fx.users[0], fx.users[1], fx.users[2]

	for i, u := range []store.User{admin, alice} {
		tok := fmt.Sprintf("session-hash-%d", i)
		must("CreateSession", st.CreateSession(ctx, store.Session{TokenHash: tok, UserID: u.ID,
			CreatedAt: at(time.Duration(i) * time.Minute), ExpiresAt: time.Now().Add(7 * 24 * time.Hour)}))
		fx.tokens = append(fx.tokens, tok)
	}
	for i, name := range []string{"ci", "laptop"} {
		k := store.APIKey{UserID: admin.ID, Name: name, TokenHash: "key-hash-" + name, Prefix: "pck_" + name, CreatedAt: at(time.Duration(i) * time.Hour)}
		must("CreateAPIKey", st.CreateAPIKey(ctx, &k))
		if name == "ci" {
			must("TouchAPIKey", st.TouchAPIKey(ctx, k.ID, at(2*time.Hour+777)))
		}
	}

	for _, a := range []store.App{
		{Slug: "demo", Name: "Demo", Description: "The demo app: tabs\tand \"quotes\"",
			Limits:    store.AppLimits{TimeoutMS: 1500, MaxRunningJobs: 2, KVMaxKeys: 100},
			Outbound:  store.AppOutbound{Allow: []string{"api.example.com", "*.stripe.com"}, Private: []string{"10.0.0.0/8"}},
			CreatedAt: at(time.Minute)},
		{Slug: "other", Name: "Ünïcode 🚀"},
	} {
		must("CreateApp", st.CreateApp(ctx, &a))
		fx.apps = append(fx.apps, a)
	}
	demo, other := fx.apps[0], fx.apps[1]
	must("PutMember", st.PutMember(ctx, store.Member{AppID: demo.ID, UserID: alice.ID, Role: store.AppRoleEditor, CreatedAt: at(2 * time.Minute)}))
	must("PutMember", st.PutMember(ctx, store.Member{AppID: demo.ID, UserID: bob.ID, Role: store.AppRoleViewer}))
	must("PutMember", st.PutMember(ctx, store.Member{AppID: other.ID, UserID: bob.ID, Role: store.AppRoleEditor}))

	deploy := func(app store.App, name, source string, user int64) store.Script {
		t.Helper()
		sc, _, err := st.DeployScript(ctx, app.ID, name, source, user)
		must("DeployScript", err)
		return sc
	}
	for v := 1; v <= 3; v++ {
		deploy(demo, "hello", fmt.Sprintf(`"v%d"`, v), alice.ID)
	}
	hello, _, err := st.RollbackScript(ctx, mustScript(t, st, demo.ID, "hello").ID, 1, admin.ID)
	must("RollbackScript", err)
	private := true
	lib, _, err := st.DeployScriptAs(ctx, store.Deploy{AppID: demo.ID, Name: "lib", Source: "fn f() { 1 }", UserID: admin.ID, Private: &private})
	must("DeployScriptAs", err)
	hook := deploy(demo, "hook", `request.body`, admin.ID)
	must("SetScriptMaxAttempts", st.SetScriptMaxAttempts(ctx, hook.ID, 5))
	count := deploy(other, "count", `kv::incr("n")`, bob.ID)
	fx.scripts = []store.Script{hello, lib, hook, count}
	// Releases: one by a user, one (a rollback) by none.
	for _, r := range []store.Release{
		{AppID: demo.ID, Message: "first", CreatedBy: alice.ID, CreatedAt: at(3 * time.Minute),
			Scripts: []store.ReleaseScript{{ScriptID: hello.ID, Name: "hello", Version: 3}},
			Changes: []store.ReleaseChange{{Action: "update", Kind: "script", Name: "hello", Detail: "v2 → v3"}}},
		{AppID: demo.ID, RolledBackFrom: 1, Scripts: []store.ReleaseScript{{ScriptID: hello.ID, Name: "hello", Version: 4}}},
	} {
		must("CreateRelease", st.CreateRelease(ctx, &r))
	}
	// A canary of the second release, decided (a decision time).
	must("CreateCanary", st.CreateCanary(ctx, &store.Canary{AppID: demo.ID, ReleaseID: 2, BaseRelease: 1, Percent: 10,
		Window: time.Minute, MinRequests: 5, State: store.CanaryRunning, StartedAt: at(4 * time.Minute), EndsAt: at(5 * time.Minute)}))
	must("AddCanaryCounts", st.AddCanaryCounts(ctx, []store.CanaryDelta{{AppID: demo.ID, ReleaseID: 2,
		Base: store.CanaryCounts{Total: 9, Errors: 1}, Candidate: store.CanaryCounts{Total: 3, Errors: 3}}}))
	if _, err := st.EndCanary(ctx, demo.ID, 2, store.CanaryRolledBack, "errors", at(5*time.Minute)); err != nil {
		must("EndCanary", err)
	}

	// Schedules: enabled and due later (a next run in nanoseconds), one
	// disabled (no next run), and one fired once (a last run and a job).
	for _, sc := range []store.Schedule{
		{AppID: demo.ID, ScriptID: hook.ID, Cron: "*/5 * * * *", Timezone: "Europe/Paris", Payload: `{"n":1}`, Enabled: true, NextRun: at(5 * time.Minute)},
		{AppID: demo.ID, ScriptID: hello.ID, Cron: "0 0 * * *", Timezone: "UTC", Enabled: false},
		{AppID: other.ID, ScriptID: count.ID, Cron: "@hourly", Timezone: "UTC", Enabled: true, NextRun: at(-time.Hour)},
	} {
		must("CreateSchedule", st.CreateSchedule(ctx, &sc))
		if sc.AppID == other.ID {
			fired, err := st.FireSchedule(ctx, store.ScheduleFiring{ScheduleID: sc.ID, Due: sc.NextRun, FireAt: sc.NextRun,
				Next: at(59 * time.Minute), JobID: "job-fired", RunAt: at(-time.Hour)})
			must("FireSchedule", err)
			if !fired {
				t.Fatal("FireSchedule did not fire")
			}
		}
	}

	// Jobs in every state. Each is claimed alone: the one due.
	enqueue := func(id string, app store.App, script string, runAt time.Time, req []byte) {
		t.Helper()
		j := store.Job{ID: id, AppID: app.ID, Script: script, Trigger: store.TriggerAsync, MaxAttempts: 3, RunAt: runAt, Request: req}
		must("EnqueueJob "+id, st.EnqueueJob(ctx, &j, 0))
		fx.jobs = append(fx.jobs, id)
	}
	claimFinish := func(id, state string, retryAt time.Time) store.Job {
		t.Helper()
		j, err := st.ClaimJob(ctx, "node-1", at(0), at(10*time.Minute), 0)
		must("ClaimJob", err)
		if j.ID != id {
			t.Fatalf("ClaimJob took %s, want %s", j.ID, id)
		}
		if state == store.JobRunning {
			return j
		}
		inv := store.Invocation{ID: "inv-" + id, AppID: j.AppID, Script: j.Script, Version: 1, Trigger: store.TriggerAsync,
			StartedAt: at(time.Second), Duration: 1234567, Status: store.StatusOK, HTTPStatus: 200, JobID: j.ID, Attempt: j.Attempts,
			Request: &store.HTTPRequest{Method: "POST", Body: []byte(`{"async":true}`), BodySize: 14}}
		if state != store.JobOK {
			inv.Status, inv.HTTPStatus = store.StatusError, 500
		}
		ok, err := st.FinishJob(ctx, j, state, retryAt, inv)
		must("FinishJob", err)
		if !ok {
			t.Fatalf("FinishJob %s lost its claim", id)
		}
		return j
	}
	// The fired schedule's job comes first: it is the oldest due.
	fx.jobs = append(fx.jobs, "job-fired")
	claimFinish("job-fired", store.JobOK, time.Time{})
	enqueue("job-ok", demo, "hook", at(-time.Minute), []byte(`{"m":"POST"}`))
	claimFinish("job-ok", store.JobOK, time.Time{})
	enqueue("job-retry", demo, "hook", at(-time.Minute), []byte(`{"m":"PUT"}`))
	claimFinish("job-retry", store.JobError, at(time.Hour+1))
	enqueue("job-dead", other, "count", at(-time.Minute), []byte(`{"m":"GET"}`))
	claimFinish("job-dead", store.JobDead, time.Time{})
	enqueue("job-running", demo, "hook", at(-time.Minute), []byte("\x00\xffbinary"))
	claimFinish("job-running", store.JobRunning, time.Time{})
	// Due at once (a zero RunAt), and due later: both queued.
	enqueue("job-now", other, "count", time.Time{}, nil)
	enqueue("job-later", demo, "hook", at(24*time.Hour), []byte(`{}`))

	// Keys: plain, expiring, counted, and one already expired (still a row).
	lim := store.KVLimits{}
	must("KVSet", st.KVSet(ctx, demo.ID, "greeting", []byte(`"héllo"`), time.Time{}, lim, at(0)))
	must("KVSet", st.KVSet(ctx, demo.ID, "config", []byte(`{"b":[1,2.50,{"z":null}],"a":true}`), time.Time{}, lim, at(0)))
	must("KVSet", st.KVSet(ctx, demo.ID, "session:1", []byte(`{"user":"alice"}`), time.Now().Add(48*time.Hour+555), lim, at(0)))
	must("KVSet", st.KVSet(ctx, demo.ID, "gone", []byte(`1`), at(time.Second), lim, at(0)))
	_, err = st.KVIncr(ctx, other.ID, "n", 41, lim, at(0))
	must("KVIncr", err)

	fx.secret = "s3cr3t value"
	for _, s := range []struct {
		app   store.App
		name  string
		value string
	}{{demo, "TOKEN", fx.secret}, {demo, "API_KEY", "key"}, {other, "TOKEN", "other's"}} {
		sealed, err := testKey.Seal(s.app.ID, s.name, []byte(s.value))
		must("Seal", err)
		_, err = st.PutSecret(ctx, &store.Secret{AppID: s.app.ID, Name: s.name, Sealed: sealed, UpdatedAt: at(3 * time.Minute)}, 0)
		must("PutSecret", err)
	}

	// Invocation records: an HTTP request with its exchange (and a body
	// that is not UTF-8), a failed one, a schedule's run without one.
	header := http.Header{"Content-Type": {"application/json"}, "X-Trace": {"a", "b"}}
	must("InsertInvocations", st.InsertInvocations(ctx, []store.Invocation{
		{ID: "inv-http-1", AppID: demo.ID, Script: "hello", Version: 4, Trigger: store.TriggerHTTP, StartedAt: at(10 * time.Second),
			Duration: 412345, Status: store.StatusOK, HTTPStatus: 200, Operations: 17, Summary: "200 text/plain, 2 B: v1", Output: "printed\nlines",
			Request:  &store.HTTPRequest{Method: "GET", Path: "/a/b", Query: "x=1&y=2", Header: header, Host: "pi.local", Body: []byte{0xff, 0x00, 'x'}, BodySize: 3},
			Response: &store.HTTPResponse{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("v1"), BodySize: 2}},
		{ID: "inv-http-2", AppID: demo.ID, Script: "hook", Version: 1, Trigger: store.TriggerHTTP, StartedAt: at(11 * time.Second),
			Duration: 5 * time.Millisecond, Status: store.StatusError, HTTPStatus: 500, Summary: "error: boom",
			Request:  &store.HTTPRequest{Method: "POST", Body: []byte(`{"big":"…`), BodySize: 1 << 20, BodyTruncated: true},
			Response: &store.HTTPResponse{Status: 500}},
		{ID: "inv-sched-1", AppID: other.ID, Script: "count", Version: 1, Trigger: store.TriggerSchedule, StartedAt: at(12 * time.Second),
			Duration: time.Millisecond, Status: store.StatusOK, HTTPStatus: 200, Summary: "42"},
	}))

	// The audit log: a change of an app, a failed login of no one.
	for _, e := range []store.AuditEntry{
		{At: at(13 * time.Second), ActorID: alice.ID, Actor: "alice", Address: "192.0.2.7", Action: "secret.put",
			ObjectKind: "secret", ObjectName: "TOKEN", App: "demo", Outcome: store.AuditOK, Details: `{"method":"PUT","status":201}`},
		{Actor: "mallory", Address: "2001:db8::1", Action: "auth.login", ObjectKind: "session", ObjectName: "mallory",
			Outcome: store.AuditFailed, Reason: "invalid username or password"},
	} {
		must("InsertAudit", st.InsertAudit(ctx, &e))
	}
	return fx
}

func mustScript(t *testing.T, st store.Store, appID int64, name string) store.Script {
	t.Helper()
	sc, err := st.GetScript(context.Background(), appID, name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
