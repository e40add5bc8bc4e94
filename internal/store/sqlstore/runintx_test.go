package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

var errStop = errors.New("the second write failed")

func TestRunInTx(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st := open(t)
		defer st.Close()
		ctx := t.Context()

		// Committed: both writes are there.
		err := st.RunInTx(ctx, func(tx store.Store) error {
			u := store.User{Username: "alice", PasswordHash: "h", Role: store.RoleAdmin}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			// The transaction reads its own writes.
			if got, err := tx.GetUserByName(ctx, "alice"); err != nil || got.ID != u.ID {
				t.Errorf("read within the transaction: %+v, %v", got, err)
			}
			a := store.App{Slug: "shop"}
			return tx.CreateApp(ctx, &a)
		})
		if err != nil {
			t.Fatal(err)
		}
		mustExist(t, st, "alice", "shop")

		// Failed: neither write is there, and the error comes back as it was.
		err = st.RunInTx(ctx, func(tx store.Store) error {
			u := store.User{Username: "bob", PasswordHash: "h", Role: store.RoleMember}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			a := store.App{Slug: "garden"}
			if err := tx.CreateApp(ctx, &a); err != nil {
				return err
			}
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("RunInTx = %v, want the function's error", err)
		}
		mustBeGone(t, st, "bob", "garden")

		// A nested RunInTx is the same transaction: its failure, passed
		// on, undoes the outer writes too.
		err = st.RunInTx(ctx, func(tx store.Store) error {
			u := store.User{Username: "carol", PasswordHash: "h", Role: store.RoleMember}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			return tx.RunInTx(ctx, func(inner store.Store) error {
				a := store.App{Slug: "orchard"}
				if err := inner.CreateApp(ctx, &a); err != nil {
					return err
				}
				return errStop
			})
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("nested RunInTx = %v", err)
		}
		mustBeGone(t, st, "carol", "orchard")

		// A panic rolls back, and goes on.
		func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic did not come through RunInTx")
				}
			}()
			st.RunInTx(ctx, func(tx store.Store) error {
				u := store.User{Username: "dave", PasswordHash: "h", Role: store.RoleMember}
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		mustBeGone(t, st, "dave", "")

		// A store error inside keeps its kind.
		err = st.RunInTx(ctx, func(tx store.Store) error {
			u := store.User{Username: "alice", PasswordHash: "h", Role: store.RoleAdmin}
			return tx.CreateUser(ctx, &u)
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("RunInTx of a taken name = %v, want ErrConflict", err)
		}
		// The transaction's store is not closed by its user.
		st.RunInTx(ctx, func(tx store.Store) error {
			if err := tx.Close(); err == nil {
				t.Error("Close of a transaction's store succeeded")
			}
			return nil
		})
		// The store works after all of that.
		mustExist(t, st, "alice", "shop")
	})
}

// TestMultiRowDeletesAreAtomic: the deletions that take many rows with
// them (a user with its sessions, keys and memberships; an app with
// everything it owns) and a deploy leave everything in place when the
// transaction they are part of fails at the next write.
func TestMultiRowDeletesAreAtomic(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st := open(t)
		defer st.Close()
		ctx := t.Context()
		now := time.Now()
		u := store.User{Username: "alice", PasswordHash: "h", Role: store.RoleMember}
		must(t, st.CreateUser(ctx, &u))
		must(t, st.CreateSession(ctx, store.Session{TokenHash: "s1", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		k := store.APIKey{UserID: u.ID, Name: "ci", TokenHash: "k1", Prefix: "pk"}
		must(t, st.CreateAPIKey(ctx, &k))
		a := store.App{Slug: "shop"}
		must(t, st.CreateApp(ctx, &a))
		must(t, st.PutMember(ctx, store.Member{AppID: a.ID, UserID: u.ID, Role: store.AppRoleEditor}))
		sc, _, err := st.DeployScript(ctx, a.ID, "hello", `"hi"`, u.ID)
		must(t, err)
		must(t, st.KVSet(ctx, a.ID, "k", []byte(`1`), time.Time{}, store.KVLimits{}, now))
		_, err = st.PutSecret(ctx, &store.Secret{AppID: a.ID, Name: "TOKEN", Sealed: []byte("sealed")}, 0)
		must(t, err)
		sched := store.Schedule{AppID: a.ID, ScriptID: sc.ID, Cron: "* * * * *", Timezone: "UTC", Enabled: true, NextRun: now.Add(time.Minute)}
		must(t, st.CreateSchedule(ctx, &sched))
		must(t, st.EnqueueJob(ctx, &store.Job{ID: "job-1", AppID: a.ID, Script: "hello", Trigger: store.TriggerAsync, MaxAttempts: 1, RunAt: now}, 0))
		must(t, st.InsertInvocations(ctx, []store.Invocation{{ID: "inv-1", AppID: a.ID, Script: "hello", Version: 1,
			Trigger: store.TriggerHTTP, StartedAt: now, Status: store.StatusOK, HTTPStatus: 200}}))

		fail := func(what string, fn func(tx store.Store) error) {
			t.Helper()
			err := st.RunInTx(ctx, func(tx store.Store) error {
				if err := fn(tx); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				return errStop
			})
			if !errors.Is(err, errStop) {
				t.Fatalf("%s: RunInTx = %v", what, err)
			}
		}
		fail("delete the user", func(tx store.Store) error { return tx.DeleteUser(ctx, u.ID) })
		fail("delete the app", func(tx store.Store) error { return tx.DeleteApp(ctx, a.ID) })
		fail("deploy", func(tx store.Store) error {
			_, _, err := tx.DeployScript(ctx, a.ID, "hello", `"v2"`, u.ID)
			return err
		})

		// Everything is still there.
		if _, err := st.GetSession(ctx, "s1"); err != nil {
			t.Errorf("session: %v", err)
		}
		if _, err := st.GetAPIKeyByHash(ctx, "k1"); err != nil {
			t.Errorf("API key: %v", err)
		}
		if _, err := st.GetMember(ctx, a.ID, u.ID); err != nil {
			t.Errorf("membership: %v", err)
		}
		live, err := st.GetLiveScript(ctx, "shop", "hello")
		if err != nil || live.Version.Version != 1 || live.Version.Source != `"hi"` {
			t.Errorf("live script: %+v, %v; want version 1", live.Version, err)
		}
		if _, err := st.KVGet(ctx, a.ID, "k", now); err != nil {
			t.Errorf("key: %v", err)
		}
		if secs, err := st.ListSecrets(ctx, a.ID); err != nil || len(secs) != 1 {
			t.Errorf("secrets: %v, %v", secs, err)
		}
		if _, err := st.GetSchedule(ctx, sched.ID); err != nil {
			t.Errorf("schedule: %v", err)
		}
		if _, err := st.GetJob(ctx, "job-1"); err != nil {
			t.Errorf("job: %v", err)
		}
		if _, err := st.GetInvocation(ctx, "inv-1"); err != nil {
			t.Errorf("invocation: %v", err)
		}
		if u, err := st.KVUsage(ctx, a.ID); err != nil || u.Keys != 1 {
			t.Errorf("KV usage: %+v, %v", u, err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustExist(t *testing.T, st store.Store, user, app string) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.GetUserByName(ctx, user); err != nil {
		t.Errorf("user %q: %v", user, err)
	}
	if _, err := st.GetApp(ctx, app); err != nil {
		t.Errorf("app %q: %v", app, err)
	}
}

func mustBeGone(t *testing.T, st store.Store, user, app string) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.GetUserByName(ctx, user); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user %q after a failed transaction: %v, want ErrNotFound", user, err)
	}
	if app == "" {
		return
	}
	if _, err := st.GetApp(ctx, app); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("app %q after a failed transaction: %v, want ErrNotFound", app, err)
	}
}
