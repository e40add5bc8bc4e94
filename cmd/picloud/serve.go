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
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/events/pgbus"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/netguard"
	"github.com/picloud/picloud/internal/orchestrator"
	"github.com/picloud/picloud/internal/scheduler"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/ui"
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
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()

	// One process owns a SQLite file, so its events stay in the process;
	// on PostgreSQL they go through the database, to every process that
	// shares it.
	var bus events.Bus = events.NewLocal()
	var pgBus *pgbus.Bus
	if cfg.Postgres() {
		pgBus, err = pgbus.Open(ctx, cfg.DB, log.With("service", "bus"))
		if err != nil {
			return fmt.Errorf("open the event bus: %w", err)
		}
		defer pgBus.Close()
		bus = pgBus
	}
	met := metrics.New()
	defaults := executor.Limits{
		Timeout:        cfg.Timeout,
		MaxOperations:  cfg.MaxOperations,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		MaxMemoryBytes: cfg.MaxMemoryBytes,
		MaxScriptBytes: cfg.MaxScriptBytes,
		KV:             store.KVLimits{MaxValueBytes: cfg.KVMaxValueBytes, MaxBytes: cfg.KVMaxBytes, MaxKeys: cfg.KVMaxKeys},
	}
	exec := executor.New(executor.Config{Defaults: defaults, KV: st})
	storage := store.StorageQuotas{MaxQueuedBytes: cfg.MaxQueuedBytes, MaxRecordedBytes: cfg.MaxRecordedBytes}
	outbound := executor.OutboundLimits{
		Timeout:          cfg.OutboundTimeout,
		MaxResponseBytes: cfg.OutboundMaxResponse,
		MaxRequestBytes:  cfg.OutboundMaxRequestBody,
		MaxRequests:      cfg.OutboundMaxRequests,
	}
	orch := orchestrator.New(orchestrator.Config{
		Store:             st,
		Bus:               bus,
		Executor:          exec,
		Logger:            log.With("service", "orchestrator"),
		Metrics:           met,
		Defaults:          defaults,
		Outbound:          outbound,
		LogRetention:      cfg.LogRetention,
		LogFlushInterval:  cfg.LogFlush,
		MaxRunningPerApp:  cfg.MaxRunningJobs,
		Secrets:           keys,
		Storage:           storage,
		MaxInflight:       cfg.MaxInflight,
		MaxInflightPerApp: cfg.MaxInflightPerApp,
		MaxInflightHeavy:  cfg.MaxInflightHeavy,
		AdmissionWait:     cfg.AdmissionWait,
		// NodeID defaults to the host name: it survives a restart, so the
		// jobs a killed server was running are requeued when it starts.
	})
	sched := scheduler.New(scheduler.Config{
		Store:  st,
		Bus:    bus,
		Logger: log.With("service", "scheduler"),
		NewID:  orch.NewID,
	})
	mgr := manager.New(manager.Config{
		Store:   st,
		Bus:     bus,
		Logger:  log.With("service", "manager"),
		Metrics: met,
		// Deploys are checked by the executor that will run them.
		Compile: func(src string) error { _, err := exec.Compile(src); return err },
		Secrets: keys,
		// Replays run here, on the data plane.
		Replayer: orch,

		KVLimits: defaults.KV,

		MaxSourceBytes: defaults.MaxScriptBytes,
		Storage:        storage,
		Login: manager.LoginLimits{
			MaxFailures:        cfg.LoginMaxFailures,
			MaxAddressFailures: cfg.LoginMaxAddressFailures,
			MaxUserFailures:    cfg.LoginMaxUserFailures,
			TrustedProxies:     cfg.TrustedProxies,
		},
	})

	if pgBus != nil {
		// The events published while the bus was reconnecting are lost:
		// drop every compiled script, look for queued jobs and re-plan
		// the schedules.
		pgBus.OnReconnect(func() {
			orch.Resync()
			sched.Wake()
			mgr.Resync()
		})
	}

	created, password, err := mgr.EnsureAdmin(ctx, cfg.AdminUser, cfg.AdminPassword)
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

	mux := routes(mgr, orch, met)
	// /metrics names every app: it is served on its own private address,
	// or on the main one to administrators and the metrics token holder.
	stopMetrics, err := cluster.MountMetrics(mux, met, mgr, cluster.MetricsAccess{
		Listen: cfg.MetricsListen, Token: cfg.MetricsToken, TokenFile: cfg.MetricsTokenFile}, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	srv := &http.Server{
		Handler:           mux,
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
		Metrics:           met,
	})
	// Live log streams never end on their own: Shutdown would wait for
	// them until its timeout.
	srv.RegisterOnShutdown(mgr.EndStreams)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// The queue consumer first requeues what a killed server left
	// running; the scheduler's first pass fires what was missed.
	if err := orch.Start(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("start the job queue: %w", err)
	}
	sched.Start()
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
	if err := sched.Close(sctx); err != nil {
		log.Error("stopping the scheduler", "err", err)
	}
	shutdownErr := srv.Shutdown(sctx)
	if err := orch.Close(sctx); err != nil {
		log.Error("stopping the job queue and flushing invocation logs", "err", err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}

// routes mounts the services on one mux; /metrics is mounted apart
// (cluster.MountMetrics).
func routes(mgr *manager.Manager, orch *orchestrator.Orchestrator, met *metrics.Metrics) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/api/", mgr.Handler()) // counts its own requests
	mux.Handle("/fn/", met.Middleware("orchestrator", orch.Handler()))
	mux.Handle("GET "+ui.Prefix, ui.Handler())
	mux.Handle("GET /{$}", http.RedirectHandler(ui.Prefix, http.StatusFound))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	return mux
}
