package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	// Time zones come with the binary, so that schedules in any IANA zone
	// work on systems without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/netguard"
	"github.com/picloud/picloud/internal/node"
	"github.com/picloud/picloud/internal/store"
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

	keys, err := openSecretKey(cfg, log)
	if err != nil {
		return err
	}
	st, err := node.OpenStore(ctx, cfg.DB, cfg.DatabasePath(), log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()

	db := ""
	if cfg.Postgres() {
		// On PostgreSQL the events go through the database, to every
		// process that shares it.
		db = cfg.DB
	}
	n, err := node.New(ctx, node.Config{
		Role:   node.AllInOne,
		Store:  st,
		DB:     db,
		Logger: log,
		Limits: executor.Limits{
			Timeout:        cfg.Timeout,
			MaxOperations:  cfg.MaxOperations,
			MaxBodyBytes:   cfg.MaxBodyBytes,
			MaxMemoryBytes: cfg.MaxMemoryBytes,
			MaxScriptBytes: cfg.MaxScriptBytes,
			KV:             store.KVLimits{MaxValueBytes: cfg.KVMaxValueBytes, MaxBytes: cfg.KVMaxBytes, MaxKeys: cfg.KVMaxKeys},
		},
		Outbound: executor.OutboundLimits{
			Timeout:          cfg.OutboundTimeout,
			MaxResponseBytes: cfg.OutboundMaxResponse,
			MaxRequestBytes:  cfg.OutboundMaxRequestBody,
			MaxRequests:      cfg.OutboundMaxRequests,
		},
		Storage: store.StorageQuotas{MaxQueuedBytes: cfg.MaxQueuedBytes, MaxRecordedBytes: cfg.MaxRecordedBytes},
		Secrets: keys,
		Login: manager.LoginLimits{
			MaxFailures:        cfg.LoginMaxFailures,
			MaxAddressFailures: cfg.LoginMaxAddressFailures,
			MaxUserFailures:    cfg.LoginMaxUserFailures,
			TrustedProxies:     cfg.TrustedProxies,
		},
		LogRetention:      cfg.LogRetention,
		LogFlush:          cfg.LogFlush,
		MaxRunningJobs:    cfg.MaxRunningJobs,
		MaxInflight:       cfg.MaxInflight,
		MaxInflightPerApp: cfg.MaxInflightPerApp,
		MaxInflightHeavy:  cfg.MaxInflightHeavy,
		AdmissionWait:     cfg.AdmissionWait,
		MetricsAccess: cluster.MetricsAccess{
			Listen: cfg.MetricsListen, Token: cfg.MetricsToken, TokenFile: cfg.MetricsTokenFile},
	})
	if err != nil {
		return err
	}
	// Closed after the server's shutdown below, or here when it never
	// starts; a second Close does nothing.
	defer n.Close(context.Background())

	created, password, err := n.Manager.EnsureAdmin(ctx, cfg.AdminUser, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if created && cfg.AdminPassword == "" {
		// Printed once, on stdout, so that it can be captured; never logged.
		fmt.Fprintf(stdout, "Created the first admin user %q with password: %s\n", cfg.AdminUser, password)
		fmt.Fprintln(stdout, "Store it now: it is not shown again. Change it with 'picloud admin reset-password'.")
	} else if created {
		log.Info("created the first admin user", "username", cfg.AdminUser)
	}

	srv := &http.Server{
		Handler:           n.Handler(),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Slow or piled-up clients must not take every connection the
	// process may open: the guard caps them and keeps a reserve for the
	// control plane and /healthz.
	guard := netguard.New(netguard.Config{
		MaxConns:          cfg.MaxConns,
		MaxConnsPerClient: cfg.MaxConnsPerClient,
		MinBodyRate:       cfg.MinBodyRate,
		BodyGrace:         cfg.BodyGrace,
		Metrics:           n.Metrics,
	})
	// Live log streams never end on their own: Shutdown would wait for
	// them until its timeout.
	srv.RegisterOnShutdown(n.EndStreams)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// The queue consumer first requeues what a killed server left
	// running; the scheduler's first pass fires what was missed.
	if err := n.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	log.Info("PiCloud is listening", "address", "http://"+ln.Addr().String(), "database", cfg.DatabaseName(), "gogc", gogc, "max_conns", guard.MaxConns(), "version", version)

	errc := make(chan error, 1)
	go func() { errc <- guard.Serve(srv, ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	if err := n.Close(sctx); err != nil {
		log.Error("stopping the node", "err", err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}
