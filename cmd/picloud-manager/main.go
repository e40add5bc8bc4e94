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

	if err := n.FirstAdmin(ctx, c.AdminUser, c.AdminPassword, stdout, ""); err != nil {
		return err
	}
	return n.Serve(ctx, node.Serving{
		Listen:          c.Listen,
		Protection:      &c.Protection,
		ShutdownTimeout: c.ShutdownTimeout,
		Ready: func(addr string) {
			log.Info("PiCloud manager is listening", "address", "http://"+addr, "version", version)
		},
	})
}
