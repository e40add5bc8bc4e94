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
	"net/http"
	"os"
	"os/signal"
	"syscall"
	// Time zones come with the binary, so that schedules in any IANA zone
	// work on systems without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/events/pgbus"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/orchestrator"
	"github.com/picloud/picloud/internal/scheduler"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/sqlstore"
	"github.com/picloud/picloud/internal/ui"
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

	st, err := sqlstore.OpenPostgres(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	from, to := st.Migrated()
	log.Info("database schema", "from_version", from, "schema_version", to)
	bus, err := pgbus.Open(ctx, dsn, log.With("service", "bus"))
	if err != nil {
		return err
	}
	defer bus.Close()

	met := metrics.New()
	protect.Guard.Metrics = met
	exec := executor.New(executor.Config{Defaults: limits})
	sched := scheduler.New(scheduler.Config{
		Store:  st,
		Bus:    bus,
		Logger: log.With("service", "scheduler"),
		NewID:  orchestrator.NewIDs(),
	})
	// The manager runs no scripts, so it cannot replay them: the
	// orchestrator nodes serve POST /api/v1/logs/{id}/replay.
	mgr := manager.New(manager.Config{
		Store:   st,
		Bus:     bus,
		Logger:  log.With("service", "manager"),
		Metrics: met,
		Compile: func(src string) error { _, err := exec.Compile(src); return err },
		Secrets: keys,

		KVLimits: limits.KV,

		MaxSourceBytes: limits.MaxScriptBytes,
		Storage:        storage,
		Login:          login,
	})
	// Schedule changes and written logs announced while the bus was
	// reconnecting were missed.
	bus.OnReconnect(func() {
		sched.Wake()
		mgr.Resync()
	})

	created, password, err := mgr.EnsureAdmin(ctx, adminUser, adminPwd)
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

	mux := http.NewServeMux()
	mux.Handle("/api/", mgr.Handler()) // counts its own requests
	stopMetrics, err := cluster.MountMetrics(mux, met, mgr, metricsAccess, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	mux.Handle("GET "+ui.Prefix, ui.Handler())
	mux.Handle("GET /{$}", http.RedirectHandler(ui.Prefix, http.StatusFound))
	mux.Handle("GET /healthz", cluster.Health(nil))

	ln, err := cluster.Listen(common.Listen)
	if err != nil {
		return err
	}
	sched.Start()
	log.Info("PiCloud manager is listening", "address", "http://"+ln.Addr().String(), "version", version)
	serveErr := cluster.Serve(ctx, log, ln, mux, common.ShutdownTimeout, &protect, mgr.EndStreams)

	sctx, cancel := context.WithTimeout(context.Background(), common.ShutdownTimeout)
	defer cancel()
	if err := sched.Close(sctx); err != nil {
		log.Error("stopping the scheduler", "err", err)
	}
	if serveErr == nil {
		log.Info("stopped")
	}
	return serveErr
}
