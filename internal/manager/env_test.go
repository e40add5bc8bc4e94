package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/auth"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// cheapHash keeps the tests fast; the parameters are encoded in each hash,
// so verification follows them.
var cheapHash = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// The roles of the seeded users, as scenarios name them. "editor-key" is
// the editor's API key.
const (
	asAdmin     = "admin"
	asEditor    = "editor"
	asViewer    = "viewer"
	asOutsider  = "outsider"
	asAnonymous = ""
	asEditorKey = "editor-key"
)

// env is a manager over a fresh database of one backend, seeded with:
//
//	users    admin (admin), editor, viewer, outsider (members);
//	         the password of each is "password-" + its name
//	apps     demo (editor: editor, viewer: viewer), other (no members)
//	scripts  demo/hello (versions 1 and 2), other/secret (version 1)
//	releases demo: 1, with hello at version 1
//	logs     inv-demo-ok, inv-demo-error (demo/hello), inv-other (other/secret)
//	schedules demo/hello every 5 minutes (schedules["demo"]), other/secret
//	         hourly (schedules["other"])
//	jobs     job-demo-dead (demo/hello, async, dead after 3 attempts, the
//	         last inv-demo-dead-3), job-demo-queued (demo/hello), job-other-dead
//	         (other/secret, schedule)
//	secrets  demo: DEMO_TOKEN, other: OTHER_TOKEN (values in seededSecrets)
//	keys     demo: greeting = "hello", user/1 = {"name":"ann"}; other: secret = 1
//	tokens   a session per user, an API key for editor
type env struct {
	t      *testing.T
	st     store.Store
	bus    *events.Local
	m      *Manager
	srv    *httptest.Server
	tokens map[string]string
	users  map[string]store.User
	apps   map[string]store.App
	keyID  int64 // of the editor's API key
	// schedules are the seeded schedules' ids, by app slug.
	schedules map[string]int64

	mu     sync.Mutex
	events []events.Event
}

// fixture is the seeded database every env of a backend starts from: it
// is built once and copied for each test, as a pocketbase test app is
// cloned from its fixtures (see dbtest.Fixture).
type fixture struct {
	db        *dbtest.Fixture
	tokens    map[string]string
	users     map[string]store.User
	apps      map[string]store.App
	keyID     int64
	schedules map[string]int64
}

// fixtures are the seeded databases, by backend, built on first use.
var fixtures = map[dbtest.Backend]*fixture{}

func init() {
	for _, b := range []dbtest.Backend{dbtest.SQLite, dbtest.Postgres} {
		f := &fixture{tokens: map[string]string{}, users: map[string]store.User{}, apps: map[string]store.App{},
			schedules: map[string]int64{}}
		f.db = dbtest.NewFixture(b, f.seed)
		fixtures[b] = f
	}
}

func TestMain(m *testing.M) { dbtest.Main(m) }

