// Package pgbus carries PiCloud's events between the processes of a
// cluster over PostgreSQL's LISTEN/NOTIFY, so that a deploy on the
// manager reaches the script cache of every node at once.
//
// A Bus holds one dedicated connection that LISTENs and blocks until a
// notification arrives: an idle bus sends nothing to the database. When
// that connection drops, the bus reconnects with backoff and then calls
// its OnReconnect functions, since events published meanwhile are lost to
// it. Publish sends NOTIFY through a small pool of its own.
//
// Subscribers of a Bus get every event published on the database, once:
// the events of other processes from the listening connection, and the
// bus's own synchronously from Publish, as events.Local does, so that a
// process reads its own writes; the echo of its own NOTIFY is recognised
// by the bus's origin mark in the payload and skipped.
package pgbus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/internal/events"
)

// Channel is the notification channel of PiCloud's events.
const Channel = "picloud_events"

// Timings.
const (
	// publishTimeout bounds a NOTIFY; Publish has no context of its own.
	publishTimeout = 5 * time.Second
	// connectTimeout bounds one attempt to open the listening connection
	// when the connection string sets none.
	connectTimeout = 10 * time.Second
	// minBackoff and maxBackoff bound the wait between reconnections.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// keepAlive makes the kernel probe the listening connection, which may be
// silent for hours, so that a server or network that vanished without a
// word is noticed within about half a minute. Probes are TCP, not
// queries: the database sees no transaction.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// Bus is an events.Bus over LISTEN/NOTIFY. It is safe for concurrent use.
type Bus struct {
	pool   *pgxpool.Pool   // publishes
	listen *pgx.ConnConfig // the listening connection's
	origin string          // marks the payloads this bus publishes
	logger *slog.Logger

	mu          sync.RWMutex
	subs        []func(events.Event)
	onReconnect []func()

	listenPID atomic.Uint32 // the listening connection's backend, for tests
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

var _ events.TxBus = (*Bus)(nil)

// message is the payload of a notification.
type message struct {
	events.Event
	Origin string `json:"origin,omitempty"`
}

// Open connects to the database at dsn and starts listening: the events
// published on the database after Open returns reach the subscribers. A
// nil logger is slog.Default().
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Bus, error) {
	if logger == nil {
		logger = slog.Default()
	}
	// pgxpool's parser knows the pool_* settings, which a single
	// connection would send to the server as unknown parameters.
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgbus: unable to parse the connection string: %w", err)
	}
	listen := cfg.ConnConfig.Copy()
	dialer := &net.Dialer{KeepAliveConfig: keepAlive}
	listen.DialFunc = dialer.DialContext
	if listen.ConnectTimeout == 0 {
		listen.ConnectTimeout = connectTimeout
	}
	b := &Bus{listen: listen, origin: fmt.Sprintf("%016x", rand.Uint64()), logger: logger, done: make(chan struct{})}

	conn, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	// The pool connects on the first Publish, and keeps no connection
	// open that is not used.
	if b.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("pgbus: unable to connect: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go b.run(runCtx, conn)
	return b, nil
}

// Subscribe adds fn; it is called for every event published afterwards,
// from the goroutine that publishes it in this process or from the bus's
// listening goroutine for the others. fn must not block for long: the
// events of other processes wait for it.
func (b *Bus) Subscribe(fn func(events.Event)) {
	b.mu.Lock()
	b.subs = append(b.subs[:len(b.subs):len(b.subs)], fn)
	b.mu.Unlock()
}

// OnReconnect adds fn, called after the listening connection was lost and
// is back: the events published in between were missed, so fn should
// treat everything as changed (drop caches, look at the queue and the
// schedules again).
func (b *Bus) OnReconnect(fn func()) {
	b.mu.Lock()
	b.onReconnect = append(b.onReconnect[:len(b.onReconnect):len(b.onReconnect)], fn)
	b.mu.Unlock()
}

// Publish calls the subscribers of this bus with e, then notifies the
// other processes. A failed NOTIFY is logged: the other processes miss e.
func (b *Bus) Publish(e events.Event) {
	b.deliver(e)
	_, payload, err := b.Notification(e)
	if err != nil {
		b.logger.Error("pgbus: unable to encode an event", "kind", e.Kind, "key", e.Key, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if _, err := b.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, payload); err != nil {
		b.logger.Error("pgbus: unable to publish an event to the other processes",
			"kind", e.Kind, "key", e.Key, "err", err)
	}
}

// Notification returns the channel and payload of the NOTIFY that
// carries e to the other processes: a transaction that sends it (see
// events.TxBus) publishes e when it commits. The bus recognises the echo
// as its own and skips it; Deliver gives e to this process.
func (b *Bus) Notification(e events.Event) (channel, payload string, err error) {
	p, err := json.Marshal(message{Event: e, Origin: b.origin})
	if err != nil {
		return "", "", err
	}
	return Channel, string(p), nil
}

// Deliver calls this process's subscribers with e.
func (b *Bus) Deliver(e events.Event) { b.deliver(e) }

// Close stops listening and closes the connections. Publish must not be
// called after Close.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.cancel()
		<-b.done
		b.pool.Close()
	})
	return nil
}

// deliver calls every subscriber with e.
func (b *Bus) deliver(e events.Event) {
	b.mu.RLock()
	subs := b.subs
	b.mu.RUnlock()
	for _, fn := range subs {
		fn(e)
	}
}

// connect opens the listening connection and LISTENs.
func (b *Bus) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, b.listen)
	if err != nil {
		return nil, fmt.Errorf("pgbus: unable to connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("pgbus: unable to listen: %w", err)
	}
	b.listenPID.Store(conn.PgConn().PID())
	return conn, nil
}

// run receives notifications on conn until ctx ends, reconnecting when
// the connection fails.
func (b *Bus) run(ctx context.Context, conn *pgx.Conn) {
	defer close(b.done)
	for {
		err := b.receive(ctx, conn)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		b.logger.Warn("pgbus: lost the listening connection; reconnecting", "err", err)
		if conn = b.reconnect(ctx); conn == nil {
			return
		}
		b.logger.Info("pgbus: listening again; events of the meantime were missed")
		b.mu.RLock()
		fns := b.onReconnect
		b.mu.RUnlock()
		for _, fn := range fns {
			fn()
		}
	}
}

// receive blocks for the next notification and delivers it, until the
// connection fails or ctx ends.
func (b *Bus) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var m message
		if err := json.Unmarshal([]byte(n.Payload), &m); err != nil || m.Kind == "" {
			b.logger.Warn("pgbus: ignoring a notification that is not an event", "payload", n.Payload, "err", err)
			continue
		}
		if m.Origin == b.origin {
			continue // delivered by Publish
		}
		b.deliver(m.Event)
	}
}

// reconnect opens the listening connection again, waiting longer after
// each failure, up to maxBackoff and with jitter so that the nodes of a
// cluster do not all knock at once on a server that restarts. It returns
// nil when ctx ends first.
func (b *Bus) reconnect(ctx context.Context) *pgx.Conn {
	wait := minBackoff
	for attempt := 1; ; attempt++ {
		jittered := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(jittered):
		}
		conn, err := b.connect(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		b.logger.Warn("pgbus: unable to reconnect", "attempt", attempt, "retry_in", min(2*wait, maxBackoff), "err", err)
		wait = min(2*wait, maxBackoff)
	}
}
