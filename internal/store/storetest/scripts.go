package storetest

import (
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

func testScripts(t *testing.T, st store.Store) {
	ctx := t.Context()
	app := newApp(t, st, "shop")
	ok(t, "UpdateApp", st.UpdateApp(ctx, store.App{ID: app.ID, Name: app.Name, Limits: store.AppLimits{TimeoutMS: 250}}))
	app.Limits = store.AppLimits{TimeoutMS: 250}
	other := newApp(t, st, "blog")
	u := newUser(t, st, "alice", store.RoleMember)

	// Versions are numbered 1, 2, 3 and the newest is live.
	before := time.Now()
	sc1, v1 := deploy(t, st, app, "hello", "src 1", u.ID)
	after := time.Now()
	if sc1.ID == 0 {
		t.Fatal("DeployScript returned no script ID")
	}
	checkStamped(t, "Script.CreatedAt", sc1.CreatedAt, before, after)
	checkStamped(t, "Version.CreatedAt", v1.CreatedAt, before, after)
	check(t, "first deploy", sc1, store.Script{ID: sc1.ID, AppID: app.ID, AppSlug: "shop", Name: "hello",
		LiveVersion: 1, CreatedAt: sc1.CreatedAt, UpdatedAt: sc1.UpdatedAt})
	check(t, "first version", v1, store.Version{ScriptID: sc1.ID, Version: 1, Source: "src 1", CreatedBy: u.ID, CreatedAt: v1.CreatedAt})

	sc2, v2 := deploy(t, st, app, "hello", "src 2", u.ID)
	sc3, v3 := deploy(t, st, app, "hello", "src 3", 0)
	if sc2.ID != sc1.ID || sc3.ID != sc1.ID {
		t.Fatalf("redeploys changed the script ID: %d, %d, %d", sc1.ID, sc2.ID, sc3.ID)
	}
	if v2.Version != 2 || v3.Version != 3 || sc2.LiveVersion != 2 || sc3.LiveVersion != 3 {
		t.Errorf("versions %d, %d (live %d, %d), want 2, 3", v2.Version, v3.Version, sc2.LiveVersion, sc3.LiveVersion)
	}
	check(t, "Script.CreatedAt after redeploys", sc3.CreatedAt, sc1.CreatedAt)
	if sc3.UpdatedAt.Before(sc1.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v after %v", sc3.UpdatedAt, sc1.UpdatedAt)
	}
	if v3.CreatedBy != 0 {
		t.Errorf("CreatedBy of a deploy by no user = %d, want 0", v3.CreatedBy)
	}

	got, err := st.GetScript(ctx, app.ID, "hello")
	ok(t, "GetScript", err)
	check(t, "GetScript", got, sc3)
	_, err = st.GetScript(ctx, app.ID, "nope")
	wantErr(t, "GetScript unknown", err, store.ErrNotFound)
	_, err = st.GetScript(ctx, other.ID, "hello")
	wantErr(t, "GetScript of another app", err, store.ErrNotFound)

	// The same name in another app is another script.
	sco, vo := deploy(t, st, other, "hello", "other src", u.ID)
	if sco.ID == sc1.ID || vo.Version != 1 || sco.AppSlug != "blog" {
		t.Errorf("deploy to another app = %+v, %+v; want a new script at version 1", sco, vo)
	}
	_, _, err = st.DeployScript(ctx, 1<<40, "hello", "src", u.ID)
	wantErr(t, "DeployScript unknown app", err, store.ErrNotFound)

	api, _ := deploy(t, st, app, "api", "api src", u.ID)
	list, err := st.ListScripts(ctx, app.ID)
	ok(t, "ListScripts", err)
	check(t, "ListScripts", list, []store.Script{api, sc3})
	empty := newApp(t, st, "empty")
	list, err = st.ListScripts(ctx, empty.ID)
	ok(t, "ListScripts", err)
	if list == nil || len(list) != 0 {
		t.Errorf("ListScripts of an empty app = %#v, want empty", list)
	}

	versions, err := st.ListVersions(ctx, sc1.ID)
	ok(t, "ListVersions", err)
	noSource := func(v store.Version) store.Version { v.Source = ""; return v }
	check(t, "ListVersions", versions, []store.Version{noSource(v1), noSource(v2), noSource(v3)})

	gv, err := st.GetVersion(ctx, sc1.ID, 2)
	ok(t, "GetVersion", err)
	check(t, "GetVersion", gv, v2)
	_, err = st.GetVersion(ctx, sc1.ID, 4)
	wantErr(t, "GetVersion unknown", err, store.ErrNotFound)

	live, err := st.GetLiveScript(ctx, "shop", "hello")
	ok(t, "GetLiveScript", err)
	check(t, "GetLiveScript", live, store.LiveScript{App: app, Script: sc3, Version: v3})
	_, err = st.GetLiveScript(ctx, "shop", "nope")
	wantErr(t, "GetLiveScript unknown script", err, store.ErrNotFound)
	_, err = st.GetLiveScript(ctx, "nope", "hello")
	wantErr(t, "GetLiveScript unknown app", err, store.ErrNotFound)
	live, err = st.GetLiveScript(ctx, "blog", "hello")
	ok(t, "GetLiveScript", err)
	if live.Version.Source != "other src" {
		t.Errorf("GetLiveScript blog/hello source = %q, want %q", live.Version.Source, "other src")
	}

	// Deleting a script takes its versions; a new deploy of the name is a
	// new script, with a new ID, at version 1.
	ok(t, "DeleteScript", st.DeleteScript(ctx, sc1.ID))
	_, err = st.GetScript(ctx, app.ID, "hello")
	wantErr(t, "GetScript deleted", err, store.ErrNotFound)
	_, err = st.GetVersion(ctx, sc1.ID, 1)
	wantErr(t, "GetVersion of a deleted script", err, store.ErrNotFound)
	versions, err = st.ListVersions(ctx, sc1.ID)
	ok(t, "ListVersions", err)
	if len(versions) != 0 {
		t.Errorf("ListVersions of a deleted script = %+v, want none", versions)
	}
	_, err = st.GetLiveScript(ctx, "shop", "hello")
	wantErr(t, "GetLiveScript deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteScript again", st.DeleteScript(ctx, sc1.ID), store.ErrNotFound)
	_, err = st.GetScript(ctx, other.ID, "hello")
	ok(t, "GetScript of the same name in another app", err)

	// Take the highest ID so that an implementation reusing it would show.
	ok(t, "DeleteScript", st.DeleteScript(ctx, api.ID))
	again, v := deploy(t, st, app, "api", "new api", u.ID)
	if again.ID == api.ID || again.ID == sc1.ID || v.Version != 1 || again.LiveVersion != 1 {
		t.Errorf("redeploy after delete = script %d version %d; want a new ID (not %d or %d) at version 1", again.ID, v.Version, api.ID, sc1.ID)
	}
}

func testListScriptsForUser(t *testing.T, st store.Store) {
	ctx := t.Context()
	admin := newUser(t, st, "root", store.RoleAdmin)
	member := newUser(t, st, "member", store.RoleMember)
	stranger := newUser(t, st, "stranger", store.RoleMember)
	gamma := newApp(t, st, "gamma")
	alpha := newApp(t, st, "alpha")
	beta := newApp(t, st, "beta")
	ok(t, "PutMember", st.PutMember(ctx, store.Member{AppID: alpha.ID, UserID: member.ID, Role: store.AppRoleViewer}))
	ok(t, "PutMember", st.PutMember(ctx, store.Member{AppID: gamma.ID, UserID: member.ID, Role: store.AppRoleEditor}))

	gw, _ := deploy(t, st, gamma, "w", "1", admin.ID)
	ay, _ := deploy(t, st, alpha, "y", "1", admin.ID)
	ax, _ := deploy(t, st, alpha, "x", "1", admin.ID)
	ax, _ = deploy(t, st, alpha, "x", "2", admin.ID)
	bz, _ := deploy(t, st, beta, "z", "1", admin.ID)

	for _, tc := range []struct {
		name   string
		userID int64
		admin  bool
		want   []store.Script
	}{
		{"admin", admin.ID, true, []store.Script{ax, ay, bz, gw}},
		{"member", member.ID, false, []store.Script{ax, ay, gw}},
		{"stranger", stranger.ID, false, []store.Script{}},
		{"admin flag without membership", stranger.ID, true, []store.Script{ax, ay, bz, gw}},
	} {
		got, err := st.ListScriptsForUser(ctx, tc.userID, tc.admin)
		ok(t, "ListScriptsForUser "+tc.name, err)
		check(t, "ListScriptsForUser "+tc.name, got, tc.want)
	}
}

// testDeleteApp checks that deleting an app takes its scripts, versions,
// members and invocation logs, and nothing of another app.
func testDeleteApp(t *testing.T, st store.Store) {
	ctx := t.Context()
	u := newUser(t, st, "alice", store.RoleMember)
	doomed := newApp(t, st, "doomed")
	kept := newApp(t, st, "kept")
	for _, a := range []store.App{doomed, kept} {
		ok(t, "PutMember", st.PutMember(ctx, store.Member{AppID: a.ID, UserID: u.ID, Role: store.AppRoleEditor}))
	}
	d1, _ := deploy(t, st, doomed, "one", "1", u.ID)
	d1, _ = deploy(t, st, doomed, "one", "2", u.ID)
	d2, _ := deploy(t, st, doomed, "two", "1", u.ID)
	k1, kv := deploy(t, st, kept, "one", "1", u.ID)
	invs := []store.Invocation{
		{ID: "inv-d1", AppID: doomed.ID, Script: "one", Version: 2, Trigger: store.TriggerHTTP, StartedAt: at(0), Status: store.StatusOK, HTTPStatus: 200},
		{ID: "inv-d2", AppID: doomed.ID, Script: "two", Version: 1, Trigger: store.TriggerHTTP, StartedAt: at(time.Second), Status: store.StatusError, HTTPStatus: 500},
		{ID: "inv-k1", AppID: kept.ID, Script: "one", Version: 1, Trigger: store.TriggerHTTP, StartedAt: at(0), Status: store.StatusOK, HTTPStatus: 200},
	}
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, invs))

	ok(t, "DeleteApp", st.DeleteApp(ctx, doomed.ID))

	_, err := st.GetApp(ctx, "doomed")
	wantErr(t, "GetApp", err, store.ErrNotFound)
	for _, sc := range []store.Script{d1, d2} {
		_, err = st.GetScript(ctx, doomed.ID, sc.Name)
		wantErr(t, "GetScript "+sc.Name, err, store.ErrNotFound)
		_, err = st.GetVersion(ctx, sc.ID, 1)
		wantErr(t, "GetVersion of "+sc.Name, err, store.ErrNotFound)
		versions, err := st.ListVersions(ctx, sc.ID)
		ok(t, "ListVersions", err)
		if len(versions) != 0 {
			t.Errorf("ListVersions of %s = %+v, want none", sc.Name, versions)
		}
		_, err = st.GetLiveScript(ctx, "doomed", sc.Name)
		wantErr(t, "GetLiveScript "+sc.Name, err, store.ErrNotFound)
	}
	_, err = st.GetMember(ctx, doomed.ID, u.ID)
	wantErr(t, "GetMember", err, store.ErrNotFound)
	members, err := st.ListMembers(ctx, doomed.ID)
	ok(t, "ListMembers", err)
	if len(members) != 0 {
		t.Errorf("ListMembers = %+v, want none", members)
	}
	for _, id := range []string{"inv-d1", "inv-d2"} {
		_, err = st.GetInvocation(ctx, id)
		wantErr(t, "GetInvocation "+id, err, store.ErrNotFound)
	}
	logs, err := st.ListInvocations(ctx, store.InvocationFilter{AppID: doomed.ID})
	ok(t, "ListInvocations", err)
	if len(logs) != 0 {
		t.Errorf("ListInvocations of the deleted app = %+v, want none", logs)
	}

	// The other app is whole.
	apps, err := st.ListAppsForUser(ctx, u.ID)
	ok(t, "ListAppsForUser", err)
	check(t, "ListAppsForUser", apps, []store.App{kept})
	scripts, err := st.ListScriptsForUser(ctx, u.ID, true)
	ok(t, "ListScriptsForUser", err)
	check(t, "ListScriptsForUser", scripts, []store.Script{k1})
	live, err := st.GetLiveScript(ctx, "kept", "one")
	ok(t, "GetLiveScript of the kept app", err)
	check(t, "GetLiveScript of the kept app", live.Version, kv)
	_, err = st.GetMember(ctx, kept.ID, u.ID)
	ok(t, "GetMember of the kept app", err)
	logs, err = st.ListInvocations(ctx, store.InvocationFilter{})
	ok(t, "ListInvocations", err)
	if len(logs) != 1 || logs[0].ID != "inv-k1" {
		t.Errorf("ListInvocations of every app = %+v, want only inv-k1", logs)
	}
	_, err = st.GetUser(ctx, u.ID)
	ok(t, "GetUser member of the deleted app", err)

	// A log record that arrives late for the deleted app is dropped.
	late := store.Invocation{ID: "inv-late", AppID: doomed.ID, Script: "one", Trigger: store.TriggerHTTP, StartedAt: at(time.Minute), Status: store.StatusOK, HTTPStatus: 200}
	ok(t, "InsertInvocations for a deleted app", st.InsertInvocations(ctx, []store.Invocation{late}))
	_, err = st.GetInvocation(ctx, "inv-late")
	wantErr(t, "GetInvocation of a late record", err, store.ErrNotFound)

	wantErr(t, "DeleteApp again", st.DeleteApp(ctx, doomed.ID), store.ErrNotFound)
}
