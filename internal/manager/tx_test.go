package manager

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// errInjected is the failure faultStore injects.
var errInjected = errors.New("injected failure")

// faultStore is a real store whose method named fail fails, inside
// transactions too: the second write of a multi-step change fails, and
// the test checks that nothing of the first remains.
type faultStore struct {
	store.Store
	fail string
}

func (f faultStore) RunInTx(ctx context.Context, fn func(tx store.Store) error) error {
	return f.Store.RunInTx(ctx, func(tx store.Store) error { return fn(faultStore{tx, f.fail}) })
}

func (f faultStore) PutMember(ctx context.Context, m store.Member) error {
	if f.fail == "PutMember" {
		return errInjected
	}
	return f.Store.PutMember(ctx, m)
}

func (f faultStore) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	if f.fail == "DeleteUserSessions" {
		return errInjected
	}
	return f.Store.DeleteUserSessions(ctx, userID, keep)
}

func (f faultStore) DeleteUser(ctx context.Context, id int64) error {
	if f.fail == "DeleteUser" {
		return errInjected
	}
	return f.Store.DeleteUser(ctx, id)
}

func (f faultStore) Notify(ctx context.Context, channel, payload string) error {
	if f.fail == "Notify" {
		return errInjected
	}
	return f.Store.Notify(ctx, channel, payload)
}

// notifyingBus is an in-process bus that, like pgbus, sends its events
// through the database's NOTIFY in the transaction of the change.
type notifyingBus struct{ *events.Local }

func (b notifyingBus) Notification(e events.Event) (string, string, error) {
	p, err := json.Marshal(e)
	return "picloud_test", string(p), err
}

func (b notifyingBus) Deliver(e events.Event) { b.Local.Publish(e) }

// failing serves e's API from a manager whose store fails at method.
func (e *env) failing(method string) {
	e.t.Helper()
	e.m = newManager(faultStore{e.st, method}, e.bus)
	e.srv.Close()
	e.srv = httptest.NewServer(e.m.Handler())
	e.t.Cleanup(e.srv.Close)
}

func TestMultiStepChangesAreAtomic(t *testing.T) { dbtest.Run(t, testMultiStepChangesAreAtomic) }

