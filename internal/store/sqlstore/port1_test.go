package sqlstore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// TestDeleteAppUnderLoad deletes an app while goroutines deploy to it,
// log its runs, enqueue its jobs, change its members, secrets and keys,
// and prune its logs: every write either lands before the delete and goes with the
// app, or fails with store.ErrNotFound (a log record is dropped); nothing
// of the app is left behind, the other app keeps its records, and no
// write fails otherwise (no deadlock, no busy database).
func TestDeleteAppUnderLoad(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := t.Context()
		st := open(t)
		defer st.Close()
		app := store.App{Slug: "doomed"}
		if err := st.CreateApp(ctx, &app); err != nil {
			t.Fatal(err)
		}
		kept := store.App{Slug: "kept"}
		if err := st.CreateApp(ctx, &kept); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.DeployScript(ctx, app.ID, "s", "1", 0); err != nil {
			t.Fatal(err)
		}
		u := store.User{Username: "alice", PasswordHash: "h", Role: store.RoleMember}
		if err := st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		// The app's first key-value write creates its usage row; the load
		// writes to a store that has one, as an app's usually has.
		if err := st.KVSet(ctx, app.ID, "k", []byte(`"v"`), time.Time{}, store.KVLimits{}, time.Now()); err != nil {
			t.Fatal(err)
		}

		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			writes  int
			deleted = make(chan struct{})
			writers = []func(i, n int) error{
				func(i, n int) error {
					_, _, err := st.DeployScript(ctx, app.ID, fmt.Sprintf("s%d", i), "src", 0)
					return err
				},
				func(i, n int) error {
					// The doomed app's records are old enough for the pruner
					// below, the kept app's are not.
					return st.InsertInvocations(ctx, []store.Invocation{
						{ID: fmt.Sprintf("inv-%d-%d", i, n), AppID: app.ID, Script: "s", Trigger: store.TriggerHTTP,
							StartedAt: time.Now().Add(-2 * time.Hour), Status: store.StatusOK, HTTPStatus: 200,
							Request: &store.HTTPRequest{Method: "GET", Path: "/"}},
						{ID: fmt.Sprintf("kept-%d-%d", i, n), AppID: kept.ID, Script: "s", Trigger: store.TriggerHTTP,
							StartedAt: time.Now(), Status: store.StatusOK, HTTPStatus: 200},
					})
				},
				func(i, n int) error {
					j := store.Job{ID: fmt.Sprintf("job-%d-%d", i, n), AppID: app.ID, Script: "s",
						Trigger: store.TriggerAsync, MaxAttempts: 1, RunAt: time.Now()}
					return st.EnqueueJob(ctx, &j, 1000)
				},
				func(i, n int) error {
					role := []string{store.AppRoleViewer, store.AppRoleEditor}[n%2]
					return st.PutMember(ctx, store.Member{AppID: app.ID, UserID: u.ID, Role: role})
				},
				func(i, n int) error {
					sec := store.Secret{AppID: app.ID, Name: fmt.Sprintf("S%d", n%5), Sealed: []byte("sealed")}
					_, err := st.PutSecret(ctx, &sec, 100)
					return err
				},
				func(i, n int) error {
					return st.KVSet(ctx, app.ID, fmt.Sprintf("k%d-%d", i, n%20), []byte(`"v"`), time.Time{}, store.KVLimits{}, time.Now())
				},
				func(i, n int) error {
					_, err := st.PruneInvocations(ctx, time.Now().Add(-time.Hour))
					return err
				},
			}
		)
		for i, write := range writers {
			for g := range 3 {
				wg.Go(func() {
					for n := 0; ; n++ {
						err := write(i*10+g, n)
						select {
						case <-deleted:
							return
						default:
						}
						if err != nil && !errors.Is(err, store.ErrNotFound) {
							t.Errorf("writer %d: %v", i, err)
							return
						}
						mu.Lock()
						writes++
						mu.Unlock()
					}
				})
			}
		}
		time.Sleep(200 * time.Millisecond)
		err := st.DeleteApp(ctx, app.ID)
		close(deleted)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d writes before the delete", writes)
		if err := st.DeleteApp(ctx, app.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second DeleteApp: %v; want store.ErrNotFound", err)
		}

		for _, table := range []string{"scripts", "members", "invocations", "schedules", "jobs", "app_secrets",
			"kv", "kv_usage", "recording_usage", "queue_usage", "job_turns"} {
			if n := countRows(t, st, `SELECT count(*) FROM `+table+` WHERE app_id = ?`, app.ID); n != 0 {
				t.Errorf("%d rows of the deleted app left in %s", n, table)
			}
		}
		if n := countRows(t, st, `SELECT count(*) FROM versions v WHERE NOT EXISTS (SELECT 1 FROM scripts s WHERE s.id = v.script_id)`); n != 0 {
			t.Errorf("%d versions without a script", n)
		}
		if n := countRows(t, st, `SELECT count(*) FROM invocations WHERE app_id = ?`, kept.ID); n == 0 {
			t.Error("the kept app has no records; want some")
		}
	})
}

