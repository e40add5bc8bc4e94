package node

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/picloud/picloud/internal/cluster"
)

// Serving says how a node's binary serves it.
type Serving struct {
	Listen string // host:port, or unix:/path (the executor)
	// Protection guards the connections (nil: none, for the executor's
	// private socket); its metrics are the node's.
	Protection *cluster.Protection
	// ShutdownTimeout bounds the in-flight requests, then the node's own
	// shutdown (running jobs, buffered logs), once ctx is done.
	ShutdownTimeout time.Duration
	// Ready is called once the node listens and has started, with the
	// address it listens on: the binary's "listening" log line.
	Ready func(addr string)
}

// Serve listens, starts the node's background work, serves its handler
// until ctx is done, then shuts down gracefully: the live log streams end,
// in-flight requests finish, then the node closes (the scheduler, the
// queue's running jobs, the buffered invocation logs), each bounded by
// the shutdown timeout. Every PiCloud server binary ends in Serve.
func (n *Node) Serve(ctx context.Context, s Serving) error {
	ln, err := cluster.Listen(s.Listen)
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	if s.Ready != nil {
		s.Ready(ln.Addr().String())
	}
	var protect *cluster.Protection
	if s.Protection != nil {
		p := *s.Protection
		p.Guard.Metrics = n.Metrics
		protect = &p
	}
	serveErr := cluster.Serve(ctx, n.log, ln, n.Handler(), s.ShutdownTimeout, protect, n.EndStreams)
	sctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	if err := n.Close(sctx); err != nil {
		n.log.Error("stopping the node", "err", err)
	}
	if serveErr == nil {
		n.log.Info("stopped")
	}
	return serveErr
}

// FirstAdmin creates the first administrator when there is no user yet.
// A password it generated (password "") is printed once on stdout, so
// that it can be captured, and never logged; hint says how to change it.
func (n *Node) FirstAdmin(ctx context.Context, user, password string, stdout io.Writer, hint string) error {
	created, generated, err := n.Manager.EnsureAdmin(ctx, user, password)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	switch {
	case created && password == "":
		fmt.Fprintf(stdout, "Created the first admin user %q with password: %s\n", user, generated)
		fmt.Fprintln(stdout, "Store it now: it is not shown again."+hint)
	case created:
		n.log.Info("created the first admin user", "username", user)
	}
	return nil
}
