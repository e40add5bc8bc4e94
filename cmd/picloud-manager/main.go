// Command picloud-manager is the control plane of a PiCloud cluster: the
// REST API under /api/v1, the dashboard under /ui/, and the firing of cron
// schedules, on the cluster's PostgreSQL database. Deploys reach every
// node's orchestrator through LISTEN/NOTIFY.
//
// Schedules fire exactly once however many managers run: each firing is a
// compare-and-set on the schedule's row, so a second manager on the same
// database is a hot standby (put both behind the proxy).
//
//	picloud-manager --db postgres://… [flags]
//	picloud-manager version
//
// See docs/cluster.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// Time zones come with the binary, so that schedules in any IANA zone
	// work on systems without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/node"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("picloud-manager", version)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(config.Exit("picloud-manager", err, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := config.LoadManager(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := c.Logger(stderr)
	keys, err := c.SecretKey.OpenClusterKey(log)
	if err != nil {
		return err
	}

	met := metrics.New()
	protect := c.Protection
	protect.Guard.Metrics = met
	// The manager runs no scripts, so it cannot replay them: the
	// orchestrator nodes serve POST /api/v1/logs/{id}/replay.
	n, err := node.New(ctx, node.Config{
		Role:          node.Manager,
		DB:            c.DB,
		Logger:        log,
		Metrics:       met,
		Limits:        c.Limits, // deploys are compiled with the executors' limits
		Storage:       c.Storage,
		Secrets:       keys,
		Login:         c.Login,
		MetricsAccess: c.Metrics,
	})
	if err != nil {
		return err
	}
	defer n.Close(context.Background())

	created, password, err := n.Manager.EnsureAdmin(ctx, c.AdminUser, c.AdminPassword)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if created && c.AdminPassword == "" {
		// Printed once, on stdout, so that it can be captured; never logged.
		fmt.Fprintf(stdout, "Created the first admin user %q with password: %s\n", c.AdminUser, password)
		fmt.Fprintln(stdout, "Store it now: it is not shown again.")
	} else if created {
		log.Info("created the first admin user", "username", c.AdminUser)
	}

	ln, err := cluster.Listen(c.Listen)
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	log.Info("PiCloud manager is listening", "address", "http://"+ln.Addr().String(), "version", version)
	serveErr := cluster.Serve(ctx, log, ln, n.Handler(), c.ShutdownTimeout, &protect, n.EndStreams)

	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := n.Close(sctx); err != nil {
		log.Error("stopping the scheduler", "err", err)
	}
	if serveErr == nil {
		log.Info("stopped")
	}
	return serveErr
}
