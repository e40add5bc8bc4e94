package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

func testReleases(t *testing.T, st store.Store) {
	ctx := t.Context()
	shop := newApp(t, st, "shop")
	blog := newApp(t, st, "blog")
	alice := newUser(t, st, "alice", store.RoleMember)
	sc, _ := deploy(t, st, shop, "hello", "src 1", alice.ID)

	list, err := st.ListReleases(ctx, shop.ID)
	ok(t, "ListReleases of no release", err)
	if list == nil || len(list) != 0 {
		t.Errorf("ListReleases of no release = %#v, want an empty list", list)
	}

	before := time.Now()
	r1 := store.Release{AppID: shop.ID, Message: "first", CreatedBy: alice.ID,
		Scripts: []store.ReleaseScript{{ScriptID: sc.ID, Name: "hello", Version: 1}},
		Changes: []store.ReleaseChange{{Action: "create", Kind: "script", Name: "hello", Detail: "v1"}},
		Check:   `{"limit":5,"invocations":[]}`}
	ok(t, "CreateRelease", st.CreateRelease(ctx, &r1))
	checkStamped(t, "Release.CreatedAt", r1.CreatedAt, before, time.Now())
	if r1.ID != 1 {
		t.Errorf("first release's ID = %d, want 1", r1.ID)
	}
	// Another app's releases are numbered apart; a rollback keeps its
	// origin and a caller's time, and may have no user and no change.
	other := store.Release{AppID: blog.ID}
	ok(t, "CreateRelease of another app", st.CreateRelease(ctx, &other))
	given := stamp().Add(-time.Hour)
	r2 := store.Release{AppID: shop.ID, RolledBackFrom: 1, CreatedAt: given,
		Scripts: []store.ReleaseScript{{ScriptID: sc.ID, Name: "hello", Version: 2}}}
	ok(t, "CreateRelease of a rollback", st.CreateRelease(ctx, &r2))
	if other.ID != 1 || r2.ID != 2 || !r2.CreatedAt.Equal(given) {
		t.Errorf("IDs %d (blog), %d (shop), CreatedAt %v; want 1, 2, %v", other.ID, r2.ID, r2.CreatedAt, given)
	}

	r1.CreatedByName = "alice"
	got, err := st.GetRelease(ctx, shop.ID, 1)
	ok(t, "GetRelease", err)
	check(t, "GetRelease", got, r1)
	list, err = st.ListReleases(ctx, shop.ID)
	ok(t, "ListReleases", err)
	r2.Changes = []store.ReleaseChange{}
	check(t, "ListReleases", list, []store.Release{r2, r1})

	_, err = st.GetRelease(ctx, blog.ID, 2)
	wantErr(t, "GetRelease of an unknown ID", err, store.ErrNotFound)
	_, err = st.GetRelease(ctx, blog.ID, r2.ID+1)
	wantErr(t, "GetRelease of another app's ID", err, store.ErrNotFound)
	wantErr(t, "CreateRelease of an unknown app", st.CreateRelease(ctx, &store.Release{AppID: 9999}), store.ErrNotFound)
	wantErr(t, "HoldApp of an unknown app", st.HoldApp(ctx, 9999), store.ErrNotFound)

	// Deleting the user keeps its releases, without their author.
	ok(t, "DeleteUser", st.DeleteUser(ctx, alice.ID))
	got, err = st.GetRelease(ctx, shop.ID, 1)
	ok(t, "GetRelease after DeleteUser", err)
	if got.CreatedBy != 0 || got.CreatedByName != "" {
		t.Errorf("release by a deleted user: CreatedBy %d %q, want 0 \"\"", got.CreatedBy, got.CreatedByName)
	}

	// Deleting the app deletes its releases, and only its.
	ok(t, "DeleteApp", st.DeleteApp(ctx, shop.ID))
	list, err = st.ListReleases(ctx, shop.ID)
	ok(t, "ListReleases after DeleteApp", err)
	if len(list) != 0 {
		t.Errorf("releases of a deleted app: %d, want 0", len(list))
	}
	if list, err := st.ListReleases(ctx, blog.ID); err != nil || len(list) != 1 {
		t.Errorf("releases of the other app: %d %v, want 1", len(list), err)
	}
}

// testConcurrentReleases creates releases of one app from many goroutines,
// each in a transaction that holds the app first, as a deploy does: every
// one gets its own number, 1 to n.
func testConcurrentReleases(t *testing.T, st store.Store) {
	ctx := t.Context()
	app := newApp(t, st, "shop")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- st.RunInTx(ctx, func(tx store.Store) error {
				if err := tx.HoldApp(ctx, app.ID); err != nil {
					return err
				}
				return tx.CreateRelease(ctx, &store.Release{AppID: app.ID, Message: fmt.Sprint(i)})
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		ok(t, "CreateRelease", err)
	}
	list, err := st.ListReleases(ctx, app.ID)
	ok(t, "ListReleases", err)
	if len(list) != n {
		t.Fatalf("%d releases, want %d", len(list), n)
	}
	for i, r := range list {
		if r.ID != int64(n-i) {
			t.Errorf("release %d has ID %d, want %d", i, r.ID, n-i)
		}
	}
}
