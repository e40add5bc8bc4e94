package manager

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// loginFrom signs in as if from client address addr, which the manager
// learns from X-Forwarded-For when the test server (loopback) is a
// trusted proxy.
func (e *env) loginFrom(addr, username, password string) response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequest("POST", e.srv.URL+"/api/v1/auth/login", strings.NewReader(string(body)))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// behindProxy makes the test server's loopback peer a trusted proxy, with
// the limits given.
func behindProxy(e *env, l LoginLimits) {
	l.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	e.m.logins = newLoginThrottle(l, func() time.Time { return e.m.now() })
}

// The attack: five wrong passwords for admin from anywhere locked the
// admin out everywhere. Now the guesses count per user and address.
func TestLoginNotLockedOutFromAnotherAddress(t *testing.T) {
	dbtest.Run(t, testLoginNotLockedOutFromAnotherAddress)
}

func testLoginNotLockedOutFromAnotherAddress(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	behindProxy(e, LoginLimits{})
	for i := range 5 {
		if res := e.loginFrom("198.51.100.66", "admin", "guess-"+strconv.Itoa(i)); res.status != 401 {
			t.Fatalf("guess %d: %d %s", i+1, res.status, res.body)
		}
	}
	if res := e.loginFrom("198.51.100.66", "admin", "password-admin"); res.status != 429 || res.header.Get("Retry-After") != "1" {
		t.Fatalf("the attacker's address after 5 guesses: %d Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
	if res := e.loginFrom("203.0.113.10", "admin", "password-admin"); res.status != 200 {
		t.Fatalf("the admin from another address: %d %s", res.status, res.body)
	}
	// The attacker is still made to wait.
	if res := e.loginFrom("198.51.100.66", "admin", "guess-again"); res.status != 429 {
		t.Fatalf("the attacker after the admin signed in: %d", res.status)
	}
}

// Without a trusted proxy, X-Forwarded-For is anyone's to write: it must
// not give a guesser a fresh address per request.
func TestLoginIgnoresUntrustedForwardedFor(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		for i := range 5 {
			if res := e.loginFrom("198.51.100."+strconv.Itoa(i+1), "viewer", "guess"); res.status != 401 {
				t.Fatalf("guess %d: %d", i+1, res.status)
			}
		}
		if res := e.loginFrom("198.51.100.99", "viewer", "password-viewer"); res.status != 429 {
			t.Fatalf("a sixth guess with a new X-Forwarded-For: %d", res.status)
		}
	})
}

// The ceiling per user: guesses spread over many addresses are slowed
// once they pass MaxUserFailures, with a wait capped at MaxUserDelay.
func TestLoginUserCeiling(t *testing.T) { dbtest.Run(t, testLoginUserCeiling) }

func testLoginUserCeiling(t *testing.T, b dbtest.Backend) {
	e := newEnv(t, b)
	clock := time.Now()
	e.m.now = func() time.Time { return clock }
	met := metrics.New()
	e.m.metrics = met
	behindProxy(e, LoginLimits{MaxUserFailures: 8, MaxUserDelay: 4 * time.Second})
	for i := range 8 {
		if res := e.loginFrom("198.51.100."+strconv.Itoa(i+1), "viewer", "guess"); res.status != 401 {
			t.Fatalf("guess %d: %d", i+1, res.status)
		}
	}
	res := e.loginFrom("203.0.113.10", "viewer", "password-viewer")
	if res.status != 429 || res.header.Get("Retry-After") != "1" {
		t.Fatalf("past the ceiling: %d Retry-After %q %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	// Each further failure doubles the wait, up to MaxUserDelay only.
	for range 5 {
		clock = clock.Add(time.Minute)
		e.loginFrom("198.51.100.77", "viewer", "guess")
	}
	if res := e.loginFrom("203.0.113.10", "viewer", "password-viewer"); res.status != 429 || res.header.Get("Retry-After") != "4" {
		t.Fatalf("the ceiling's wait: %d Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
	clock = clock.Add(4 * time.Second)
	if res := e.loginFrom("203.0.113.10", "viewer", "password-viewer"); res.status != 200 {
		t.Fatalf("the owner after the wait: %d %s", res.status, res.body)
	}
	// Other users are not affected.
	if res := e.loginFrom("198.51.100.1", "editor", "password-editor"); res.status != 200 {
		t.Fatalf("another user: %d", res.status)
	}
	// The guessing goes on; the owner's address, which signed in, is
	// exempt from the ceiling, while a new address still waits.
	clock = clock.Add(time.Minute)
	e.loginFrom("198.51.100.78", "viewer", "guess")
	if res := e.loginFrom("203.0.113.11", "viewer", "password-viewer"); res.status != 429 {
		t.Fatalf("a new address under the ceiling: %d", res.status)
	}
	if res := e.loginFrom("203.0.113.10", "viewer", "password-viewer"); res.status != 200 {
		t.Fatalf("the owner's known address under the ceiling: %d %s", res.status, res.body)
	}
	rec := httptest.NewRecorder()
	met.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `picloud_login_throttled_total{scope="user"} 3`) {
		t.Errorf("the throttled counter: %s", grepLines(rec.Body.String(), "picloud_login_throttled"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// gateStore holds every password check's user lookup until all the
// parallel logins of a test have either reached one or been refused, so
// that the checks overlap as they would under attack.
type gateStore struct {
	store.Store
	checks atomic.Int32
	ready  func() bool
	open   chan struct{}
	once   sync.Once
}

func (g *gateStore) poke() {
	if g.ready() {
		g.once.Do(func() { close(g.open) })
	}
}

func (g *gateStore) GetUserByName(ctx context.Context, name string) (store.User, error) {
	g.checks.Add(1)
	g.poke()
	select {
	case <-g.open:
	case <-ctx.Done():
		return store.User{}, ctx.Err()
	}
	return g.Store.GetUserByName(ctx, name)
}

// The attack: 20 parallel wrong logins got 6 password checks, not 5.
func TestLoginParallelGuessesReserve(t *testing.T) { dbtest.Run(t, testLoginParallelGuessesReserve) }

func testLoginParallelGuessesReserve(t *testing.T, b dbtest.Backend) {
	const n = 20
	e := newEnv(t, b)
	e.m.hashSlots = make(chan struct{}, n) // let every check run at once
	var refused atomic.Int32
	g := &gateStore{Store: e.st, open: make(chan struct{})}
	g.ready = func() bool { return g.checks.Load()+refused.Load() == n }
	e.m.store = g
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/api/v1/auth/login",
				strings.NewReader(`{"username": "viewer", "password": "wrong-password"}`))
			req.Header.Set("Content-Type", "application/json")
			res, err := e.srv.Client().Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			if res.StatusCode == 429 {
				refused.Add(1)
				g.poke()
			}
			statuses <- res.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if got := g.checks.Load(); got != 5 {
		t.Fatalf("%d password checks for %d parallel wrong logins, want 5; statuses %v", got, n, count)
	}
	if count[401] != 5 || count[429] != n-5 {
		t.Fatalf("statuses %v, want 5×401 and %d×429", count, n-5)
	}
}

// A right password does not count against the address or the user.
func TestLoginSuccessTakesBackItsCount(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b)
		behindProxy(e, LoginLimits{MaxAddressFailures: 3, MaxUserFailures: 3})
		for range 6 {
			if res := e.loginFrom("198.51.100.1", "viewer", "password-viewer"); res.status != 200 {
				t.Fatalf("a right password: %d %s", res.status, res.body)
			}
		}
	})
}
