package storetest

import (
	"testing"

	"github.com/picloud/picloud/internal/store"
)

// testScriptVisibility checks DeployScriptAs: a new script takes
// NewPrivate, a visibility once set survives deploys that do not say, and
// reads (GetScript, ListScripts, GetLiveScript, RollbackScript) carry it.
func testScriptVisibility(t *testing.T, st store.Store) {
	ctx := t.Context()
	app := newApp(t, st, "vis")
	yes, no := true, false
	deployAs := func(d store.Deploy) store.Script {
		t.Helper()
		d.AppID = app.ID
		sc, _, err := st.DeployScriptAs(ctx, d)
		ok(t, "DeployScriptAs", err)
		return sc
	}
	wantPrivate := func(what, name string, want bool) {
		t.Helper()
		sc, err := st.GetScript(ctx, app.ID, name)
		ok(t, "GetScript", err)
		live, err := st.GetLiveScript(ctx, app.Slug, name)
		ok(t, "GetLiveScript", err)
		if sc.Private != want || live.Script.Private != want {
			t.Errorf("%s: private = %v (GetScript), %v (GetLiveScript); want %v", what, sc.Private, live.Script.Private, want)
		}
	}

	// A new script takes NewPrivate; DeployScript makes public ones.
	if sc := deployAs(store.Deploy{Name: "utils", Source: "fn f() {}", NewPrivate: true}); !sc.Private {
		t.Errorf("new script with NewPrivate: %+v", sc)
	}
	wantPrivate("new private", "utils", true)
	pub, _ := deploy(t, st, app, "api", "1", 0)
	if pub.Private {
		t.Errorf("DeployScript made a private script: %+v", pub)
	}

	// A deploy that does not say keeps the script's visibility, whatever
	// NewPrivate says; one that says sets it.
	if sc := deployAs(store.Deploy{Name: "utils", Source: "2", NewPrivate: false}); !sc.Private {
		t.Errorf("a redeploy without a choice made the script public: %+v", sc)
	}
	wantPrivate("redeploy", "utils", true)
	if sc := deployAs(store.Deploy{Name: "utils", Source: "3", Private: &no}); sc.Private {
		t.Errorf("Private false: %+v", sc)
	}
	wantPrivate("made public", "utils", false)
	if sc := deployAs(store.Deploy{Name: "api", Source: "2", Private: &yes, NewPrivate: false}); !sc.Private {
		t.Errorf("Private true: %+v", sc)
	}
	if sc, _ := deploy(t, st, app, "api", "3", 0); !sc.Private {
		t.Errorf("DeployScript made a private script public: %+v", sc)
	}
	wantPrivate("made private", "api", true)
	if sc := deployAs(store.Deploy{Name: "new", Source: "1", Private: &no, NewPrivate: true}); sc.Private {
		t.Errorf("a new script with Private false: %+v", sc)
	}

	// Lists and rollbacks carry it.
	list, err := st.ListScripts(ctx, app.ID)
	ok(t, "ListScripts", err)
	for _, sc := range list {
		if want := sc.Name == "api"; sc.Private != want {
			t.Errorf("ListScripts: %s private = %v, want %v", sc.Name, sc.Private, want)
		}
	}
	api, err := st.GetScript(ctx, app.ID, "api")
	ok(t, "GetScript", err)
	sc, _, err := st.RollbackScript(ctx, api.ID, 1, 0)
	ok(t, "RollbackScript", err)
	if !sc.Private {
		t.Errorf("RollbackScript: %+v", sc)
	}
	wantPrivate("rolled back", "api", true)

	// SetScriptPrivate changes it and nothing else.
	ok(t, "SetScriptPrivate", st.SetScriptPrivate(ctx, api.ID, false))
	wantPrivate("SetScriptPrivate false", "api", false)
	after, err := st.GetScript(ctx, app.ID, "api")
	ok(t, "GetScript", err)
	if after.LiveVersion != sc.LiveVersion {
		t.Errorf("SetScriptPrivate moved the live version from %d to %d", sc.LiveVersion, after.LiveVersion)
	}
	wantErr(t, "SetScriptPrivate of an unknown script", st.SetScriptPrivate(ctx, 99999, true), store.ErrNotFound)
}