// countRows runs a count query of one row on the store's reader.
func countRows(t *testing.T, st *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.readRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeleteAppInTx deletes an app inside a transaction of RunInTx that
// then fails: the delete rolls back with it and the app keeps its
// scripts, members and secrets; the same delete in a transaction that
// commits removes them.
func TestDeleteAppInTx(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := t.Context()
		st := open(t)
		defer st.Close()
		app := store.App{Slug: "app"}
		if err := st.CreateApp(ctx, &app); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.DeployScript(ctx, app.ID, "s", "1", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := st.PutSecret(ctx, &store.Secret{AppID: app.ID, Name: "K", Sealed: []byte("x")}, 0); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := st.RunInTx(ctx, func(tx store.Store) error {
			if err := tx.DeleteApp(ctx, app.ID); err != nil {
				return err
			}
			if _, err := tx.GetApp(ctx, "app"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetApp in the transaction after its delete: %v; want store.ErrNotFound", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("RunInTx = %v; want boom", err)
		}
		if _, err := st.GetApp(ctx, "app"); err != nil {
			t.Errorf("GetApp after the rollback: %v", err)
		}
		if secs, err := st.ListSecrets(ctx, app.ID); err != nil || len(secs) != 1 {
			t.Errorf("ListSecrets after the rollback = %v, %v; want the secret", secs, err)
		}
		if _, err := st.GetScript(ctx, app.ID, "s"); err != nil {
			t.Errorf("GetScript after the rollback: %v", err)
		}

		err = st.RunInTx(ctx, func(tx store.Store) error { return tx.DeleteApp(ctx, app.ID) })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.GetApp(ctx, "app"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetApp after the delete: %v; want store.ErrNotFound", err)
		}
		if n := countRows(t, st, `SELECT count(*) FROM app_secrets WHERE app_id = ?`, app.ID); n != 0 {
			t.Errorf("%d secrets of the deleted app left", n)
		}
	})
}

// TestPutSecretInTx puts secrets in a transaction of RunInTx: a put that
// fails (an unknown app, the bound) fails the transaction, and a
// transaction that fails takes its secrets with it.
func TestPutSecretInTx(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := t.Context()
		st := open(t)
		defer st.Close()
		app := store.App{Slug: "app"}
		if err := st.CreateApp(ctx, &app); err != nil {
			t.Fatal(err)
		}
		err := st.RunInTx(ctx, func(tx store.Store) error {
			for _, name := range []string{"A", "B"} {
				if _, err := tx.PutSecret(ctx, &store.Secret{AppID: app.ID, Name: name, Sealed: []byte(name)}, 2); err != nil {
					return err
				}
			}
			_, err := tx.PutSecret(ctx, &store.Secret{AppID: app.ID, Name: "C", Sealed: []byte("C")}, 2)
			return err
		})
		if !errors.Is(err, store.ErrTooMany) || !strings.HasPrefix(err.Error(), st.Dialect()+": ") {
			t.Fatalf("third secret over a bound of 2: %v; want store.ErrTooMany with the backend's prefix", err)
		}
		if secs, err := st.ListSecrets(ctx, app.ID); err != nil || len(secs) != 0 {
			t.Errorf("ListSecrets after the rollback = %v, %v; want none", secs, err)
		}
		_, err = st.PutSecret(ctx, &store.Secret{AppID: app.ID + 100, Name: "A", Sealed: []byte("A")}, 0)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PutSecret in an unknown app: %v; want store.ErrNotFound", err)
		}
	})
}

