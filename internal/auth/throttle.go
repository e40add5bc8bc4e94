package auth

import (
	"container/list"
	"sync"
	"time"
)

// ThrottleConfig tunes a Throttle. Zero fields take the defaults named.
type ThrottleConfig struct {
	// MaxFailures is how many failures a key may have before it is made
	// to wait (default 5).
	MaxFailures int
	// BaseDelay is the first wait; every further failure doubles it
	// (default 1s).
	BaseDelay time.Duration
	// MaxDelay caps the wait (default 5m).
	MaxDelay time.Duration
	// Forget is how long after its last failure a key starts afresh
	// (default 15m; never less than MaxDelay).
	Forget time.Duration
	// MaxKeys bounds the keys tracked; past it the key that failed least
	// recently is forgotten (default 10000).
	MaxKeys int
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Throttle slows down guessing: after MaxFailures failures for a key (a
// user name, a client address), further attempts are refused for a window
// that doubles with every failure. It lives in memory, holds at most
// MaxKeys keys, and runs no goroutine: old keys are dropped as they are
// met or when room is needed. It is safe for concurrent use.
type Throttle struct {
	cfg ThrottleConfig

	mu    sync.Mutex
	keys  map[string]*list.Element // of *throttleEntry
	order *list.List               // most recent failure first
}

type throttleEntry struct {
	key      string
	failures int
	last     time.Time // of the last failure
}

// NewThrottle returns an empty throttle.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = time.Second
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 5 * time.Minute
	}
	if cfg.MaxDelay < cfg.BaseDelay {
		cfg.MaxDelay = cfg.BaseDelay
	}
	if cfg.Forget <= 0 {
		cfg.Forget = 15 * time.Minute
	}
	if cfg.Forget < cfg.MaxDelay {
		cfg.Forget = cfg.MaxDelay
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Throttle{cfg: cfg, keys: make(map[string]*list.Element), order: list.New()}
}

// Reserve asks whether key may try now: if so it counts the attempt as a
// failure in advance and returns zero; otherwise it returns how long key
// must wait, and counts nothing. Checking and counting under one lock is
// what keeps a burst of parallel attempts to MaxFailures: checked first
// and counted after the attempt failed, they would all pass the check
// before the first one was counted. An attempt that succeeds takes its
// failure back with Release or Reset.
func (t *Throttle) Reserve(key string) time.Duration {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait := t.wait(key, now); wait > 0 {
		return wait
	}
	t.fail(key, now)
	return 0
}

// Release takes back one failure that Reserve counted, for an attempt
// that succeeded or was not made.
func (t *Throttle) Release(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.keys[key]
	if !ok {
		return
	}
	if e := el.Value.(*throttleEntry); e.failures > 1 {
		e.failures--
		return
	}
	t.remove(el)
}

func (t *Throttle) wait(key string, now time.Time) time.Duration {
	el, ok := t.keys[key]
	if !ok {
		return 0
	}
	e := el.Value.(*throttleEntry)
	if now.Sub(e.last) >= t.cfg.Forget {
		t.remove(el)
		return 0
	}
	if wait := e.last.Add(t.delay(e.failures)).Sub(now); wait > 0 {
		return wait
	}
	return 0
}

func (t *Throttle) fail(key string, now time.Time) {
	if el, ok := t.keys[key]; ok {
		e := el.Value.(*throttleEntry)
		if now.Sub(e.last) >= t.cfg.Forget {
			e.failures = 0
		}
		e.failures++
		e.last = now
		t.order.MoveToFront(el)
		t.sweep(now)
		return
	}
	// Make room: forgotten keys first, then the least recent failure.
	for t.order.Len() >= t.cfg.MaxKeys {
		t.remove(t.order.Back())
	}
	t.keys[key] = t.order.PushFront(&throttleEntry{key: key, failures: 1, last: now})
	t.sweep(now)
}

// Reset forgets key, after a successful attempt.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.keys[key]; ok {
		t.remove(el)
	}
}

// Len returns the number of keys tracked.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}

// delay is the wait after n failures.
func (t *Throttle) delay(n int) time.Duration {
	over := n - t.cfg.MaxFailures
	if over < 0 {
		return 0
	}
	d := t.cfg.BaseDelay
	for i := 0; i < over && d < t.cfg.MaxDelay; i++ {
		d *= 2
	}
	return min(d, t.cfg.MaxDelay)
}

// sweep drops a few forgotten keys from the back of the list; called on
// every failure it keeps the list short without a goroutine.
func (t *Throttle) sweep(now time.Time) {
	for range 4 {
		el := t.order.Back()
		if el == nil || now.Sub(el.Value.(*throttleEntry).last) < t.cfg.Forget {
			return
		}
		t.remove(el)
	}
}

func (t *Throttle) remove(el *list.Element) {
	t.order.Remove(el)
	delete(t.keys, el.Value.(*throttleEntry).key)
}
