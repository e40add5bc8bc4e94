package auth

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cheap keeps the tests fast; DefaultParams is exercised once.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPasswordDefault(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(h, want) {
		t.Fatalf("hash %q does not start with %q", h, want)
	}
	ok, err := VerifyPassword(h, "correct horse")
	if err != nil || !ok {
		t.Fatalf("VerifyPassword(right) = %v, %v", ok, err)
	}
}

func TestVerifyPassword(t *testing.T) {
	h, err := HashPasswordWith("s3cret-pass", cheap)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPasswordWith("s3cret-pass", cheap)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"s3cret-pass", true},
		{"s3cret-pasS", false},
		{"", false},
		{"s3cret-pass ", false},
		{strings.Repeat("x", MaxPasswordLen+1), false},
	} {
		got, err := VerifyPassword(h, tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("VerifyPassword(%.20q) = %v, %v; want %v", tc.pw, got, err, tc.want)
		}
	}
}

func TestHashPasswordTooLong(t *testing.T) {
	if _, err := HashPasswordWith(strings.Repeat("x", MaxPasswordLen+1), cheap); err == nil {
		t.Fatal("a password over MaxPasswordLen was hashed")
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good, _ := HashPasswordWith("pw", cheap)
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"",
		"plain",
		"$2a$10$abcdefghijklmnopqrstuv", // bcrypt
		"$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5], // wrong variant
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=99999999,t=1,p=1$" + parts[4] + "$" + parts[5], // memory bomb
		"$argon2id$v=19$m=64,t=0,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$c2hvcnQ",
	} {
		ok, err := VerifyPassword(h, "pw")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("VerifyPassword(%q) = %v, %v; want ErrMalformedHash", h, ok, err)
		}
	}
}

func TestTokens(t *testing.T) {
	s, err := NewSessionToken()
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewAPIKeyToken()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "pcs_") || len(s) != 4+43 {
		t.Errorf("session token %q: want pcs_ and 43 characters", s)
	}
	if !strings.HasPrefix(k, "pck_") || len(k) != 4+43 {
		t.Errorf("API key %q: want pck_ and 43 characters", k)
	}
	if KindOf(s) != TokenSession || KindOf(k) != TokenAPIKey {
		t.Errorf("KindOf: session %v, key %v", KindOf(s), KindOf(k))
	}
	s2, _ := NewSessionToken()
	if s == s2 {
		t.Error("two session tokens are equal")
	}
	for _, bad := range []string{"", "pcs_", "pcs_short", "xyz_" + s[4:], s + "x", s[:40] + "!!!!!!!", "Bearer " + s} {
		if KindOf(bad) != TokenUnknown {
			t.Errorf("KindOf(%q) = %v, want TokenUnknown", bad, KindOf(bad))
		}
	}
	if DisplayPrefix(k) != k[:12] || DisplayPrefix("pck_") != "pck_" {
		t.Errorf("DisplayPrefix(%q) = %q", k, DisplayPrefix(k))
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256 of "abc".
	if got, want := HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("HashToken = %s, want %s", got, want)
	}
	if !Equal("abc", "abc") || Equal("abc", "abd") || Equal("abc", "ab") {
		t.Fatal("Equal is wrong")
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != GeneratedPasswordLen {
			t.Fatalf("len(%q) = %d", p, len(p))
		}
		if strings.Trim(p, passwordAlphabet) != "" {
			t.Fatalf("%q has characters outside the alphabet", p)
		}
		if seen[p] {
			t.Fatalf("%q generated twice", p)
		}
		seen[p] = true
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }
func throttleFor(c *clock, keys int) *Throttle {
	return NewThrottle(ThrottleConfig{MaxFailures: 3, BaseDelay: time.Second, MaxDelay: 8 * time.Second,
		Forget: time.Minute, MaxKeys: keys, Now: c.now})
}