// TestAppErrorsWrapStoreErrors checks that the errors of this part of the
// store keep the backend's prefix and wrap the store error they stand
// for.
func TestAppErrorsWrapStoreErrors(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := t.Context()
		st := open(t)
		defer st.Close()
		prefix := st.Dialect() + ": "
		check := func(what string, err, want error) {
			t.Helper()
			if !errors.Is(err, want) || !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("%s: %v; want %v with the prefix %q", what, err, want, prefix)
			}
		}
		_, err := st.GetApp(ctx, "nope")
		check("GetApp unknown", err, store.ErrNotFound)
		app := store.App{Slug: "app"}
		if err := st.CreateApp(ctx, &app); err != nil {
			t.Fatal(err)
		}
		check("CreateApp taken slug", st.CreateApp(ctx, &store.App{Slug: "app"}), store.ErrConflict)
		check("UpdateApp unknown", st.UpdateApp(ctx, store.App{ID: app.ID + 100}), store.ErrNotFound)
		check("DeleteApp unknown", st.DeleteApp(ctx, app.ID+100), store.ErrNotFound)
		check("PutMember unknown user", st.PutMember(ctx, store.Member{AppID: app.ID, UserID: 999, Role: store.AppRoleViewer}), store.ErrNotFound)
		_, err = st.GetMember(ctx, app.ID, 999)
		check("GetMember unknown", err, store.ErrNotFound)
		check("DeleteMember unknown", st.DeleteMember(ctx, app.ID, 999), store.ErrNotFound)
		check("DeleteSecret unknown", st.DeleteSecret(ctx, app.ID, "nope"), store.ErrNotFound)
		check("CreateSession unknown user", st.CreateSession(ctx, store.Session{TokenHash: "h", UserID: 999, ExpiresAt: time.Now().Add(time.Hour)}), store.ErrNotFound)
		_, err = st.GetSession(ctx, "h")
		check("GetSession unknown", err, store.ErrNotFound)
		check("DeleteSession unknown", st.DeleteSession(ctx, "h"), store.ErrNotFound)
		check("CreateAPIKey unknown user", st.CreateAPIKey(ctx, &store.APIKey{UserID: 999, Name: "k", TokenHash: "h"}), store.ErrNotFound)
		_, err = st.GetAPIKeyByHash(ctx, "h")
		check("GetAPIKeyByHash unknown", err, store.ErrNotFound)
		check("TouchAPIKey unknown", st.TouchAPIKey(ctx, 999, time.Now()), store.ErrNotFound)
		check("DeleteAPIKey unknown", st.DeleteAPIKey(ctx, 1, 999), store.ErrNotFound)

		// A member with a role the schema refuses is a plain error, neither
		// a conflict nor a missing record.
		u := store.User{Username: "alice", PasswordHash: "h", Role: store.RoleMember}
		if err := st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		err = st.PutMember(ctx, store.Member{AppID: app.ID, UserID: u.ID, Role: "emperor"})
		if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("PutMember with an unknown role: %v; want a plain error", err)
		}
	})
}

// TestAppJSONColumns reads back an app whose limits and outbound columns
// hold JSON another version wrote: the outbound policy stored before the
// private list existed, and limits with a key this version does not know.
// A column that is not JSON fails the read with a clear error and leaves
// the other apps readable.
func TestAppJSONColumns(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := t.Context()
		st := open(t)
		defer st.Close()
		for _, slug := range []string{"old", "ok"} {
			if err := st.CreateApp(ctx, &store.App{Slug: slug}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := st.exec(ctx, `UPDATE apps SET limits = ?, outbound = ? WHERE slug = 'old'`,
			`{"timeout_ms": 5, "future_limit": 1}`, `{"allow": ["10.0.0.1"], "allow_private": true}`)
		if err != nil {
			t.Fatal(err)
		}
		a, err := st.GetApp(ctx, "old")
		if err != nil {
			t.Fatal(err)
		}
		if a.Limits.TimeoutMS != 5 || len(a.Outbound.Private) != 1 || a.Outbound.Private[0] != "10.0.0.1" {
			t.Errorf("GetApp old = limits %+v, outbound %+v", a.Limits, a.Outbound)
		}
		if !st.d.postgres { // jsonb refuses text that is not JSON
			if _, err := st.exec(ctx, `UPDATE apps SET limits = 'nope' WHERE slug = 'old'`); err != nil {
				t.Fatal(err)
			}
			if _, err := st.GetApp(ctx, "old"); err == nil || !strings.Contains(err.Error(), `app "old": limits`) {
				t.Errorf("GetApp with broken limits: %v; want an error naming the app and the column", err)
			}
			if _, err := st.GetApp(ctx, "ok"); err != nil {
				t.Errorf("GetApp of another app: %v", err)
			}
		}
	})
}