func testMultiStepChangesAreAtomic(t *testing.T, b dbtest.Backend) {
	ctx := context.Background()
	t.Run("app and its creator's membership", func(t *testing.T) {
		e := newEnv(t, b)
		e.failing("PutMember")
		res := e.do("POST", "/api/v1/apps", `{"slug": "half-made"}`, asEditor, "application/json")
		if res.status != 500 {
			t.Fatalf("create with a failing membership: %d %s", res.status, res.body)
		}
		if e.appExists("half-made") {
			t.Fatal("the app stayed without its creator's membership")
		}
		// The same request succeeds once the store does.
		e.failing("")
		if res := e.do("POST", "/api/v1/apps", `{"slug": "half-made"}`, asEditor, "application/json"); res.status != 201 {
			t.Fatalf("create again: %d %s", res.status, res.body)
		}
		if got := e.memberRole("half-made", asEditor); got != store.AppRoleEditor {
			t.Fatalf("creator's role %q", got)
		}
	})
	t.Run("password and the sessions it ends", func(t *testing.T) {
		e := newEnv(t, b)
		other := e.login(asViewer, "password-viewer")
		before, err := e.st.GetUserByName(ctx, asViewer)
		if err != nil {
			t.Fatal(err)
		}
		e.failing("DeleteUserSessions")
		res := e.do("PUT", "/api/v1/users/viewer/password", `{"password": "new-password-1"}`, asAdmin, "application/json")
		if res.status != 500 {
			t.Fatalf("reset with failing session ends: %d %s", res.status, res.body)
		}
		after, err := e.st.GetUserByName(ctx, asViewer)
		if err != nil {
			t.Fatal(err)
		}
		if after.PasswordHash != before.PasswordHash {
			t.Fatal("the password changed while the sessions it should end stayed")
		}
		if res := e.do("GET", "/api/v1/whoami", "", other, ""); res.status != 200 {
			t.Fatalf("the untouched session: %d", res.status)
		}
		// The offline reset (picloud admin reset-password) likewise.
		err = CreateOrResetUser(ctx, faultStore{e.st, "DeleteUserSessions"}, asViewer, "new-password-2", store.RoleMember)
		if !errors.Is(err, errInjected) {
			t.Fatalf("offline reset: %v", err)
		}
		if after, _ := e.st.GetUserByName(ctx, asViewer); after.PasswordHash != before.PasswordHash {
			t.Fatal("the offline reset changed the password while the sessions stayed")
		}
	})
	t.Run("deploy and the event that tells the caches", func(t *testing.T) {
		if b != dbtest.Postgres {
			return // events travel through the database only in PostgreSQL
		}
		e := newEnv(t, b)
		before := e.versions("demo", "hello")
		e.m = newManager(faultStore{e.st, "Notify"}, notifyingBus{e.bus})
		e.srv.Close()
		e.srv = httptest.NewServer(e.m.Handler())
		e.clearEvents()
		res := e.do("PUT", "/api/v1/apps/demo/scripts/hello", `{"source": "\"v-next\""}`, asEditor, "application/json")
		if res.status != 500 {
			t.Fatalf("deploy with a failing event: %d %s", res.status, res.body)
		}
		if got := e.versions("demo", "hello"); got != before {
			t.Fatalf("versions %d after a deploy whose event failed, want %d", got, before)
		}
		if evs := e.published(); len(evs) != 0 {
			t.Fatalf("events of a failed deploy: %v", evs)
		}
		// With the database's NOTIFY working, the deploy and its event go.
		e.m = newManager(e.st, notifyingBus{e.bus})
		e.srv.Close()
		e.srv = httptest.NewServer(e.m.Handler())
		if res := e.do("PUT", "/api/v1/apps/demo/scripts/hello", `{"source": "\"v-next\""}`, asEditor, "application/json"); res.status != 200 {
			t.Fatalf("deploy: %d %s", res.status, res.body)
		}
		if got := e.versions("demo", "hello"); got != before+1 {
			t.Fatalf("versions %d, want %d", got, before+1)
		}
		if evs := e.published(); len(evs) != 1 || evs[0].Key != "demo/hello" {
			t.Fatalf("events of the deploy: %v", evs)
		}
	})
	t.Run("the last administrator", func(t *testing.T) {
		e := newEnv(t, b)
		// Make a second administrator, then have each delete the other at
		// once: one deletion wins, the other is refused.
		if err := CreateOrResetUser(ctx, e.st, "admin2", "password-admin2", store.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		second := e.login("admin2", "password-admin2")
		codes := make(chan int, 2)
		go func() { codes <- e.do("DELETE", "/api/v1/users/admin2", "", asAdmin, "").status }()
		go func() { codes <- e.do("DELETE", "/api/v1/users/admin", "", second, "").status }()
		a, c := <-codes, <-codes
		n, err := e.st.CountAdmins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d administrators left after concurrent deletions (statuses %d, %d)", n, a, c)
		}
	})
}

func (f faultStore) DeployScriptAs(ctx context.Context, d store.Deploy) (store.Script, store.Version, error) {
	if f.fail == "DeployScriptAs" && d.Name == "b" {
		return store.Script{}, store.Version{}, errInjected
	}
	return f.Store.DeployScriptAs(ctx, d)
}

func (f faultStore) CreateSchedule(ctx context.Context, s *store.Schedule) error {
	if f.fail == "CreateSchedule" {
		return errInjected
	}
	return f.Store.CreateSchedule(ctx, s)
}

func (f faultStore) UpdateApp(ctx context.Context, a store.App) error {
	if f.fail == "UpdateApp" {
		return errInjected
	}
	return f.Store.UpdateApp(ctx, a)
}

func (f faultStore) CreateRelease(ctx context.Context, r *store.Release) error {
	if f.fail == "CreateRelease" {
		return errInjected
	}
	return f.Store.CreateRelease(ctx, r)
}
