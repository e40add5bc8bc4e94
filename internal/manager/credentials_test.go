package manager

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store/dbtest"
)

// The attack: a password change left every other session of the user
// working, so whoever had stolen one kept the account.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	dbtest.Run(t, testPasswordChangeEndsOtherSessions)
}

func testPasswordChangeEndsOtherSessions(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	mine, stolen := e.login("viewer", "password-viewer"), e.login("viewer", "password-viewer")
	res := e.do("PUT", "/api/v1/users/viewer/password", `{"password": "new-password-1", "current_password": "password-viewer"}`, mine, "application/json")
	if res.status != 204 {
		t.Fatalf("change: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/api/v1/whoami", "", stolen, ""); res.status != 401 {
		t.Fatalf("another session after the change: %d", res.status)
	}
	if res := e.do("GET", "/api/v1/whoami", "", mine, ""); res.status != 200 {
		t.Fatalf("the session that made the change: %d", res.status)
	}
	// Other users' sessions stay.
	if res := e.do("GET", "/api/v1/whoami", "", asEditor, ""); res.status != 200 {
		t.Fatalf("another user's session: %d", res.status)
	}
	// An administrator's reset ends them all.
	if res := e.do("PUT", "/api/v1/users/viewer/password", `{"password": "new-password-2"}`, asAdmin, "application/json"); res.status != 204 {
		t.Fatalf("reset: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/api/v1/whoami", "", mine, ""); res.status != 401 {
		t.Fatalf("the user's session after an administrator's reset: %d", res.status)
	}
	if res := e.do("GET", "/api/v1/whoami", "", asAdmin, ""); res.status != 200 {
		t.Fatalf("the administrator's own session: %d", res.status)
	}
	// So does the offline reset (picloud admin reset-password).
	s := e.login("viewer", "new-password-2")
	if err := CreateOrResetUser(context.Background(), e.st, "viewer", "new-password-3", "member"); err != nil {
		t.Fatal(err)
	}
	if res := e.do("GET", "/api/v1/whoami", "", s, ""); res.status != 401 {
		t.Fatalf("a session after the offline reset: %d", res.status)
	}
}

// The attack: any session or API key, however old, could mint a new
// API key, which outlives every session.
func TestAPIKeyCreationNeedsAFreshSignIn(t *testing.T) {
	dbtest.Run(t, testAPIKeyCreationNeedsAFreshSignIn)
}

func testAPIKeyCreationNeedsAFreshSignIn(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	session := e.login("editor", "password-editor")
	create := func(as, body string) response {
		return e.do("POST", "/api/v1/api-keys", body, as, "application/json")
	}
	if res := create(session, `{"name": "fresh"}`); res.status != 201 {
		t.Fatalf("with a fresh session: %d %s", res.status, res.body)
	}
	clock := time.Now().Add(10*time.Minute + time.Second)
	e.m.now = func() time.Time { return clock }
	res := create(session, `{"name": "stale"}`)
	if res.status != 403 || !strings.Contains(res.body, `"code":"password_required"`) {
		t.Fatalf("with a session 10 minutes old: %d %s", res.status, res.body)
	}
	if res := create(session, `{"name": "stale", "password": "wrong-password"}`); res.status != 403 || !strings.Contains(res.body, "wrong") {
		t.Fatalf("with a wrong password: %d %s", res.status, res.body)
	}
	if res := create(session, `{"name": "stale", "password": "password-editor"}`); res.status != 201 {
		t.Fatalf("with the password: %d %s", res.status, res.body)
	}
	if res := create(asEditorKey, `{"name": "by-key"}`); res.status != 403 || !strings.Contains(res.body, `"code":"password_required"`) {
		t.Fatalf("with an API key: %d %s", res.status, res.body)
	}
	if res := create(asEditorKey, `{"name": "by-key", "password": "password-editor"}`); res.status != 201 {
		t.Fatalf("with an API key and the password: %d %s", res.status, res.body)
	}
	// Nothing was created by the refused requests.
	list := e.do("GET", "/api/v1/api-keys", "", asEditorKey, "")
	if strings.Count(list.body, `"name":"stale"`) != 1 || strings.Count(list.body, `"name":"by-key"`) != 1 {
		t.Fatalf("keys: %s", list.body)
	}
	// Wrong passwords here count towards the sign-in throttle.
	for range 5 {
		create(session, `{"name": "guess", "password": "wrong-password"}`)
	}
	if res := create(session, `{"name": "guess", "password": "password-editor"}`); res.status != 429 {
		t.Fatalf("after 5 wrong passwords: %d %s", res.status, res.body)
	}
}

// An API key's last use is written at most once a minute, not on every
// request.
func TestAPIKeyLastUsedIsThrottled(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		clock := time.Now()
		e.m.now = func() time.Time { return clock }
		lastUsed := func() string {
			var keys []struct {
				LastUsedAt *string `json:"last_used_at"`
			}
			e.do("GET", "/api/v1/api-keys", "", asEditor, "").decode(t, &keys)
			if len(keys) != 1 {
				t.Fatalf("%d keys, want the seeded one", len(keys))
			}
			if keys[0].LastUsedAt == nil {
				return "never"
			}
			return *keys[0].LastUsedAt
		}
		e.do("GET", "/api/v1/whoami", "", asEditorKey, "")
		first := lastUsed()
		if first == "never" {
			t.Fatalf("a used key has no last use: %s", first)
		}
		clock = clock.Add(30 * time.Second)
		e.do("GET", "/api/v1/whoami", "", asEditorKey, "")
		if got := lastUsed(); got != first {
			t.Fatalf("written again within the minute: %s, then %s", first, got)
		}
		clock = clock.Add(31 * time.Second)
		e.do("GET", "/api/v1/whoami", "", asEditorKey, "")
		if got := lastUsed(); got == first {
			t.Fatalf("not written after a minute: %s", got)
		}
	})
}
