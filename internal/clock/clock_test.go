package clock

import (
	"context"
	"testing"
	"time"
)

func TestFakeTimers(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(t0)
	a := f.NewTimer(2 * time.Second)
	b := f.NewTimer(time.Second)
	c := f.NewTimer(3 * time.Second)
	if got := f.Timers(); len(got) != 3 || !got[0].Equal(t0.Add(time.Second)) {
		t.Fatalf("Timers = %v", got)
	}
	if !c.Stop() || c.Stop() {
		t.Error("Stop: want true, then false")
	}
	f.Advance(1500 * time.Millisecond)
	select {
	case at := <-b.C():
		if !at.Equal(t0.Add(1500 * time.Millisecond)) {
			t.Errorf("b fired with %v", at)
		}
	default:
		t.Fatal("b did not fire")
	}
	select {
	case <-a.C():
		t.Fatal("a fired early")
	default:
	}
	f.Set(t0) // never backwards
	if !f.Now().Equal(t0.Add(1500 * time.Millisecond)) {
		t.Errorf("Now went back to %v", f.Now())
	}
	f.Advance(time.Second)
	select {
	case <-a.C():
	default:
		t.Fatal("a did not fire")
	}
	if a.Stop() {
		t.Error("Stop of a fired timer reported true")
	}
	if n := len(f.Timers()); n != 0 {
		t.Errorf("%d timers armed, want 0", n)
	}
	// A timer for now or the past fires at once.
	select {
	case <-f.NewTimer(0).C():
	default:
		t.Error("a zero timer did not fire")
	}
}

func TestFakeWaitTimers(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan []time.Time)
	go func() {
		d, err := f.WaitTimers(context.Background(), 2)
		if err != nil {
			t.Error(err)
		}
		done <- d
	}()
	f.NewTimer(time.Minute)
	f.NewTimer(time.Second)
	d := <-done
	if len(d) != 2 || !d[0].Equal(time.Unix(1, 0)) {
		t.Errorf("WaitTimers = %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.WaitTimers(ctx, 3); err == nil {
		t.Error("WaitTimers with a cancelled context: no error")
	}
}
