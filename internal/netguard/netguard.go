// Package netguard keeps an HTTP server answering when clients hold its
// connections: a cap on the connections open, in total and per client
// address, with a reserve that only the control plane and /healthz may
// use; and a minimum rate for request bodies, past a short grace, so that
// a client trickling a body is cut off while a large upload at a decent
// rate passes. Header and idle timeouts are the http.Server's own.
//
// Without a cap, a thousand connections sending a byte every ten seconds
// used up the process's file descriptors: accept failed, and every new
// request — the API, the data plane, /healthz — timed out
// (docs/security.md, "Slow clients").
package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/metrics"
)

// Config configures a Guard; zero fields turn their protection off.
type Config struct {
	// MaxConns caps the connections open at once; a connection past it
	// is closed as soon as it is accepted. New lowers it to what the
	// process's file descriptor limit allows.
	MaxConns int
	// MaxConnsPerClient caps the connections of one client IP address.
	// Behind a reverse proxy every connection comes from the proxy's
	// address: set 0 there.
	MaxConnsPerClient int
	// MinBodyRate is the slowest a request body may arrive, in bytes per
	// second, once BodyGrace has passed since the handler began reading.
	MinBodyRate int64
	BodyGrace   time.Duration
	// Priority tells the requests that the reserve serves (default: all
	// but the data plane, /fn/).
	Priority func(*http.Request) bool
	Metrics  *metrics.Metrics
}

// Reasons of a refused connection, the label of the metric.
const (
	refusedTotal   = "total"
	refusedClient  = "client"
	refusedReserve = "reserve"
)

// reserveShare is the part of MaxConns kept for priority requests: the
// last eighth of the connections (at least one) serve only them.
const reserveShare = 8

// fdHeadroom is the file descriptors kept out of MaxConns for the
// database, the log and the listener itself.
const fdHeadroom = 64

// Guard applies a Config to one server: wrap its listener with Listener,
// its handler with Handler, and set its ConnContext (Serve does all).
type Guard struct {
	cfg     Config
	reserve int // connections beyond MaxConns-reserve are priority-only

	mu      sync.Mutex
	open    int
	clients map[string]int
}

// New returns a guard for cfg, its MaxConns lowered to the file
// descriptors the process may open (less a headroom) when those are
// fewer.
func New(cfg Config) *Guard {
	if cfg.MaxConns > 0 {
		if fds := fileLimit(); fds > 0 && cfg.MaxConns > fds-fdHeadroom {
			cfg.MaxConns = max(fds-fdHeadroom, 1)
		}
	}
	if cfg.Priority == nil {
		cfg.Priority = ControlPlane
	}
	return &Guard{cfg: cfg, reserve: max(cfg.MaxConns/reserveShare, 1), clients: make(map[string]int)}
}

// MaxConns is the connection cap in force, after New lowered it to the
// file descriptor limit; 0 when there is none.
func (g *Guard) MaxConns() int { return g.cfg.MaxConns }

// ControlPlane reports whether r is for anything but the data plane: the
// API, the dashboard, /metrics and /healthz.
func ControlPlane(r *http.Request) bool { return !strings.HasPrefix(r.URL.Path, "/fn/") }

// Serve serves srv on ln behind the guard, until srv shuts down.
func (g *Guard) Serve(srv *http.Server, ln net.Listener) error {
	srv.Handler = g.Handler(srv.Handler)
	srv.ConnContext = g.ConnContext
	return srv.Serve(g.Listener(ln))
}

// Listener wraps ln: it closes at once the connections past the caps and
// marks those that fall in the reserve.
func (g *Guard) Listener(ln net.Listener) net.Listener { return &listener{Listener: ln, g: g} }

type listener struct {
	net.Listener
	g *Guard
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if gc := l.g.admit(c); gc != nil {
			return gc, nil
		}
		c.Close()
	}
}