func newEnv(t *testing.T, b dbtest.Backend) *env {
	t.Helper()
	f := fixtures[b]
	st := f.db.Open(t)
	e := &env{t: t, st: st, tokens: maps.Clone(f.tokens), users: f.users, apps: f.apps, keyID: f.keyID, schedules: f.schedules}
	bus := events.NewLocal()
	e.bus = bus
	bus.Subscribe(func(ev events.Event) {
		e.mu.Lock()
		e.events = append(e.events, ev)
		e.mu.Unlock()
	})
	e.m = newManager(st, bus)
	e.srv = httptest.NewServer(e.m.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func newManager(st store.Store, bus events.Bus) *Manager {
	m := New(Config{Store: st, Bus: bus, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Secrets: testKeyring})
	m.hashParams = cheapHash
	return m
}

// seed fills the fixture's database (see env) and notes what the tests
// need to know of it.
func (f *fixture) seed(ctx context.Context, st store.Store) error {
	for _, u := range []struct{ name, role string }{
		{asAdmin, store.RoleAdmin}, {asEditor, store.RoleMember}, {asViewer, store.RoleMember}, {asOutsider, store.RoleMember},
	} {
		hash, err := auth.HashPasswordWith("password-"+u.name, cheapHash)
		if err != nil {
			return err
		}
		rec := store.User{Username: u.name, PasswordHash: hash, Role: u.role}
		if err := st.CreateUser(ctx, &rec); err != nil {
			return err
		}
		f.users[u.name] = rec
	}
	for _, slug := range []string{"demo", "other"} {
		a := store.App{Slug: slug, Name: slug}
		if err := st.CreateApp(ctx, &a); err != nil {
			return err
		}
		f.apps[slug] = a
	}
	demo, other := f.apps["demo"], f.apps["other"]
	for _, m := range []store.Member{
		{AppID: demo.ID, UserID: f.users[asEditor].ID, Role: store.AppRoleEditor},
		{AppID: demo.ID, UserID: f.users[asViewer].ID, Role: store.AppRoleViewer},
	} {
		if err := st.PutMember(ctx, m); err != nil {
			return err
		}
	}
	admin := f.users[asAdmin].ID
	for _, d := range []struct {
		app    int64
		name   string
		source string
	}{
		{demo.ID, "hello", `"hello v1"`},
		{demo.ID, "hello", `"hello v2"`},
		{other.ID, "secret", `"secret v1"`},
	} {
		if _, _, err := st.DeployScript(ctx, d.app, d.name, d.source, admin); err != nil {
			return err
		}
	}
	if err := seedRelease(ctx, st, demo.ID, admin); err != nil {
		return err
	}
	start := time.Now().Add(-time.Minute).UTC()
	err := st.InsertInvocations(ctx, []store.Invocation{
		{ID: "inv-demo-ok", AppID: demo.ID, AppSlug: "demo", Script: "hello", Version: 2, Trigger: store.TriggerHTTP,
			StartedAt: start, Duration: 1500 * time.Microsecond, Status: store.StatusOK, HTTPStatus: 200, Operations: 7,
			Summary: "200 text/plain", Output: "printed-demo-ok"},
		{ID: "inv-demo-error", AppID: demo.ID, AppSlug: "demo", Script: "hello", Version: 2, Trigger: store.TriggerHTTP,
			StartedAt: start.Add(time.Second), Duration: time.Millisecond, Status: store.StatusError, HTTPStatus: 500,
			Summary: "boom", Output: "printed-demo-error"},
		{ID: "inv-other", AppID: other.ID, AppSlug: "other", Script: "secret", Version: 1, Trigger: store.TriggerHTTP,
			StartedAt: start, Duration: time.Millisecond, Status: store.StatusOK, HTTPStatus: 200, Summary: "secret-summary",
			Output: "printed-other"},
	})
	if err != nil {
		return err
	}
	if err := seedQueue(ctx, st, f, start); err != nil {
		return err
	}
	if err := seedSecrets(ctx, st, f); err != nil {
		return err
	}
	if err := seedKV(ctx, st, f, start); err != nil {
		return err
	}

	// Sessions through the real login endpoint; the API key straight into
	// the store.
	h := newManager(st, nil).Handler()
	for _, name := range []string{asAdmin, asEditor, asViewer, asOutsider} {
		body, _ := json.Marshal(map[string]string{"username": name, "password": "password-" + name})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(string(body))))
		var out struct{ Token string }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != http.StatusOK || err != nil || out.Token == "" {
			return fmt.Errorf("login %s: %d %s", name, rec.Code, rec.Body)
		}
		f.tokens[name] = out.Token
	}
	key, err := auth.NewAPIKeyToken()
	if err != nil {
		return err
	}
	k := store.APIKey{UserID: f.users[asEditor].ID, Name: "editor-ci", TokenHash: auth.HashToken(key), Prefix: auth.DisplayPrefix(key)}
	if err := st.CreateAPIKey(ctx, &k); err != nil {
		return err
	}
	f.tokens[asEditorKey], f.keyID = key, k.ID
	return nil
}

// seedRelease adds release 1 of demo, which made hello's version 1 live.
func seedRelease(ctx context.Context, st store.Store, demo, admin int64) error {
	hello, err := st.GetScript(ctx, demo, "hello")
	if err != nil {
		return err
	}
	return st.CreateRelease(ctx, &store.Release{AppID: demo, Message: "first", CreatedBy: admin,
		Scripts: []store.ReleaseScript{{ScriptID: hello.ID, Name: "hello", Version: 1}},
		Changes: []store.ReleaseChange{{Action: "create", Kind: "script", Name: "hello", Detail: "v1, public"}}})
}

