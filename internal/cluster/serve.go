package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/netguard"
)

// Protection are the settings that protect a server from load it cannot
// carry: the admission gate of script runs (orchestrator) and the guard
// of HTTP connections (every binary that listens on TCP).
type Protection struct {
	MaxInflight, MaxInflightPerApp int
	MaxInflightHeavy               int
	AdmissionWait                  time.Duration
	Guard                          netguard.Config
	ReadHeaderTimeout, IdleTimeout time.Duration
}

// Listen listens on addr: "unix:/path" for a unix socket, whose stale file
// (left by a process that was killed) is removed first and which only its
// owner may use; anything else is a TCP host:port.
func Listen(addr string) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("cluster: unable to listen: %w", err)
		}
		return ln, nil
	}
	path = strings.TrimPrefix(path, "//")
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("cluster: %s exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("cluster: unable to remove the stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("cluster: unable to listen: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("cluster: unable to restrict the socket: %w", err)
	}
	return ln, nil
}

// Serve serves h on ln until ctx is done, then shuts the server down,
// letting in-flight requests finish within timeout. The onShutdown
// functions are called as the shutdown begins, to end requests that would
// not end by themselves (live log streams). A nil p keeps the default
// timeouts and no connection guard (the executor's private socket).
func Serve(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler, timeout time.Duration, p *Protection, onShutdown ...func()) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serve := srv.Serve
	if p != nil {
		srv.ReadHeaderTimeout, srv.IdleTimeout = p.ReadHeaderTimeout, p.IdleTimeout
		g := netguard.New(p.Guard)
		log.Info("guarding connections", "max_conns", g.MaxConns(), "max_conns_per_client", p.Guard.MaxConnsPerClient)
		serve = func(ln net.Listener) error { return g.Serve(srv, ln) }
	}
	for _, f := range onShutdown {
		srv.RegisterOnShutdown(f)
	}
	errc := make(chan error, 1)
	go func() { errc <- serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("cluster: serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("cluster: shutdown: %w", err)
	}
	return nil
}

// Health answers GET /healthz: 200 {"status":"ok"} when check passes (a nil
// check always does), else 503 with the error. Load balancers poll it, so
// a check must not touch the database: an idle cluster stays quiet.
func Health(check func(ctx context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if check != nil {
			if err := check(r.Context()); err != nil {
				httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	}
}
