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
//     locking the owner out for long. An address the user signed in from
//     in the last knownFor is exempt: the owner at their usual place is
//     not slowed by guesses from elsewhere.
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

// knownFor is how long a (user, address) pair that signed in stays exempt
// from the per-user ceiling, and maxKnown bounds the pairs remembered.
const (
	knownFor = 30 * 24 * time.Hour
	maxKnown = 10000
)

// loginThrottle holds the three counts of LoginLimits, and the pairs that
// signed in.
type loginThrottle struct {
	pair, addr, user *auth.Throttle
	known            *auth.Recent
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
		known:   auth.NewRecent(knownFor, maxKnown, now),
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

// throttleStep is one count an attempt reserves, with the scope label of
// its refusals.
type throttleStep struct {
	th         *auth.Throttle
	key, scope string
}

// clientAddr is the address the per-address counts use.
func (t *loginThrottle) clientAddr(r *http.Request) string {
	if a := httpx.ClientAddr(r, t.proxies); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// reserveAttempt lets one password check of username go ahead, counting it as a
// failure in advance in each of the three counts, or refuses it with 429.
// Reserving before the check, atomically per count, is what bounds a
// burst of parallel guesses to the limit.
func (m *Manager) reserveAttempt(w http.ResponseWriter, r *http.Request, username string) (*attempt, error) {
	t := m.logins
	addr := t.clientAddr(r)
	a := &attempt{t: t, pair: "user:" + username + "\x00addr:" + addr, addr: "addr:" + addr}
	steps := []throttleStep{{t.pair, a.pair, "user_address"}, {t.addr, a.addr, "address"}}
	if !t.known.Has(a.pair) {
		a.user = "user:" + username
		steps = append(steps, throttleStep{t.user, a.user, "user"})
	}
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
// afresh from this address, which is exempt from the per-user ceiling from
// now on, and the address and user counts take back the failure counted in
// advance (the others' guesses stay counted).
func (a *attempt) succeeded() {
	if a.settled {
		return
	}
	a.settled = true
	a.t.pair.Reset(a.pair)
	a.t.addr.Release(a.addr)
	a.t.releaseUser(a.user)
	a.t.known.Add(a.pair)
}

func (t *loginThrottle) releaseUser(key string) {
	if key != "" {
		t.user.Release(key)
	}
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
	a.t.releaseUser(a.user)
}

// failed settles a check whose password was wrong: it stays counted.
func (a *attempt) failed() { a.settled = true }
