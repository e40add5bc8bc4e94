package manager

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/auth"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// How a caller authenticated.
const (
	viaSession = "session"
	viaAPIKey  = "api_key"
)

// apiKeyTouchInterval limits how often an API key's last use is written:
// once a minute is precise enough and keeps reads free of writes.
const apiKeyTouchInterval = time.Minute

// caller is the authenticated user of a request.
type caller struct {
	user      store.User
	via       string // viaSession or viaAPIKey
	tokenHash string
	signedIn  time.Time // when the session began; zero for an API key
}

func (c *caller) admin() bool { return c.user.Role == store.RoleAdmin }

// errUnauthenticated is the one answer to a missing, unknown, expired or
// revoked token: telling them apart would help someone guessing.
var errUnauthenticated = httpx.Unauthorized("missing, invalid or expired token; log in or use an API key (Authorization: Bearer <token>)")

// authenticate reads the bearer token and finds its user.
func (m *Manager) authenticate(r *http.Request) (*caller, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errUnauthenticated
	}
	token = strings.TrimSpace(token)
	kind := auth.KindOf(token)
	if kind == auth.TokenUnknown {
		return nil, errUnauthenticated // not worth a lookup
	}
	hash := auth.HashToken(token)
	ctx := r.Context()
	var userID int64
	var signedIn time.Time
	via := viaSession
	switch kind {
	case auth.TokenSession:
		s, err := m.store.GetSession(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUnauthenticated
		}
		if err != nil {
			return nil, fmt.Errorf("manager: unable to read a session: %w", err)
		}
		if !auth.Equal(s.TokenHash, hash) {
			return nil, errUnauthenticated
		}
		if !m.now().Before(s.ExpiresAt) {
			if err := m.store.DeleteSession(ctx, hash); err != nil && !errors.Is(err, store.ErrNotFound) {
				m.log.WarnContext(ctx, "manager: unable to delete an expired session", "err", err)
			}
			return nil, errUnauthenticated
		}
		userID, signedIn = s.UserID, s.CreatedAt
	case auth.TokenAPIKey:
		k, err := m.store.GetAPIKeyByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUnauthenticated
		}
		if err != nil {
			return nil, fmt.Errorf("manager: unable to read an API key: %w", err)
		}
		if !auth.Equal(k.TokenHash, hash) {
			return nil, errUnauthenticated
		}
		if now := m.now(); now.Sub(k.LastUsed) >= apiKeyTouchInterval {
			if err := m.store.TouchAPIKey(ctx, k.ID, now); err != nil {
				m.log.WarnContext(ctx, "manager: unable to record an API key's use", "err", err)
			}
		}
		userID, via = k.UserID, viaAPIKey
	}
	u, err := m.store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthenticated // the user was deleted
	}
	if err != nil {
		return nil, fmt.Errorf("manager: unable to read the user of a token: %w", err)
	}
	return &caller{user: u, via: via, tokenHash: hash, signedIn: signedIn}, nil
}

// login exchanges a user name and password for a session token. Password
// checks are throttled (login_throttle.go): past a limit the answer is 429
// with Retry-After, and the password is not even checked.
func (m *Manager) login(w http.ResponseWriter, r *http.Request) {
	if err := m.doLogin(w, r); err != nil {
		m.writeError(w, r, err)
	}
}

