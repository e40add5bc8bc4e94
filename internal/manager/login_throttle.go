package manager

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/picloud/picloud/internal/auth"
	"github.com/picloud/picloud/internal/httpx"
)

// LoginLimits tune the sign-in throttle; zero fields take the defaults of
// DefaultLoginLimits. A password check (a login, or the password asked
// again to change it or to create an API key) is counted three ways:
//
//   - per user name and client address: the guesses of one attacker at one
//     account, made to wait after MaxFailures, doubling up to MaxDelay.
//     The account's owner, elsewhere, still signs in;
//   - per client address, any user name: one attacker trying many
//     accounts, after MaxAddressFailures;
//   - per user name, from every address: a ceiling on distributed
//     guessing, after MaxUserFailures, whose wait doubles only up to
//     MaxUserDelay, so that it slows guessing to a trickle without
//     locking the owner out for long.
//
// A refused check is answered 429 with Retry-After and the password is not
// even compared.
type LoginLimits struct {
	MaxFailures        int
	MaxAddressFailures int
	MaxUserFailures    int
	MaxDelay           time.Duration
	MaxUserDelay       time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (httpx.ClientAddr); nil trusts none.
	TrustedProxies []netip.Prefix
}

// DefaultLoginLimits are the sign-in throttle's defaults.
func DefaultLoginLimits() LoginLimits {
	return LoginLimits{MaxFailures: 5, MaxAddressFailures: 30, MaxUserFailures: 100,
		MaxDelay: 5 * time.Minute, MaxUserDelay: time.Minute}
}

// loginThrottle holds the three counts of LoginLimits.
type loginThrottle struct {
	pair, addr, user *auth.Throttle
	proxies          []netip.Prefix
}

func newLoginThrottle(l LoginLimits, now func() time.Time) *loginThrottle {
	d := DefaultLoginLimits()
	pick := func(v, def int) int {
		if v > 0 {
			return v
		}
		return def
	}
	pickD := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	maxDelay := pickD(l.MaxDelay, d.MaxDelay)
	return &loginThrottle{
		pair: auth.NewThrottle(auth.ThrottleConfig{MaxFailures: pick(l.MaxFailures, d.MaxFailures), MaxDelay: maxDelay, Now: now}),
		addr: auth.NewThrottle(auth.ThrottleConfig{MaxFailures: pick(l.MaxAddressFailures, d.MaxAddressFailures), MaxDelay: maxDelay, Now: now}),
		user: auth.NewThrottle(auth.ThrottleConfig{MaxFailures: pick(l.MaxUserFailures, d.MaxUserFailures),
			MaxDelay: pickD(l.MaxUserDelay, d.MaxUserDelay), Now: now}),
		proxies: l.TrustedProxies,
	}
}

// attempt is one password check that the throttle let through; it is
// counted as a failure until it succeeds.
type attempt struct {
	t                *loginThrottle
	pair, addr, user string
	settled          bool
}

// clientAddr is the address the per-address counts use.
func (t *loginThrottle) clientAddr(r *http.Request) string {
	if a := httpx.ClientAddr(r, t.proxies); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// reserve lets one password check of username go ahead, counting it as a
// failure in advance in each of the three counts, or refuses it with 429.
// Reserving before the check, atomically per count, is what bounds a
// burst of parallel guesses to the limit.
func (m *Manager) reserveAttempt(w http.ResponseWriter, r *http.Request, username string) (*attempt, error) {
	t := m.logins
	addr := t.clientAddr(r)
	a := &attempt{t: t, pair: "user:" + username + "\x00addr:" + addr, addr: "addr:" + addr, user: "user:" + username}
	steps := []struct {
		th    *auth.Throttle
		key   string
		scope string
	}{{t.pair, a.pair, "user_address"}, {t.addr, a.addr, "address"}, {t.user, a.user, "user"}}
	for i, s := range steps {
		wait := s.th.Reserve(s.key)
		if wait <= 0 {
			continue
		}
		for _, done := range steps[:i] {
			done.th.Release(done.key)
		}
		m.metrics.LoginThrottled(s.scope)
		m.log.WarnContext(r.Context(), "manager: password check throttled", "username", username, "addr", addr, "scope", s.scope)
		secs := retryAfter(w, wait)
		return nil, httpx.TooManyRequests("too many failed password checks; try again in %d seconds", secs)
	}
	return a, nil
}

// succeeded settles a check whose password was right: the user starts
// afresh from this address, and the address and user counts take back
// the failure counted in advance (the others' guesses stay counted).
func (a *attempt) succeeded() {
	if a.settled {
		return
	}
	a.settled = true
	a.t.pair.Reset(a.pair)
	a.t.addr.Release(a.addr)
	a.t.user.Release(a.user)
}

// abandon takes the attempt back when the password was never compared (a
// store error, a cancelled request); a wrong password leaves it counted.
func (a *attempt) abandon() {
	if a.settled {
		return
	}
	a.settled = true
	a.t.pair.Release(a.pair)
	a.t.addr.Release(a.addr)
	a.t.user.Release(a.user)
}

// failed settles a check whose password was wrong: it stays counted.
func (a *attempt) failed() { a.settled = true }
