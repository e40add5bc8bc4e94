package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

func testRollbackScript(t *testing.T, st store.Store) {
	ctx := t.Context()
	app := newApp(t, st, "shop")
	u := newUser(t, st, "alice", store.RoleMember)
	bob := newUser(t, st, "bob", store.RoleMember)
	sc1, v1 := deploy(t, st, app, "hello", "src 1", u.ID)
	_, v2 := deploy(t, st, app, "hello", "src 2", u.ID)

	// Rolling back to 1 makes version 3, a copy of 1's source, live.
	before := time.Now()
	sc3, v3, err := st.RollbackScript(ctx, sc1.ID, 1, bob.ID)
	after := time.Now()
	ok(t, "RollbackScript", err)
	checkStamped(t, "Version.CreatedAt", v3.CreatedAt, before, after)
	check(t, "rolled-back version", v3, store.Version{ScriptID: sc1.ID, Version: 3, Source: "src 1",
		CreatedBy: bob.ID, CreatedAt: v3.CreatedAt, RolledBackFrom: 1})
	check(t, "script after the rollback", sc3, store.Script{ID: sc1.ID, AppID: app.ID, AppSlug: "shop", Name: "hello",
		LiveVersion: 3, CreatedAt: sc1.CreatedAt, UpdatedAt: sc3.UpdatedAt})
	if sc3.UpdatedAt.Before(sc1.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v after %v", sc3.UpdatedAt, sc1.UpdatedAt)
	}
	got, err := st.GetScript(ctx, app.ID, "hello")
	ok(t, "GetScript", err)
	check(t, "GetScript after the rollback", got, sc3)
	live, err := st.GetLiveScript(ctx, "shop", "hello")
	ok(t, "GetLiveScript", err)
	if live.Version.Version != 3 || live.Version.Source != "src 1" {
		t.Errorf("live version %d %q, want 3 \"src 1\"", live.Version.Version, live.Version.Source)
	}
	gv, err := st.GetVersion(ctx, sc1.ID, 3)
	ok(t, "GetVersion", err)
	check(t, "GetVersion of the rollback", gv, v3)

	// History stays linear: a deploy after it is 4, and a rollback to a
	// rollback copies its source, naming the version it copied.
	_, v4 := deploy(t, st, app, "hello", "src 4", 0)
	_, v5, err := st.RollbackScript(ctx, sc1.ID, 3, 0)
	ok(t, "RollbackScript to a rollback", err)
	if v4.Version != 4 || v5.Version != 5 || v5.Source != "src 1" || v5.RolledBackFrom != 3 || v5.CreatedBy != 0 {
		t.Errorf("deploy %d, then rollback to 3 = %+v; want 4, then 5 with src 1 from 3 by no user", v4.Version, v5)
	}
	versions, err := st.ListVersions(ctx, sc1.ID)
	ok(t, "ListVersions", err)
	noSource := func(v store.Version) store.Version { v.Source = ""; return v }
	check(t, "ListVersions", versions, []store.Version{noSource(v1), noSource(v2), noSource(v3), noSource(v4), noSource(v5)})

	// Unknown versions and scripts change nothing.
	for _, bad := range []struct {
		what     string
		scriptID int64
		version  int
	}{
		{"a version not yet deployed", sc1.ID, 6},
		{"version 0", sc1.ID, 0},
		{"a negative version", sc1.ID, -1},
		{"an unknown script", 1 << 40, 1},
	} {
		_, _, err := st.RollbackScript(ctx, bad.scriptID, bad.version, u.ID)
		wantErr(t, "RollbackScript to "+bad.what, err, store.ErrNotFound)
	}
	got, err = st.GetScript(ctx, app.ID, "hello")
	ok(t, "GetScript", err)
	if got.LiveVersion != 5 {
		t.Errorf("live version after failed rollbacks = %d, want 5", got.LiveVersion)
	}

	// Another script's versions are not reachable.
	other, _ := deploy(t, st, app, "other", "other 1", u.ID)
	_, _, err = st.RollbackScript(ctx, other.ID, 2, u.ID)
	wantErr(t, "RollbackScript to another script's version", err, store.ErrNotFound)
}

// Rollbacks and deploys of one script at once each get their own version
// number, and the live version is the highest.
func testConcurrentRollbacks(t *testing.T, st store.Store) {
	ctx := t.Context()
	app := newApp(t, st, "race")
	sc, _ := deploy(t, st, app, "hot", "v1", 0)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		versions = map[int]string{}
	)
	record := func(v store.Version, what string) {
		mu.Lock()
		defer mu.Unlock()
		if prev, dup := versions[v.Version]; dup {
			t.Errorf("version %d given to %s and %s", v.Version, prev, what)
		}
		versions[v.Version] = what
	}
	for i := range 8 {
		wg.Go(func() {
			what := fmt.Sprintf("rollback %d", i)
			_, v, err := st.RollbackScript(ctx, sc.ID, 1, 0)
			if err != nil {
				t.Errorf("%s: %v", what, err)
				return
			}
			record(v, what)
		})
		wg.Go(func() {
			what := fmt.Sprintf("deploy %d", i)
			_, v, err := st.DeployScript(ctx, app.ID, "hot", what, 0)
			if err != nil {
				t.Errorf("%s: %v", what, err)
				return
			}
			record(v, what)
		})
	}
	wg.Wait()
	got, err := st.GetScript(ctx, app.ID, "hot")
	ok(t, "GetScript", err)
	if len(versions) != 16 || got.LiveVersion != 17 {
		t.Errorf("%d versions, live %d; want 16 new versions, live 17", len(versions), got.LiveVersion)
	}
}