// seedQueue adds the fixture's schedules and jobs.
func seedQueue(ctx context.Context, st store.Store, f *fixture, start time.Time) error {
	// Before the seeded logs, so that lists of those begin as they did.
	start = start.Add(-10 * time.Minute)
	demo, other := f.apps["demo"], f.apps["other"]
	for _, s := range []struct{ app, script, cron string }{
		{"demo", "hello", "*/5 * * * *"},
		{"other", "secret", "@hourly"},
	} {
		a := f.apps[s.app]
		sc, err := st.GetScript(ctx, a.ID, s.script)
		if err != nil {
			return err
		}
		rec := store.Schedule{AppID: a.ID, ScriptID: sc.ID, Cron: s.cron, Timezone: "UTC", Enabled: true,
			NextRun: start.Add(2 * time.Hour).Truncate(time.Hour)}
		if err := st.CreateSchedule(ctx, &rec); err != nil {
			return err
		}
		f.schedules[s.app] = rec.ID
	}
	// job-demo-dead fails three times; job-other-dead once, on a
	// one-attempt schedule job.
	jobs := []struct {
		job   store.Job
		fails int
	}{
		{store.Job{ID: "job-demo-dead", AppID: demo.ID, Script: "hello", Trigger: store.TriggerAsync, MaxAttempts: 3,
			RunAt: start, Request: []byte(`{"method":"POST"}`), CreatedAt: start}, 3},
		{store.Job{ID: "job-other-dead", AppID: other.ID, Script: "secret", Trigger: store.TriggerSchedule, MaxAttempts: 1,
			RunAt: start, ScheduleID: f.schedules["other"], ScheduledAt: start, CreatedAt: start}, 1},
	}
	for _, j := range jobs {
		if err := st.EnqueueJob(ctx, &j.job, 0); err != nil {
			return err
		}
		for n := 1; n <= j.fails; n++ {
			c, err := st.ClaimJob(ctx, "fixture", start, start.Add(time.Hour), 0)
			if err != nil {
				return err
			}
			state := store.JobError
			if n == j.fails {
				state = store.JobDead
			}
			slug := "demo"
			if c.AppID == other.ID {
				slug = "other"
			}
			inv := store.Invocation{ID: fmt.Sprintf("inv-%s-%d", c.ID[4:], n), AppID: c.AppID, AppSlug: slug, Script: c.Script,
				Version: 1, Trigger: c.Trigger, StartedAt: start.Add(time.Duration(n) * time.Second), Status: store.StatusError,
				HTTPStatus: 500, Summary: fmt.Sprintf("ErrorRuntime: boom %d", n), Output: "printed-attempt", JobID: c.ID, Attempt: n}
			if _, err := st.FinishJob(ctx, c, state, start, inv); err != nil {
				return err
			}
		}
	}
	queued := store.Job{ID: "job-demo-queued", AppID: demo.ID, Script: "hello", Trigger: store.TriggerAsync, MaxAttempts: 3,
		RunAt: start.Add(time.Hour), Request: []byte(`{"method":"POST"}`), CreatedAt: start.Add(time.Second)}
	return st.EnqueueJob(ctx, &queued, 0)
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// login returns a session token for the user, failing the test otherwise.
func (e *env) login(username, password string) string {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	res := e.do("POST", "/api/v1/auth/login", string(body), "", "application/json")
	if res.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", username, res.status, res.body)
	}
	var out struct{ Token string }
	res.decode(e.t, &out)
	return out.Token
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
}

// do sends a request with the token of as (a role name, or a raw token
// when it contains an underscore).
func (e *env) do(method, path, body, as, contentType string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if as != "" {
		token, ok := e.tokens[as]
		if !ok {
			token = as
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (e *env) clearEvents() {
	e.mu.Lock()
	e.events = nil
	e.mu.Unlock()
}

func (e *env) published() []events.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]events.Event(nil), e.events...)
}

// Store checks used by the scenarios.

func (e *env) versions(slug, name string) int {
	e.t.Helper()
	s, err := e.st.GetScript(context.Background(), e.apps[slug].ID, name)
	if err != nil {
		return 0
	}
	vs, err := e.st.ListVersions(context.Background(), s.ID)
	e.must(err)
	return len(vs)
}

func (e *env) appExists(slug string) bool {
	_, err := e.st.GetApp(context.Background(), slug)
	return err == nil
}

func (e *env) userExists(name string) bool {
	_, err := e.st.GetUserByName(context.Background(), name)
	return err == nil
}

func (e *env) memberRole(slug, username string) string {
	a, err := e.st.GetApp(context.Background(), slug)
	if err != nil {
		return ""
	}
	m, err := e.st.GetMember(context.Background(), a.ID, e.users[username].ID)
	if err != nil {
		return ""
	}
	return m.Role
}

// openStore opens an empty database.
func openStore(t *testing.T, b dbtest.Backend) store.Store {
	t.Helper()
	return dbtest.Open(t, b)
}
