package manager

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/auth"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestLogoutInvalidatesSession(t *testing.T) { dbtest.Run(t, testLogoutInvalidatesSession) }

func testLogoutInvalidatesSession(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	token := e.login("viewer", "password-viewer")
	other := e.tokens[asViewer] // an earlier session of the same user
	if res := e.do("GET", "/api/v1/whoami", "", token, ""); res.status != 200 {
		t.Fatalf("whoami before logout: %d", res.status)
	}
	if res := e.do("POST", "/api/v1/auth/logout", "", token, ""); res.status != http.StatusNoContent || res.body != "" {
		t.Fatalf("logout: %d %q", res.status, res.body)
	}
	if _, err := e.st.GetSession(context.Background(), auth.HashToken(token)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the session is still stored: %v", err)
	}
	for _, path := range []string{"/api/v1/whoami", "/api/v1/apps"} {
		if res := e.do("GET", path, "", token, ""); res.status != 401 {
			t.Fatalf("GET %s after logout: %d", path, res.status)
		}
	}
	if res := e.do("POST", "/api/v1/auth/logout", "", token, ""); res.status != 401 {
		t.Fatalf("second logout: %d", res.status)
	}
	if res := e.do("GET", "/api/v1/whoami", "", other, ""); res.status != 200 {
		t.Fatalf("another session of the user ended too: %d", res.status)
	}
}

func TestLogoutWithAPIKey(t *testing.T) { dbtest.Run(t, testLogoutWithAPIKey) }

