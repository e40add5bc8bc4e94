package main

import (
	"context"
	"errors"
	"flag"
	"io"

	// Time zones come with the binary, so that schedules in any IANA zone
	// work on systems without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/node"
)

// serve runs the all-in-one server until ctx is done, then shuts down
// gracefully: the scheduler stops, in-flight requests and running jobs
// finish (bounded by the shutdown timeout) and buffered invocation logs
// are flushed.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := config.Load("picloud serve", args, config.Environ, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return usageError{err}
	}
	log := cfg.Logger(stderr)
	gogc := config.TuneGC(config.Environ)

	keys, err := cfg.OpenSecretKey(log)
	if err != nil {
		return err
	}
	// The node opens the database: PostgreSQL when --db is set (its
	// events then go through the database, to every process that shares
	// it), else the SQLite file in the data directory.
	n, err := node.New(ctx, node.Config{
		Role:              node.AllInOne,
		DB:                cfg.DB,
		SQLite:            cfg.DatabasePath(),
		Logger:            log,
		Limits:            cfg.Limits,
		Outbound:          cfg.Outbound,
		Storage:           cfg.Storage,
		Secrets:           keys,
		Login:             cfg.Login,
		LogRetention:      cfg.Logs.Retention,
		LogFlush:          cfg.Logs.Flush,
		NoJournal:         cfg.Logs.NoJournal,
		MaxRunningJobs:    cfg.MaxRunningJobs,
		MaxInflight:       cfg.Protection.MaxInflight,
		MaxInflightPerApp: cfg.Protection.MaxInflightPerApp,
		MaxInflightHeavy:  cfg.Protection.MaxInflightHeavy,
		AdmissionWait:     cfg.Protection.AdmissionWait,
		MetricsAccess:     cfg.Metrics,
	})
	if err != nil {
		return err
	}
	// Closed after the server's shutdown below, or here when it never
	// starts; a second Close does nothing.
	defer n.Close(context.Background())

	if err := n.FirstAdmin(ctx, cfg.AdminUser, cfg.AdminPassword, stdout, " Change it with 'picloud admin reset-password'."); err != nil {
		return err
	}
	// The queue consumer first requeues what a killed server left
	// running; the scheduler's first pass fires what was missed. Slow or
	// piled-up clients must not take every connection the process may
	// open: the guard caps them and keeps a reserve for the control plane
	// and /healthz.
	return n.Serve(ctx, node.Serving{
		Listen:          cfg.Listen,
		Protection:      &cfg.Protection,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Ready: func(addr string) {
			log.Info("PiCloud is listening", "address", "http://"+addr, "database", cfg.DatabaseName(), "gogc", gogc, "version", version)
		},
	})
}