func TestThrottleBackoff(t *testing.T) {
	c := newClock()
	th := throttleFor(c, 100)
	for i := range 3 {
		if w := th.testWait("alice"); w != 0 {
			t.Fatalf("attempt %d: wait %v before the limit", i+1, w)
		}
		th.testFail("alice")
	}
	// The third failure reaches MaxFailures: 1s, then 2s, 4s, 8s, 8s.
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		if w := th.testWait("alice"); w != want {
			t.Fatalf("wait = %v, want %v", w, want)
		}
		c.advance(want / 2)
		if w := th.testWait("alice"); w != want/2 {
			t.Fatalf("half-way wait = %v, want %v", w, want/2)
		}
		c.advance(want / 2)
		if w := th.testWait("alice"); w != 0 {
			t.Fatalf("wait after the window = %v", w)
		}
		th.testFail("alice")
	}
	if th.testWait("bob") != 0 {
		t.Fatal("an unrelated key is throttled")
	}
	th.Reset("alice")
	if th.testWait("alice") != 0 || th.Len() != 0 {
		t.Fatalf("after Reset: wait %v, len %d", th.testWait("alice"), th.Len())
	}
}

func TestThrottleForgets(t *testing.T) {
	c := newClock()
	th := throttleFor(c, 100)
	for range 4 {
		th.testFail("alice")
	}
	if th.testWait("alice") == 0 {
		t.Fatal("not throttled after 4 failures")
	}
	c.advance(time.Minute)
	if w := th.testWait("alice"); w != 0 {
		t.Fatalf("still throttled after Forget: %v", w)
	}
	// Starting afresh: three more failures before a wait.
	th.testFail("alice")
	th.testFail("alice")
	if w := th.testWait("alice"); w != 0 {
		t.Fatalf("throttled after 2 fresh failures: %v", w)
	}
}

func TestThrottleBounded(t *testing.T) {
	c := newClock()
	th := throttleFor(c, 10)
	for range 4 {
		th.testFail("victim")
	}
	for i := range 100 {
		c.advance(time.Millisecond)
		th.testFail("k" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		if th.Len() > 10 {
			t.Fatalf("len %d over MaxKeys", th.Len())
		}
	}
	// The oldest key made room for newer ones.
	if th.testWait("victim") != 0 {
		t.Fatal("the least recent key was not evicted")
	}
	// Forgotten keys are swept as new failures come in.
	c.advance(2 * time.Minute)
	for range 5 {
		th.testFail("fresh")
	}
	if th.Len() > 7 {
		t.Fatalf("len %d: forgotten keys were not swept", th.Len())
	}
}

// Reserve checks and counts in one step: of many parallel attempts, only
// MaxFailures go ahead.
func TestThrottleReserveParallel(t *testing.T) {
	c := newClock()
	th := throttleFor(c, 100)
	var passed atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if th.Reserve("alice") == 0 {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if passed.Load() != 3 {
		t.Fatalf("%d attempts passed, want 3", passed.Load())
	}
	// Release takes one reserved failure back: one more attempt may go.
	th.Release("alice")
	if w := th.Reserve("alice"); w != 0 {
		t.Fatalf("after Release: wait %v", w)
	}
	if w := th.Reserve("alice"); w != time.Second {
		t.Fatalf("past the limit again: wait %v, want 1s", w)
	}
	th.Release("alice")
	th.Release("alice")
	th.Release("alice")
	th.Release("alice")
	if th.Len() != 0 {
		t.Fatalf("every failure released, %d keys left", th.Len())
	}
}

func TestRecent(t *testing.T) {
	c := newClock()
	r := NewRecent(time.Hour, 2, c.now)
	r.Add("a")
	c.advance(time.Minute)
	r.Add("b")
	if !r.Has("a") || !r.Has("b") || r.Has("c") {
		t.Fatal("membership")
	}
	r.Add("c") // evicts a, the oldest
	if r.Has("a") || !r.Has("c") {
		t.Fatal("the oldest key was not evicted")
	}
	c.advance(time.Hour)
	if r.Has("b") || r.Has("c") {
		t.Fatal("keys outlived the ttl")
	}
}

// testWait is the wait of key, without counting anything.
func (t *Throttle) testWait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.wait(key, t.cfg.Now())
}

// testFail records a failure of key, throttled or not.
func (t *Throttle) testFail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fail(key, t.cfg.Now())
}
