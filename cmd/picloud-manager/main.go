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
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/node"
	"github.com/picloud/picloud/internal/store"
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
	os.Exit(cluster.Exit("picloud-manager", err, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		common                   cluster.Common
		limits                   executor.Limits
		storage                  store.StorageQuotas
		dsn, adminUser, adminPwd string
		secretKey, secretKeyFile string
		metricsAccess            cluster.MetricsAccess
		login                    manager.LoginLimits
	)
	f := cluster.NewFlags("picloud-manager", getenv, stderr)
	f.Common(&common, "127.0.0.1:8080", false)
	f.String(&dsn, "db", "PICLOUD_DB", "", "PostgreSQL URL of the cluster's database (postgres://…)", true)
	f.String(&adminUser, "admin-user", "PICLOUD_ADMIN_USER", "admin", "name of the first admin user", true)
	f.String(&adminPwd, "", "PICLOUD_ADMIN_PASSWORD", "", "password of the first admin (generated and printed once when empty)", false)
	// Deploys are compiled with the limits the executors parse under.
	f.Limits(&limits)
	f.Storage(&storage)
	f.SecretKey(&secretKey, &secretKeyFile)
	f.Metrics(&metricsAccess)
	f.Login(&login)
	var protect cluster.Protection
	f.Connections(&protect)
	if err := f.Parse(args); err != nil {
		return err
	}
	log := common.Logger(stderr)
	keys, err := cluster.OpenSecretKey(secretKey, secretKeyFile, log)
	if err != nil {
		return err
	}

	met := metrics.New()
	protect.Guard.Metrics = met
	// The manager runs no scripts, so it cannot replay them: the
	// orchestrator nodes serve POST /api/v1/logs/{id}/replay.
	n, err := node.New(ctx, node.Config{
		Role:          node.Manager,
		DB:            dsn,
		Logger:        log,
		Metrics:       met,
		Limits:        limits, // deploys are compiled with the executors' limits
		Storage:       storage,
		Secrets:       keys,
		Login:         login,
		MetricsAccess: metricsAccess,
	})
	if err != nil {
		return err
	}
	defer n.Close(context.Background())

	created, password, err := n.Manager.EnsureAdmin(ctx, adminUser, adminPwd)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if created && adminPwd == "" {
		// Printed once, on stdout, so that it can be captured; never logged.
		fmt.Fprintf(stdout, "Created the first admin user %q with password: %s\n", adminUser, password)
		fmt.Fprintln(stdout, "Store it now: it is not shown again.")
	} else if created {
		log.Info("created the first admin user", "username", adminUser)
	}

	ln, err := cluster.Listen(common.Listen)
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	log.Info("PiCloud manager is listening", "address", "http://"+ln.Addr().String(), "version", version)
	serveErr := cluster.Serve(ctx, log, ln, n.Handler(), common.ShutdownTimeout, &protect, n.EndStreams)

	sctx, cancel := context.WithTimeout(context.Background(), common.ShutdownTimeout)
	defer cancel()
	if err := n.Close(sctx); err != nil {
		log.Error("stopping the scheduler", "err", err)
	}
	if serveErr == nil {
		log.Info("stopped")
	}
	return serveErr
}