func testLogoutWithAPIKey(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	res := e.do("POST", "/api/v1/auth/logout", "", asEditorKey, "")
	if res.status != 400 || !strings.Contains(res.body, "api-keys") {
		t.Fatalf("logout with an API key: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/api/v1/whoami", "", asEditorKey, ""); res.status != 200 {
		t.Fatalf("the key stopped working: %d", res.status)
	}
}

func TestSessionExpiry(t *testing.T) { dbtest.Run(t, testSessionExpiry) }

func testSessionExpiry(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	token := e.login("viewer", "password-viewer")
	var out struct {
		ExpiresAt string `json:"expires_at"`
	}
	e.do("POST", "/api/v1/auth/login", `{"username": "viewer", "password": "password-viewer"}`, "", "application/json").decode(t, &out)
	exp, err := time.Parse(time.RFC3339, out.ExpiresAt)
	if err != nil || !strings.HasSuffix(out.ExpiresAt, "Z") {
		t.Fatalf("expires_at %q: %v", out.ExpiresAt, err)
	}
	if d := time.Until(exp); d < DefaultSessionTTL-time.Minute || d > DefaultSessionTTL {
		t.Fatalf("session lasts %v, want %v", d, DefaultSessionTTL)
	}
	e.m.now = func() time.Time { return time.Now().Add(DefaultSessionTTL + time.Second) }
	if res := e.do("GET", "/api/v1/whoami", "", token, ""); res.status != 401 {
		t.Fatalf("expired session: %d", res.status)
	}
	if _, err := e.st.GetSession(context.Background(), auth.HashToken(token)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the expired session is still stored: %v", err)
	}
	// API keys do not expire.
	if res := e.do("GET", "/api/v1/whoami", "", asEditorKey, ""); res.status != 200 {
		t.Fatalf("API key after the session TTL: %d", res.status)
	}
}

func TestAPIKeyRevocation(t *testing.T) { dbtest.Run(t, testAPIKeyRevocation) }

func testAPIKeyRevocation(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	res := e.do("POST", "/api/v1/api-keys", `{"name": "deploy-bot"}`, asEditor, "application/json")
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var key struct {
		ID       int64  `json:"id"`
		RawToken string `json:"raw_token"`
	}
	res.decode(t, &key)
	// The key acts as its owner, including for writes.
	if res := e.do("PUT", "/api/v1/apps/demo/scripts/bot", `{"source": "1"}`, key.RawToken, "application/json"); res.status != 201 {
		t.Fatalf("deploy with the key: %d %s", res.status, res.body)
	}
	if _, err := e.st.GetAPIKeyByHash(context.Background(), auth.HashToken(key.RawToken)); err != nil {
		t.Fatalf("the key is not stored by its hash: %v", err)
	}
	if res := e.do("DELETE", "/api/v1/api-keys/"+strconv.FormatInt(key.ID, 10), "", key.RawToken, ""); res.status != 204 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	for _, req := range [][2]string{{"GET", "/api/v1/whoami"}, {"GET", "/api/v1/apps/demo/scripts"}, {"PUT", "/api/v1/apps/demo/scripts/bot"}} {
		if res := e.do(req[0], req[1], `{"source": "2"}`, key.RawToken, "application/json"); res.status != 401 {
			t.Fatalf("%s %s after revocation: %d", req[0], req[1], res.status)
		}
	}
	if n := e.versions("demo", "bot"); n != 1 {
		t.Fatalf("%d versions of bot; the revoked key deployed", n)
	}
	if res := e.do("GET", "/api/v1/whoami", "", asEditorKey, ""); res.status != 200 {
		t.Fatalf("another key of the user stopped working: %d", res.status)
	}
	if res := e.do("DELETE", "/api/v1/api-keys/"+strconv.FormatInt(key.ID, 10), "", asEditor, ""); res.status != 404 {
		t.Fatalf("second revoke: %d", res.status)
	}
}

func TestLoginThrottle(t *testing.T) { dbtest.Run(t, testLoginThrottle) }

func testLoginThrottle(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	clock := time.Now()
	e.m.now = func() time.Time { return clock }
	login := func(user, pw string) response {
		return e.do("POST", "/api/v1/auth/login", `{"username": "`+user+`", "password": "`+pw+`"}`, "", "application/json")
	}
	for i := range 5 {
		if res := login("viewer", "wrong-password"); res.status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, res.status, res.body)
		}
	}
	res := login("viewer", "wrong-password")
	if res.status != 429 || res.header.Get("Retry-After") != "1" || !strings.Contains(res.body, `"code":"too_many_requests"`) {
		t.Fatalf("sixth attempt: %d Retry-After %q %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	// Throttled means not checked: the right password is refused too.
	if res := login("viewer", "password-viewer"); res.status != 429 {
		t.Fatalf("right password while throttled: %d", res.status)
	}
	// Other users are not affected.
	if res := login("editor", "password-editor"); res.status != 200 {
		t.Fatalf("another user: %d", res.status)
	}
	// After the window, one more failure doubles it.
	clock = clock.Add(time.Second)
	if res := login("viewer", "still-wrong"); res.status != 401 {
		t.Fatalf("after the window: %d", res.status)
	}
	if res := login("viewer", "password-viewer"); res.status != 429 || res.header.Get("Retry-After") != "2" {
		t.Fatalf("after a seventh failure: %d Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
	clock = clock.Add(2 * time.Second)
	if res := login("viewer", "password-viewer"); res.status != 200 {
		t.Fatalf("right password after the window: %d %s", res.status, res.body)
	}
	// Success starts the user afresh.
	for i := range 5 {
		if res := login("viewer", "wrong-password"); res.status != 401 {
			t.Fatalf("failure %d after success: %d", i+1, res.status)
		}
	}
}

func TestLoginThrottleByAddress(t *testing.T) { dbtest.Run(t, testLoginThrottleByAddress) }

func testLoginThrottleByAddress(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	// Guessing across many user names from one address.
	for i := range 30 {
		res := e.do("POST", "/api/v1/auth/login", `{"username": "user`+strconv.Itoa(i)+`", "password": "password-x"}`, "", "application/json")
		if res.status != 401 {
			t.Fatalf("attempt %d: %d", i+1, res.status)
		}
	}
	res := e.do("POST", "/api/v1/auth/login", `{"username": "viewer", "password": "password-viewer"}`, "", "application/json")
	if res.status != 429 || res.header.Get("Retry-After") == "" {
		t.Fatalf("after 30 failures from one address: %d %s", res.status, res.body)
	}
}

func TestPasswordChangeThrottle(t *testing.T) { dbtest.Run(t, testPasswordChangeThrottle) }

func testPasswordChangeThrottle(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	for i := range 5 {
		res := e.do("PUT", "/api/v1/users/viewer/password", `{"password": "new-password", "current_password": "guess`+strconv.Itoa(i)+`"}`, asViewer, "application/json")
		if res.status != 403 {
			t.Fatalf("guess %d: %d", i+1, res.status)
		}
	}
	res := e.do("PUT", "/api/v1/users/viewer/password", `{"password": "new-password", "current_password": "password-viewer"}`, asViewer, "application/json")
	if res.status != 429 || res.header.Get("Retry-After") != "1" {
		t.Fatalf("after 5 wrong current passwords: %d Retry-After %q %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	u, err := e.st.GetUserByName(context.Background(), "viewer")
	if ok, _ := auth.VerifyPassword(u.PasswordHash, "password-viewer"); err != nil || !ok {
		t.Fatal("the password changed")
	}
	// The guesses count towards the login throttle of that user only.
	if res := e.do("POST", "/api/v1/auth/login", `{"username": "viewer", "password": "password-viewer"}`, "", "application/json"); res.status != 429 {
		t.Fatalf("login after the guesses: %d", res.status)
	}
	e.login("editor", "password-editor")
}

func TestStoreFailureIsInternal(t *testing.T) { dbtest.Run(t, testStoreFailureIsInternal) }

func testStoreFailureIsInternal(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	token := e.tokens[asAdmin]
	e.st.Close()
	res := e.do("GET", "/api/v1/apps", "", token, "")
	if res.status != 500 || !strings.Contains(res.body, `{"error":{"code":"internal","message":"internal error"}}`) {
		t.Fatalf("closed store: %d %s", res.status, res.body)
	}
	if strings.Contains(res.body, "sqlite") || strings.Contains(res.body, "postgres") {
		t.Fatalf("internal details leak: %s", res.body)
	}
}

func TestTimesAreRFC3339UTC(t *testing.T) { dbtest.Run(t, testTimesAreRFC3339UTC) }

func testTimesAreRFC3339UTC(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	for _, path := range []string{"/api/v1/users", "/api/v1/apps", "/api/v1/scripts", "/api/v1/apps/demo/logs", "/api/v1/api-keys"} {
		as := asAdmin
		if path == "/api/v1/api-keys" {
			as = asEditor
		}
		res := e.do("GET", path, "", as, "")
		var rows []map[string]any
		res.decode(t, &rows)
		if len(rows) == 0 {
			t.Fatalf("%s: empty", path)
		}
		for _, row := range rows {
			for k, v := range row {
				if !strings.HasSuffix(k, "_at") || v == nil {
					continue
				}
				s, _ := v.(string)
				if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "Z") {
					t.Errorf("%s: %s = %v is not RFC 3339 UTC", path, k, v)
				}
			}
		}
	}
}

func TestEnsureAdmin(t *testing.T) { dbtest.Run(t, testEnsureAdmin) }

func testEnsureAdmin(t *testing.T, b dbtest.Backend) {
	st := openStore(t, b)
	m := newManager(st, nil)
	ctx := context.Background()

	created, pw, err := m.EnsureAdmin(ctx, "root", "")
	if err != nil || !created || len(pw) != auth.GeneratedPasswordLen {
		t.Fatalf("EnsureAdmin = %v, %q, %v", created, pw, err)
	}
	u, err := st.GetUserByName(ctx, "root")
	if err != nil || u.Role != store.RoleAdmin {
		t.Fatalf("root: %+v, %v", u, err)
	}
	if ok, _ := auth.VerifyPassword(u.PasswordHash, pw); !ok {
		t.Fatal("the returned password does not match")
	}
	// An admin exists: nothing changes.
	created, pw2, err := m.EnsureAdmin(ctx, "root", "other-password")
	if err != nil || created || pw2 != "" {
		t.Fatalf("second EnsureAdmin = %v, %q, %v", created, pw2, err)
	}
	if u2, _ := st.GetUserByName(ctx, "root"); u2.PasswordHash != u.PasswordHash {
		t.Fatal("the second call changed the password")
	}

	// A given password is used as it is; a too short one is refused.
	st2 := openStore(t, b)
	m2 := newManager(st2, nil)
	if _, _, err := m2.EnsureAdmin(ctx, "admin", "short"); err == nil {
		t.Fatal("a 5-character admin password was accepted")
	}
	created, pw, err = m2.EnsureAdmin(ctx, "admin", "from-the-environment")
	if err != nil || !created || pw != "from-the-environment" {
		t.Fatalf("EnsureAdmin with a password = %v, %q, %v", created, pw, err)
	}

	// A member of that name, with no admin left, is promoted.
	st3 := openStore(t, b)
	if err := CreateOrResetUser(ctx, st3, "admin", "member-password", store.RoleMember); err != nil {
		t.Fatal(err)
	}
	m3 := newManager(st3, nil)
	if created, _, err := m3.EnsureAdmin(ctx, "admin", "new-admin-password"); err != nil || !created {
		t.Fatalf("EnsureAdmin over a member = %v, %v", created, err)
	}
	if u, _ := st3.GetUserByName(ctx, "admin"); u.Role != store.RoleAdmin {
		t.Fatalf("role %q", u.Role)
	}
}

func TestCreateOrResetUser(t *testing.T) { dbtest.Run(t, testCreateOrResetUser) }

func testCreateOrResetUser(t *testing.T, b dbtest.Backend) {
	st := openStore(t, b)
	ctx := context.Background()
	if err := CreateOrResetUser(ctx, st, "alice", "first-password", store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := CreateOrResetUser(ctx, st, "alice", "second-password", store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := auth.VerifyPassword(u.PasswordHash, "second-password"); !ok {
		t.Fatal("the password was not reset")
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not use the default parameters", u.PasswordHash)
	}
	if err := CreateOrResetUser(ctx, st, "alice", "second-password", store.RoleMember); err == nil {
		t.Fatal("the last admin was demoted")
	}
	for _, bad := range [][3]string{{"Bad Name", "long-enough", "member"}, {"bob", "short", "member"}, {"bob", "long-enough", "root"}} {
		if err := CreateOrResetUser(ctx, st, bad[0], bad[1], bad[2]); err == nil || !strings.HasPrefix(err.Error(), "manager: ") {
			t.Errorf("CreateOrResetUser%q = %v, want a manager error", bad, err)
		}
	}
	if n, _ := st.CountAdmins(ctx); n != 1 {
		t.Fatalf("%d admins", n)
	}
}

func TestMetricsCountRoutes(t *testing.T) { dbtest.Run(t, testMetricsCountRoutes) }

func testMetricsCountRoutes(t *testing.T, b dbtest.Backend) {
	st := openStore(t, b)
	met := metrics.New()
	m := New(Config{Store: st, Metrics: met, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h := m.Handler()
	for _, path := range []string{"/api/v1/whoami", "/api/v1/no/such/thing"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	rec := httptest.NewRecorder()
	met.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`picloud_http_requests_total{code="401",route="GET /api/v1/whoami",service="manager"} 1`,
		`picloud_http_requests_total{code="404",route="unmatched",service="manager"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