func (m *Manager) doLogin(w http.ResponseWriter, r *http.Request) error {
	var req api.LoginRequest
	if err := httpx.DecodeJSON(r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if req.Username == "" || req.Password == "" {
		return httpx.Invalid("username and password are required")
	}
	ctx := r.Context()
	at, err := m.reserveAttempt(w, r, req.Username)
	if err != nil {
		_, _, reason := auditOutcome(err)
		m.auditLogin(r, 0, req.Username, reason)
		return err
	}
	defer at.abandon()
	release, err := m.acquireHashSlot(ctx)
	if err != nil {
		return err
	}
	defer release()

	u, err := m.store.GetUserByName(ctx, req.Username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Spend the time a real check takes, so that the answer's delay
		// does not tell whether the user exists.
		_, _ = auth.VerifyPassword(m.dummyHash(), req.Password)
	case err != nil:
		return fmt.Errorf("manager: unable to read user %q: %w", req.Username, err)
	default:
		ok, err := auth.VerifyPassword(u.PasswordHash, req.Password)
		if err != nil {
			m.log.ErrorContext(ctx, "manager: a stored password hash is unreadable", "username", u.Username, "err", err)
		}
		if ok {
			at.succeeded()
			release()
			if err := m.startSession(w, r, u); err != nil {
				return err
			}
			m.auditLogin(r, u.ID, u.Username, "")
			return nil
		}
	}
	at.failed()
	m.auditLogin(r, u.ID, req.Username, "invalid username or password")
	m.log.InfoContext(ctx, "manager: failed login", "username", req.Username, "addr", m.logins.clientAddr(r))
	return httpx.Unauthorized("invalid username or password")
}

func (m *Manager) startSession(w http.ResponseWriter, r *http.Request, u store.User) error {
	ctx := r.Context()
	token, err := auth.NewSessionToken()
	if err != nil {
		return err
	}
	now := m.now()
	s := store.Session{TokenHash: auth.HashToken(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(m.sessionTTL)}
	if err := m.store.CreateSession(ctx, s); err != nil {
		return fmt.Errorf("manager: unable to create a session: %w", err)
	}
	// Logins are rare, so expired sessions are cleared here rather than by
	// a timer: an idle server does nothing.
	if err := m.store.DeleteExpiredSessions(ctx, now); err != nil {
		m.log.WarnContext(ctx, "manager: unable to delete expired sessions", "err", err)
	}
	httpx.WriteJSON(w, http.StatusOK, api.Session{Token: token, ExpiresAt: utc(s.ExpiresAt), User: toUser(u)})
	return nil
}

// acquireHashSlot waits for a password-hashing slot; release is safe to
// call twice.
func (m *Manager) acquireHashSlot(ctx context.Context) (release func(), err error) {
	select {
	case m.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("manager: gave up waiting to check a password: %w", ctx.Err())
	}
	done := false
	return func() {
		if !done {
			done = true
			<-m.hashSlots
		}
	}, nil
}

// dummyHash returns a hash made with the current parameters, to verify
// against when the user does not exist.
func (m *Manager) dummyHash() string {
	m.dummyOnce.Do(func() {
		m.dummy, _ = auth.HashPasswordWith("picloud-no-such-user", m.hashParams)
	})
	return m.dummy
}

// hashPassword hashes a new password within a hashing slot.
func (m *Manager) hashPassword(ctx context.Context, password string) (string, error) {
	release, err := m.acquireHashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return auth.HashPasswordWith(password, m.hashParams)
}

// logout ends the caller's session. An API key is not a session: it is
// revoked with DELETE /api/v1/api-keys/{id}, and logging out with one is
// a 400 rather than a silent success that would leave it working.
func (m *Manager) logout(w http.ResponseWriter, r *http.Request, c *caller) error {
	if c.via != viaSession {
		return httpx.BadRequest("this request was made with an API key, which logout does not end; revoke it with DELETE /api/v1/api-keys/{id}")
	}
	if err := m.store.DeleteSession(r.Context(), c.tokenHash); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("manager: unable to delete a session: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (m *Manager) whoami(w http.ResponseWriter, r *http.Request, c *caller) error {
	httpx.WriteJSON(w, http.StatusOK, api.Identity{User: toUser(c.user), Via: c.via})
	return nil
}

// retryAfter sets the Retry-After header for a wait, in whole seconds
// rounded up, and returns them.
func retryAfter(w http.ResponseWriter, wait time.Duration) int {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}