// admit counts c in, or returns nil when a cap refuses it.
func (g *Guard) admit(c net.Conn) *conn {
	client := clientIP(c)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cfg.MaxConns > 0 && g.open >= g.cfg.MaxConns {
		g.cfg.Metrics.ConnRefused(refusedTotal)
		return nil
	}
	if client != "" && g.cfg.MaxConnsPerClient > 0 && g.clients[client] >= g.cfg.MaxConnsPerClient {
		g.cfg.Metrics.ConnRefused(refusedClient)
		return nil
	}
	g.open++
	if client != "" {
		g.clients[client]++
	}
	g.cfg.Metrics.ConnOpened()
	reserved := g.cfg.MaxConns > 0 && g.open > g.cfg.MaxConns-g.reserve
	return &conn{Conn: c, g: g, client: client, reserved: reserved}
}

func (g *Guard) release(client string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open--
	if client != "" {
		if g.clients[client]--; g.clients[client] <= 0 {
			delete(g.clients, client)
		}
	}
	g.cfg.Metrics.ConnClosed()
}

// clientIP is the IP address of c's peer, "" for a unix socket.
func clientIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return ""
}

// conn is an admitted connection, counted until it is closed.
type conn struct {
	net.Conn
	g        *Guard
	client   string
	reserved bool
	once     sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.g.release(c.client) })
	return err
}

type reservedKey struct{}

// ConnContext marks the requests of a connection of the reserve.
func (g *Guard) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if gc, ok := c.(*conn); ok && gc.reserved {
		return context.WithValue(ctx, reservedKey{}, true)
	}
	return ctx
}

// Handler wraps next: on a connection of the reserve it answers only
// priority requests, the others 503 and the connection closed; and it
// holds request bodies to the minimum rate.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hasBody := r.Body != nil && r.Body != http.NoBody
		if r.Context().Value(reservedKey{}) != nil && !g.cfg.Priority(r) {
			g.cfg.Metrics.ConnRefused(refusedReserve)
			if hasBody {
				// net/http would read what is left of the body before
				// closing; the refused request's body is not wanted.
				_ = http.NewResponseController(w).SetReadDeadline(time.Now())
			}
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			httpx.WriteError(w, &httpx.Error{Status: http.StatusServiceUnavailable, Code: "server_busy",
				Message: "the server has as many connections open as it may; try again shortly"})
			return
		}
		if g.cfg.MinBodyRate > 0 && hasBody {
			rr := &rateReader{body: r.Body, rc: http.NewResponseController(w), g: g, start: time.Now()}
			// Armed before the handler runs: a handler that answers
			// without reading the body (401, 404) leaves net/http to
			// read the rest of it, which must not take longer either.
			if err := rr.arm(); err != nil {
				httpx.WriteError(w, err)
				return
			}
			r.Body = rr
		}
		next.ServeHTTP(w, r)
	})
}

// rateReader reads a request body under a read deadline that moves on
// with every byte received: the body may take BodyGrace plus its length
// at MinBodyRate, so a client may pause, but not trickle.
type rateReader struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	g     *Guard
	start time.Time
	read  int64
	done  bool
}

// arm sets the read deadline of the next byte: the grace plus the bytes
// read so far at the minimum rate, from the start.
func (r *rateReader) arm() error {
	allowed := r.g.cfg.BodyGrace + time.Duration(float64(r.read+1)/float64(r.g.cfg.MinBodyRate)*float64(time.Second))
	if err := r.rc.SetReadDeadline(r.start.Add(allowed)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("netguard: unable to set the body's read deadline: %w", err)
	}
	return nil
}

func (r *rateReader) Read(p []byte) (int, error) {
	if !r.done {
		if err := r.arm(); err != nil {
			return 0, err
		}
	}
	n, err := r.body.Read(p)
	r.read += int64(n)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		r.g.cfg.Metrics.SlowBody()
		return n, fmt.Errorf("netguard: %d bytes in %s: %w", r.read, time.Since(r.start).Round(time.Millisecond), httpx.ErrSlowBody)
	case err != nil && !r.done:
		// The whole body is in: the handler may run as long as it needs,
		// and the server's wait for the next request sets its own
		// deadline.
		r.done = true
		_ = r.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (r *rateReader) Close() error { return r.body.Close() }
