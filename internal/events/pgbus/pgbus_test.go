package pgbus

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
)

// recorder collects the events a bus delivers.
type recorder struct {
	mu     sync.Mutex
	events []events.Event
	signal chan struct{}
}

func record(b *Bus) *recorder {
	r := &recorder{signal: make(chan struct{}, 100)}
	b.Subscribe(func(e events.Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
		select {
		case r.signal <- struct{}{}:
		default:
		}
	})
	return r
}

func (r *recorder) count(e events.Event) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, got := range r.events {
		if got == e {
			n++
		}
	}
	return n
}

// waitFor fails t unless r has received e within d.
func (r *recorder) waitFor(t *testing.T, name string, e events.Event, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for r.count(e) == 0 {
		select {
		case <-r.signal:
		case <-deadline:
			t.Fatalf("%s did not receive %+v within %v", name, e, d)
		}
	}
}

func open(t *testing.T, dsn string) *Bus {
	t.Helper()
	b, err := Open(t.Context(), dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestTwoBuses publishes on each of two buses of one database: the event
// reaches both within a second, once.
func TestTwoBuses(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	a, b := open(t, dsn), open(t, dsn)
	ra, rb := record(a), record(b)

	for i, from := range []*Bus{a, b, a} {
		e := events.Event{Kind: events.ScriptChanged, Key: fmt.Sprintf("shop/hello-%d", i)}
		start := time.Now()
		from.Publish(e)
		ra.waitFor(t, "bus a", e, time.Second)
		rb.waitFor(t, "bus b", e, time.Second)
		t.Logf("event %d reached both buses in %v", i, time.Since(start))
	}
	// The publisher's own subscribers got the event before Publish
	// returned.
	e := events.Event{Kind: events.JobQueued, Key: "job-1"}
	b.Publish(e)
	if rb.count(e) != 1 {
		t.Errorf("the publishing bus's subscriber got %d copies before Publish returned, want 1", rb.count(e))
	}
	ra.waitFor(t, "bus a", e, time.Second)

	// No copy arrives late: the echo of a bus's own NOTIFY is skipped.
	time.Sleep(300 * time.Millisecond)
	for name, r := range map[string]*recorder{"a": ra, "b": rb} {
		r.mu.Lock()
		if len(r.events) != 4 {
			t.Errorf("bus %s received %d events, want 4: %+v", name, len(r.events), r.events)
		}
		r.mu.Unlock()
	}
}

// TestReconnect kills the listening connection's backend: the bus
// reconnects, says so, and receives the events published afterwards.
func TestReconnect(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	a, b := open(t, dsn), open(t, dsn)
	rb := record(b)
	reconnected := make(chan struct{}, 1)
	b.OnReconnect(func() { reconnected <- struct{}{} })

	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	pid := b.listenPID.Load()
	var killed bool
	if err := conn.QueryRow(t.Context(), `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, killed, err)
	}
	select {
	case <-reconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("the bus did not reconnect within 5s")
	}
	if b.listenPID.Load() == pid {
		t.Error("the bus listens on the killed connection")
	}
	e := events.Event{Kind: events.AppChanged, Key: "shop"}
	a.Publish(e)
	rb.waitFor(t, "bus b after reconnecting", e, time.Second)
}

// TestForeignNotifications ignores payloads that are not events, and
// delivers events sent by other programs with no origin mark.
func TestForeignNotifications(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	b := open(t, dsn)
	r := record(b)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, payload := range []string{`not json`, `{"key":"no kind"}`, `{"kind":"schedule_changed","key":"7"}`} {
		if _, err := conn.Exec(t.Context(), `SELECT pg_notify($1, $2)`, Channel, payload); err != nil {
			t.Fatal(err)
		}
	}
	want := events.Event{Kind: events.ScheduleChanged, Key: "7"}
	r.waitFor(t, "bus", want, time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) != 1 {
		t.Errorf("received %+v, want only %+v", r.events, want)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	b := open(t, pgtest.DSN(t))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.done:
	default:
		t.Error("the listening goroutine is still running after Close")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	_, err := Open(t.Context(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable", nil)
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
}
