package storetest

import (
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

func testUsers(t *testing.T, st store.Store) {
	ctx := t.Context()

	before := time.Now()
	alice := store.User{Username: "alice", PasswordHash: "h-alice", Role: store.RoleAdmin}
	ok(t, "CreateUser", st.CreateUser(ctx, &alice))
	if alice.ID == 0 {
		t.Fatal("CreateUser did not set the ID")
	}
	checkStamped(t, "CreatedAt", alice.CreatedAt, before, time.Now())

	bob := store.User{Username: "bob", PasswordHash: "h-bob", Role: store.RoleMember, CreatedAt: at(0)}
	ok(t, "CreateUser", st.CreateUser(ctx, &bob))
	check(t, "CreatedAt given", bob.CreatedAt, at(0))
	if bob.ID == alice.ID {
		t.Fatalf("two users with ID %d", bob.ID)
	}
	aaron := newUser(t, st, "aaron", store.RoleMember)

	dup := store.User{Username: "alice", PasswordHash: "x", Role: store.RoleMember}
	wantErr(t, "CreateUser duplicate", st.CreateUser(ctx, &dup), store.ErrConflict)

	got, err := st.GetUser(ctx, alice.ID)
	ok(t, "GetUser", err)
	check(t, "GetUser", got, alice)
	got, err = st.GetUserByName(ctx, "bob")
	ok(t, "GetUserByName", err)
	check(t, "GetUserByName", got, bob)
	_, err = st.GetUser(ctx, 1<<40)
	wantErr(t, "GetUser unknown", err, store.ErrNotFound)
	_, err = st.GetUserByName(ctx, "carol")
	wantErr(t, "GetUserByName unknown", err, store.ErrNotFound)
	_, err = st.GetUserByName(ctx, "Alice")
	wantErr(t, "GetUserByName other case", err, store.ErrNotFound)

	list, err := st.ListUsers(ctx)
	ok(t, "ListUsers", err)
	check(t, "ListUsers", list, []store.User{aaron, alice, bob})

	n, err := st.CountAdmins(ctx)
	ok(t, "CountAdmins", err)
	if n != 1 {
		t.Errorf("CountAdmins = %d, want 1", n)
	}

	// UpdateUser changes the hash and the role, never the name.
	upd := bob
	upd.Username = "robert"
	upd.PasswordHash = "h-bob-2"
	upd.Role = store.RoleAdmin
	ok(t, "UpdateUser", st.UpdateUser(ctx, upd))
	got, err = st.GetUser(ctx, bob.ID)
	ok(t, "GetUser", err)
	want := bob
	want.PasswordHash, want.Role = "h-bob-2", store.RoleAdmin
	check(t, "GetUser after UpdateUser", got, want)
	n, err = st.CountAdmins(ctx)
	ok(t, "CountAdmins", err)
	if n != 2 {
		t.Errorf("CountAdmins after promotion = %d, want 2", n)
	}
	wantErr(t, "UpdateUser unknown", st.UpdateUser(ctx, store.User{ID: 1 << 40, PasswordHash: "x", Role: store.RoleMember}), store.ErrNotFound)

	ok(t, "DeleteUser", st.DeleteUser(ctx, bob.ID))
	_, err = st.GetUser(ctx, bob.ID)
	wantErr(t, "GetUser deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteUser again", st.DeleteUser(ctx, bob.ID), store.ErrNotFound)
	n, err = st.CountAdmins(ctx)
	ok(t, "CountAdmins", err)
	if n != 1 {
		t.Errorf("CountAdmins after delete = %d, want 1", n)
	}
	// The name is free again.
	newUser(t, st, "bob", store.RoleMember)
}

// testDeleteUser checks what goes with a user: its sessions, API keys and
// memberships, but not the versions it deployed.
func testDeleteUser(t *testing.T, st store.Store) {
	ctx := t.Context()
	u := newUser(t, st, "leaver", store.RoleMember)
	other := newUser(t, st, "stayer", store.RoleMember)
	app := newApp(t, st, "app")

	ok(t, "CreateSession", st.CreateSession(ctx, store.Session{TokenHash: "s-leaver", UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}))
	ok(t, "CreateSession", st.CreateSession(ctx, store.Session{TokenHash: "s-stayer", UserID: other.ID, ExpiresAt: time.Now().Add(time.Hour)}))
	k := store.APIKey{UserID: u.ID, Name: "k", TokenHash: "k-leaver", Prefix: "pk_1"}
	ok(t, "CreateAPIKey", st.CreateAPIKey(ctx, &k))
	ok(t, "PutMember", st.PutMember(ctx, store.Member{AppID: app.ID, UserID: u.ID, Role: store.AppRoleEditor}))
	ok(t, "PutMember", st.PutMember(ctx, store.Member{AppID: app.ID, UserID: other.ID, Role: store.AppRoleViewer}))
	sc, v := deploy(t, st, app, "hello", "1", u.ID)

	ok(t, "DeleteUser", st.DeleteUser(ctx, u.ID))

	_, err := st.GetSession(ctx, "s-leaver")
	wantErr(t, "GetSession of deleted user", err, store.ErrNotFound)
	_, err = st.GetAPIKeyByHash(ctx, "k-leaver")
	wantErr(t, "GetAPIKeyByHash of deleted user", err, store.ErrNotFound)
	_, err = st.GetMember(ctx, app.ID, u.ID)
	wantErr(t, "GetMember of deleted user", err, store.ErrNotFound)
	members, err := st.ListMembers(ctx, app.ID)
	ok(t, "ListMembers", err)
	if len(members) != 1 || members[0].UserID != other.ID {
		t.Errorf("ListMembers = %+v, want only %q", members, other.Username)
	}
	_, err = st.GetSession(ctx, "s-stayer")
	ok(t, "GetSession of another user", err)

	got, err := st.GetVersion(ctx, sc.ID, v.Version)
	ok(t, "GetVersion deployed by a deleted user", err)
	want := v
	want.CreatedBy = 0
	check(t, "GetVersion", got, want)
}

func testSessions(t *testing.T, st store.Store) {
	ctx := t.Context()
	u := newUser(t, st, "alice", store.RoleMember)

	s1 := store.Session{TokenHash: "t1", UserID: u.ID, CreatedAt: stamp(), ExpiresAt: stamp().Add(time.Hour)}
	ok(t, "CreateSession", st.CreateSession(ctx, s1))
	got, err := st.GetSession(ctx, "t1")
	ok(t, "GetSession", err)
	check(t, "GetSession", got, s1)

	wantErr(t, "CreateSession duplicate", st.CreateSession(ctx, store.Session{TokenHash: "t1", UserID: u.ID, ExpiresAt: stamp().Add(time.Hour)}), store.ErrConflict)
	wantErr(t, "CreateSession unknown user", st.CreateSession(ctx, store.Session{TokenHash: "t9", UserID: 1 << 40, ExpiresAt: stamp().Add(time.Hour)}), store.ErrNotFound)
	_, err = st.GetSession(ctx, "t9")
	wantErr(t, "GetSession unknown", err, store.ErrNotFound)

	// CreatedAt is set when zero.
	before := time.Now()
	ok(t, "CreateSession", st.CreateSession(ctx, store.Session{TokenHash: "t3", UserID: u.ID, ExpiresAt: stamp().Add(time.Hour)}))
	got, err = st.GetSession(ctx, "t3")
	ok(t, "GetSession", err)
	checkStamped(t, "CreatedAt", got.CreatedAt, before, time.Now())

	// An expired session is not returned.
	expired := store.Session{TokenHash: "t2", UserID: u.ID, CreatedAt: stamp().Add(-2 * time.Hour), ExpiresAt: stamp().Add(-time.Minute)}
	ok(t, "CreateSession expired", st.CreateSession(ctx, expired))
	_, err = st.GetSession(ctx, "t2")
	wantErr(t, "GetSession expired", err, store.ErrNotFound)

	// DeleteExpiredSessions removes t2 (its hash can be stored again) and
	// keeps the live ones.
	ok(t, "DeleteExpiredSessions", st.DeleteExpiredSessions(ctx, time.Now()))
	ok(t, "CreateSession after expiry", st.CreateSession(ctx, store.Session{TokenHash: "t2", UserID: u.ID, ExpiresAt: stamp().Add(time.Hour)}))
	_, err = st.GetSession(ctx, "t1")
	ok(t, "GetSession live after DeleteExpiredSessions", err)
	// At a later time, every session has expired.
	ok(t, "DeleteExpiredSessions", st.DeleteExpiredSessions(ctx, time.Now().Add(2*time.Hour)))
	for _, h := range []string{"t1", "t2", "t3"} {
		_, err = st.GetSession(ctx, h)
		wantErr(t, "GetSession "+h+" after DeleteExpiredSessions", err, store.ErrNotFound)
	}

	ok(t, "CreateSession", st.CreateSession(ctx, store.Session{TokenHash: "t4", UserID: u.ID, ExpiresAt: stamp().Add(time.Hour)}))
	ok(t, "DeleteSession", st.DeleteSession(ctx, "t4"))
	_, err = st.GetSession(ctx, "t4")
	wantErr(t, "GetSession deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteSession again", st.DeleteSession(ctx, "t4"), store.ErrNotFound)

	// DeleteUserSessions ends a user's sessions but the one kept, and no
	// one else's.
	bob := newUser(t, st, "bob", store.RoleMember)
	for _, s := range []store.Session{{TokenHash: "a1", UserID: u.ID}, {TokenHash: "a2", UserID: u.ID}, {TokenHash: "a3", UserID: u.ID}, {TokenHash: "b1", UserID: bob.ID}} {
		s.ExpiresAt = stamp().Add(time.Hour)
		ok(t, "CreateSession", st.CreateSession(ctx, s))
	}
	ok(t, "DeleteUserSessions", st.DeleteUserSessions(ctx, u.ID, "a2"))
	for h, live := range map[string]bool{"a1": false, "a2": true, "a3": false, "b1": true} {
		_, err := st.GetSession(ctx, h)
		if live {
			ok(t, "GetSession "+h+" after DeleteUserSessions", err)
		} else {
			wantErr(t, "GetSession "+h+" after DeleteUserSessions", err, store.ErrNotFound)
		}
	}
	ok(t, "DeleteUserSessions keeping none", st.DeleteUserSessions(ctx, u.ID, ""))
	_, err = st.GetSession(ctx, "a2")
	wantErr(t, "GetSession a2 after DeleteUserSessions keeping none", err, store.ErrNotFound)
	ok(t, "DeleteUserSessions of a user without sessions", st.DeleteUserSessions(ctx, u.ID, ""))
}

func testAPIKeys(t *testing.T, st store.Store) {
	ctx := t.Context()
	alice := newUser(t, st, "alice", store.RoleMember)
	bob := newUser(t, st, "bob", store.RoleMember)
	carol := newUser(t, st, "carol", store.RoleMember)

	before := time.Now()
	k1 := store.APIKey{UserID: alice.ID, Name: "laptop", TokenHash: "h1", Prefix: "pk_aaaa"}
	ok(t, "CreateAPIKey", st.CreateAPIKey(ctx, &k1))
	if k1.ID == 0 {
		t.Fatal("CreateAPIKey did not set the ID")
	}
	checkStamped(t, "CreatedAt", k1.CreatedAt, before, time.Now())
	k2 := store.APIKey{UserID: alice.ID, Name: "ci", TokenHash: "h2", Prefix: "pk_bbbb", CreatedAt: at(0)}
	ok(t, "CreateAPIKey", st.CreateAPIKey(ctx, &k2))
	k3 := store.APIKey{UserID: bob.ID, Name: "laptop", TokenHash: "h3", Prefix: "pk_cccc"}
	ok(t, "CreateAPIKey", st.CreateAPIKey(ctx, &k3))

	wantErr(t, "CreateAPIKey duplicate hash", st.CreateAPIKey(ctx, &store.APIKey{UserID: bob.ID, Name: "x", TokenHash: "h1", Prefix: "pk_x"}), store.ErrConflict)
	wantErr(t, "CreateAPIKey unknown user", st.CreateAPIKey(ctx, &store.APIKey{UserID: 1 << 40, Name: "x", TokenHash: "h9", Prefix: "pk_x"}), store.ErrNotFound)

	got, err := st.GetAPIKeyByHash(ctx, "h1")
	ok(t, "GetAPIKeyByHash", err)
	check(t, "GetAPIKeyByHash", got, k1)
	if !got.LastUsed.IsZero() {
		t.Errorf("LastUsed of a new key = %v, want zero", got.LastUsed)
	}
	_, err = st.GetAPIKeyByHash(ctx, "h9")
	wantErr(t, "GetAPIKeyByHash unknown", err, store.ErrNotFound)

	list, err := st.ListAPIKeys(ctx, alice.ID)
	ok(t, "ListAPIKeys", err)
	check(t, "ListAPIKeys alice", list, []store.APIKey{k1, k2})
	list, err = st.ListAPIKeys(ctx, bob.ID)
	ok(t, "ListAPIKeys", err)
	check(t, "ListAPIKeys bob", list, []store.APIKey{k3})
	list, err = st.ListAPIKeys(ctx, carol.ID)
	ok(t, "ListAPIKeys", err)
	if list == nil || len(list) != 0 {
		t.Errorf("ListAPIKeys of a user without keys = %#v, want empty", list)
	}

	used := at(time.Hour)
	ok(t, "TouchAPIKey", st.TouchAPIKey(ctx, k1.ID, used))
	got, err = st.GetAPIKeyByHash(ctx, "h1")
	ok(t, "GetAPIKeyByHash", err)
	check(t, "LastUsed", got.LastUsed, used)
	wantErr(t, "TouchAPIKey unknown", st.TouchAPIKey(ctx, 1<<40, used), store.ErrNotFound)

	// Only the owner deletes a key.
	wantErr(t, "DeleteAPIKey by another user", st.DeleteAPIKey(ctx, bob.ID, k1.ID), store.ErrNotFound)
	_, err = st.GetAPIKeyByHash(ctx, "h1")
	ok(t, "GetAPIKeyByHash after a denied delete", err)
	ok(t, "DeleteAPIKey", st.DeleteAPIKey(ctx, alice.ID, k1.ID))
	_, err = st.GetAPIKeyByHash(ctx, "h1")
	wantErr(t, "GetAPIKeyByHash deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteAPIKey again", st.DeleteAPIKey(ctx, alice.ID, k1.ID), store.ErrNotFound)
	list, err = st.ListAPIKeys(ctx, alice.ID)
	ok(t, "ListAPIKeys", err)
	check(t, "ListAPIKeys after delete", list, []store.APIKey{k2})
}
