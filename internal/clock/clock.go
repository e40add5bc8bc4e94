// Package clock lets the parts of PiCloud that sleep until a time — the
// scheduler, the job queue — be driven by tests without sleeping: they
// read the time and arm timers through a Clock, which is the real one in
// the server and a Fake in tests. It imports nothing of PiCloud.
package clock

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel once d
	// has passed.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer, as time.Timer.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// Fake is a clock that moves only when told to. Its timers fire, in order
// of their deadlines, when Set or Advance moves the time past them. It is
// safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer  // armed, not fired
	changed chan struct{} // closed and replaced when timers change
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer arms a timer for the fake time plus d; one with d <= 0 fires
// at once.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, at: f.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- f.now
		return t
	}
	f.timers = append(f.timers, t)
	f.notify()
	return t
}

// Set moves the fake time to t (never backwards) and fires the timers
// whose deadline has come, earliest first.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.now = t
	}
	slices.SortStableFunc(f.timers, func(a, b *fakeTimer) int { return a.at.Compare(b.at) })
	n := 0
	for _, tm := range f.timers {
		if tm.at.After(f.now) {
			break
		}
		tm.c <- f.now
		n++
	}
	if n > 0 {
		f.timers = slices.Delete(f.timers, 0, n)
		f.notify()
	}
}

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Timers returns the deadlines of the armed timers, earliest first.
func (f *Fake) Timers() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deadlines()
}

func (f *Fake) deadlines() []time.Time {
	out := make([]time.Time, 0, len(f.timers))
	for _, t := range f.timers {
		out = append(out, t.at)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// WaitTimers blocks until at least n timers are armed and returns their
// deadlines, earliest first; it returns ctx's error if that does not
// happen in time. Tests use it to know that the code under test has gone
// to sleep before they move the time.
func (f *Fake) WaitTimers(ctx context.Context, n int) ([]time.Time, error) {
	return f.WaitFor(ctx, func(d []time.Time) bool { return len(d) >= n })
}

// WaitFor blocks until cond holds for the deadlines of the armed timers,
// earliest first, and returns them; it returns ctx's error if that does
// not happen in time.
func (f *Fake) WaitFor(ctx context.Context, cond func(deadlines []time.Time) bool) ([]time.Time, error) {
	for {
		f.mu.Lock()
		d := f.deadlines()
		changed := f.changed
		f.mu.Unlock()
		if cond(d) {
			return d, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// notify wakes WaitTimers; f.mu is held.
func (f *Fake) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

type fakeTimer struct {
	f  *Fake
	at time.Time
	c  chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	i := slices.Index(t.f.timers, t)
	if i < 0 {
		return false
	}
	t.f.timers = slices.Delete(t.f.timers, i, i+1)
	t.f.notify()
	return true
}
