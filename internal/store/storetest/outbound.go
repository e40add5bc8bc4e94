package storetest

import (
	"testing"

	"github.com/picloud/picloud/internal/store"
)

// testAppOutbound: an app's outbound policy is stored by CreateApp and
// UpdateApp, and read back by every read of an app, including the data
// plane's GetLiveScript.
func testAppOutbound(t *testing.T, st store.Store) {
	ctx := t.Context()
	u := newUser(t, st, "alice", store.RoleMember)

	plain := newApp(t, st, "plain")
	got, err := st.GetApp(ctx, "plain")
	ok(t, "GetApp", err)
	check(t, "the outbound policy of a new app", got.Outbound, store.AppOutbound{})

	hooks := store.App{Slug: "hooks", Outbound: store.AppOutbound{Allow: []string{"api.github.com", "*.stripe.com:443"}}}
	ok(t, "CreateApp with an outbound policy", st.CreateApp(ctx, &hooks))
	got, err = st.GetApp(ctx, "hooks")
	ok(t, "GetApp", err)
	check(t, "GetApp after CreateApp", got, hooks)

	hooks.Outbound = store.AppOutbound{Allow: []string{"[2001:db8::1]:8443"}, Private: []string{"10.0.0.7", "10.1.0.0/16"}}
	hooks.Limits = store.AppLimits{TimeoutMS: 900}
	ok(t, "UpdateApp", st.UpdateApp(ctx, hooks))
	got, err = st.GetApp(ctx, "hooks")
	ok(t, "GetApp after UpdateApp", err)
	check(t, "GetApp after UpdateApp", got, hooks)

	list, err := st.ListApps(ctx)
	ok(t, "ListApps", err)
	check(t, "ListApps", list, []store.App{hooks, plain})
	ok(t, "PutMember", st.PutMember(ctx, store.Member{AppID: hooks.ID, UserID: u.ID, Role: store.AppRoleEditor}))
	mine, err := st.ListAppsForUser(ctx, u.ID)
	ok(t, "ListAppsForUser", err)
	check(t, "ListAppsForUser", mine, []store.App{hooks})

	deploy(t, st, hooks, "call", `http::get("https://api.github.com")`, u.ID)
	live, err := st.GetLiveScript(ctx, "hooks", "call")
	ok(t, "GetLiveScript", err)
	check(t, "GetLiveScript's app", live.App, hooks)

	// Turning outbound HTTP off again clears the list.
	hooks.Outbound = store.AppOutbound{}
	ok(t, "UpdateApp clearing the policy", st.UpdateApp(ctx, hooks))
	live, err = st.GetLiveScript(ctx, "hooks", "call")
	ok(t, "GetLiveScript", err)
	check(t, "the outbound policy after clearing it", live.App.Outbound, store.AppOutbound{})
}
