package storetest

import (
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

func testApps(t *testing.T, st store.Store) {
	ctx := t.Context()

	before := time.Now()
	shop := store.App{
		Slug:        "shop",
		Name:        "Shop",
		Description: "the web shop",
		Limits:      store.AppLimits{TimeoutMS: 500, MaxOperations: 100000},
	}
	ok(t, "CreateApp", st.CreateApp(ctx, &shop))
	if shop.ID == 0 {
		t.Fatal("CreateApp did not set the ID")
	}
	checkStamped(t, "CreatedAt", shop.CreatedAt, before, time.Now())
	blog := store.App{Slug: "blog", CreatedAt: at(0)}
	ok(t, "CreateApp", st.CreateApp(ctx, &blog))
	check(t, "CreatedAt given", blog.CreatedAt, at(0))

	wantErr(t, "CreateApp duplicate slug", st.CreateApp(ctx, &store.App{Slug: "shop", Name: "Other"}), store.ErrConflict)

	got, err := st.GetApp(ctx, "shop")
	ok(t, "GetApp", err)
	check(t, "GetApp", got, shop)
	got, err = st.GetApp(ctx, "blog")
	ok(t, "GetApp", err)
	check(t, "GetApp", got, blog)
	_, err = st.GetApp(ctx, "nope")
	wantErr(t, "GetApp unknown", err, store.ErrNotFound)

	list, err := st.ListApps(ctx)
	ok(t, "ListApps", err)
	check(t, "ListApps", list, []store.App{blog, shop})

	// UpdateApp changes the name, the description and the limits, never
	// the slug.
	upd := shop
	upd.Slug = "renamed"
	upd.Name = "The Shop"
	upd.Description = ""
	upd.Limits = store.AppLimits{MaxBodyBytes: 1 << 20, MaxMemoryMB: 8}
	ok(t, "UpdateApp", st.UpdateApp(ctx, upd))
	got, err = st.GetApp(ctx, "shop")
	ok(t, "GetApp after UpdateApp", err)
	want := upd
	want.Slug = "shop"
	check(t, "GetApp after UpdateApp", got, want)
	_, err = st.GetApp(ctx, "renamed")
	wantErr(t, "GetApp by a slug UpdateApp must ignore", err, store.ErrNotFound)
	wantErr(t, "UpdateApp unknown", st.UpdateApp(ctx, store.App{ID: 1 << 40, Slug: "x"}), store.ErrNotFound)

	u := newUser(t, st, "alice", store.RoleMember)
	loner := newUser(t, st, "loner", store.RoleMember)
	other := newApp(t, st, "aardvark")
	ok(t, "PutMember", st.PutMember(ctx, store.Member{AppID: shop.ID, UserID: u.ID, Role: store.AppRoleViewer}))
	ok(t, "PutMember", st.PutMember(ctx, store.Member{AppID: other.ID, UserID: u.ID, Role: store.AppRoleEditor}))
	mine, err := st.ListAppsForUser(ctx, u.ID)
	ok(t, "ListAppsForUser", err)
	check(t, "ListAppsForUser", mine, []store.App{other, want})
	mine, err = st.ListAppsForUser(ctx, loner.ID)
	ok(t, "ListAppsForUser", err)
	if mine == nil || len(mine) != 0 {
		t.Errorf("ListAppsForUser of a user in no app = %#v, want empty", mine)
	}

	wantErr(t, "DeleteApp unknown", st.DeleteApp(ctx, 1<<40), store.ErrNotFound)
	ok(t, "DeleteApp", st.DeleteApp(ctx, blog.ID))
	_, err = st.GetApp(ctx, "blog")
	wantErr(t, "GetApp deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteApp again", st.DeleteApp(ctx, blog.ID), store.ErrNotFound)
	// The slug is free again.
	newApp(t, st, "blog")
}

func testMembers(t *testing.T, st store.Store) {
	ctx := t.Context()
	app := newApp(t, st, "shop")
	other := newApp(t, st, "blog")
	alice := newUser(t, st, "alice", store.RoleMember)
	bob := newUser(t, st, "bob", store.RoleMember)

	before := time.Now()
	ok(t, "PutMember", st.PutMember(ctx, store.Member{AppID: app.ID, UserID: bob.ID, Role: store.AppRoleViewer}))
	got, err := st.GetMember(ctx, app.ID, bob.ID)
	ok(t, "GetMember", err)
	checkStamped(t, "CreatedAt", got.CreatedAt, before, time.Now())
	bobM := store.Member{AppID: app.ID, UserID: bob.ID, Username: "bob", Role: store.AppRoleViewer, CreatedAt: got.CreatedAt}
	check(t, "GetMember", got, bobM)

	// Putting an existing member changes the role and keeps the rest.
	ok(t, "PutMember again", st.PutMember(ctx, store.Member{AppID: app.ID, UserID: bob.ID, Role: store.AppRoleEditor, CreatedAt: at(0)}))
	got, err = st.GetMember(ctx, app.ID, bob.ID)
	ok(t, "GetMember", err)
	bobM.Role = store.AppRoleEditor
	check(t, "GetMember after a role change", got, bobM)

	aliceM := store.Member{AppID: app.ID, UserID: alice.ID, Username: "alice", Role: store.AppRoleViewer, CreatedAt: at(0)}
	ok(t, "PutMember", st.PutMember(ctx, aliceM))
	list, err := st.ListMembers(ctx, app.ID)
	ok(t, "ListMembers", err)
	check(t, "ListMembers", list, []store.Member{aliceM, bobM})
	list, err = st.ListMembers(ctx, other.ID)
	ok(t, "ListMembers", err)
	if list == nil || len(list) != 0 {
		t.Errorf("ListMembers of an app without members = %#v, want empty", list)
	}
	_, err = st.GetMember(ctx, other.ID, alice.ID)
	wantErr(t, "GetMember of another app", err, store.ErrNotFound)

	wantErr(t, "PutMember unknown app", st.PutMember(ctx, store.Member{AppID: 1 << 40, UserID: alice.ID, Role: store.AppRoleViewer}), store.ErrNotFound)
	wantErr(t, "PutMember unknown user", st.PutMember(ctx, store.Member{AppID: app.ID, UserID: 1 << 40, Role: store.AppRoleViewer}), store.ErrNotFound)

	ok(t, "DeleteMember", st.DeleteMember(ctx, app.ID, alice.ID))
	_, err = st.GetMember(ctx, app.ID, alice.ID)
	wantErr(t, "GetMember deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteMember again", st.DeleteMember(ctx, app.ID, alice.ID), store.ErrNotFound)
	list, err = st.ListMembers(ctx, app.ID)
	ok(t, "ListMembers", err)
	check(t, "ListMembers after delete", list, []store.Member{bobM})
}
