// Package node assembles a PiCloud node from a Config: the all-in-one
// server, or one of the three roles of a cluster (manager, orchestrator,
// executor). It is the one place that builds and wires the manager, the
// orchestrator, the executor, the scheduler, the store and the event bus;
// every binary and the test harnesses build their node here and only
// parse their configuration, listen and serve around it.
//
// A whole all-in-one node on a temporary SQLite file, as `pic dev` runs
// one, takes a few lines:
//
//	n, err := node.New(ctx, node.Config{SQLite: filepath.Join(dir, "picloud.db")})
//	…
//	defer n.Close(context.Background())
//	if err := n.Start(ctx); err != nil { … }
//	srv := httptest.NewServer(n.Handler()) // or any http.Server
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/events/pgbus"
	"github.com/picloud/picloud/internal/execrpc"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/ids"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/orchestrator"
	"github.com/picloud/picloud/internal/scheduler"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/sqlstore"
	"github.com/picloud/picloud/internal/ui"
)

// Role is what a node does.
type Role string

const (
	// AllInOne is the single-process server: control plane, data plane,
	// scheduler and executor (cmd/picloud).
	AllInOne Role = "all-in-one"
	// Manager is a cluster's control plane: the API, the dashboard and
	// the scheduler; it runs no scripts (cmd/picloud-manager).
	Manager Role = "manager"
	// Orchestrator is a cluster's data plane: /fn/, the job queue and
	// replays, running scripts through Config.Runner, the node's
	// executor process (cmd/picloud-orchestrator).
	Orchestrator Role = "orchestrator"
	// Executor runs scripts for its orchestrator over the executor RPC
	// (cmd/picloud-executor).
	Executor Role = "executor"
)

// Config says how to assemble a node. Zero fields take the defaults of
// the package each one configures.
type Config struct {
	Role Role // default AllInOne

	// Store is the node's database, owned by the caller. Without it, the
	// node opens one itself and closes it in Close: PostgreSQL at DB when
	// DB is set, else the SQLite file SQLite, created if needed. An
	// executor may have none (then its scripts' kv calls fail).
	Store  store.Store
	DB     string // the PostgreSQL URL, shared by the nodes of a cluster
	SQLite string // the path of a SQLite file, which one process owns
	// Bus carries the changes between the services, owned by the caller.
	// Without it, a node on PostgreSQL (DB set) opens a bus over
	// LISTEN/NOTIFY, so that every process sharing the database hears
	// the changes; any other keeps its events in the process. A bus with
	// OnReconnect (pgbus) is told what to resync after a reconnection.
	Bus events.Bus

	Logger  *slog.Logger     // default: discard
	Metrics *metrics.Metrics // default: a new registry

	// Limits bound every run; the manager checks deploys against them.
	Limits   executor.Limits
	Outbound executor.OutboundLimits
	Storage  store.StorageQuotas
	Secrets  *secrets.Keyring // nil: setting a secret answers 503
	Login    manager.LoginLimits

	// The data plane (AllInOne, Orchestrator).
	Runner         orchestrator.Runner // Orchestrator: the node's executor process; required
	NodeID         string              // the node's name in the job queue (default: host name)
	Workers        int
	MaxRunningJobs int
	LogRetention   time.Duration
	LogFlush       time.Duration
	// NoJournal turns the invocations' effect journals off.
	NoJournal         bool
	LogBatchSize      int
	MaxInflight       int
	MaxInflightPerApp int
	MaxInflightHeavy  int
	AdmissionWait     time.Duration
	// Health tells whether the node can serve, for GET /healthz (nil:
	// always); an orchestrator's asks its executor.
	Health func(ctx context.Context) error

	// OutboundTransport, when set, carries the outbound HTTP requests of
	// an all-in-one node's scripts (executor.Config.Transport): pic
	// test answers them with its stubs. Servers leave it nil.
	OutboundTransport http.RoundTripper

	// ExecutorCacheSize is how many compiled versions an Executor node
	// keeps (default execrpc.DefaultCacheSize).
	ExecutorCacheSize int

	// MetricsAccess says where /metrics is served and to whom (AllInOne,
	// Manager, Orchestrator).
	MetricsAccess cluster.MetricsAccess
}

// Node is an assembled node. Its services are exported for the binaries
// and the tests that need one of them (the first admin, a flush of the
// logs); those its role has not are nil.
type Node struct {
	Role         Role
	Store        store.Store
	Bus          events.Bus
	Metrics      *metrics.Metrics
	Manager      *manager.Manager
	Orchestrator *orchestrator.Orchestrator
	Executor     *executor.Executor
	Scheduler    *scheduler.Scheduler

	handler http.Handler
	log     *slog.Logger
	started bool
	closed  bool
	closers []func() // in the order they run
}

// New assembles a node; nothing but the orchestrator's log writer runs
// before Start. On error, whatever New opened is closed again.
func New(ctx context.Context, cfg Config) (n *Node, err error) {
	if cfg.Role == "" {
		cfg.Role = AllInOne
	}
	switch cfg.Role {
	case AllInOne, Manager, Orchestrator, Executor:
	default:
		return nil, fmt.Errorf("node: unknown role %q (all-in-one, manager, orchestrator or executor)", cfg.Role)
	}
	if cfg.Role == Orchestrator && cfg.Runner == nil {
		return nil, errors.New("node: an orchestrator needs the Runner of its executor")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	n = &Node{Role: cfg.Role, Metrics: cfg.Metrics, Store: cfg.Store, Bus: cfg.Bus, log: cfg.Logger}
	defer func() {
		if err != nil {
			// The orchestrator's log writer runs from its construction.
			n.Close(context.Background())
			n = nil
		}
	}()
	if err := n.open(ctx, cfg); err != nil {
		return n, err
	}
	switch cfg.Role {
	case Executor:
		n.assembleExecutor(cfg)
		return n, nil
	case AllInOne:
		n.Executor = newExecutor(cfg.Limits, n.Store, cfg.OutboundTransport)
	}
	if cfg.Role != Manager {
		n.assembleDataPlane(cfg)
	}
	if cfg.Role != Orchestrator {
		n.assembleControlPlane(cfg)
	}
	n.resyncOnReconnect()
	return n, n.route(cfg)
}

// OpenStore opens the database: PostgreSQL at db when it is set, else the
// SQLite file at sqlite, created if needed. Either way the schema is
// migrated to this version, which log, when not nil, tells: the version
// the database has, and had before this start.
func OpenStore(ctx context.Context, db, sqlite string, log *slog.Logger) (*sqlstore.Store, error) {
	var (
		st  *sqlstore.Store
		err error
	)
	if db != "" {
		st, err = sqlstore.OpenPostgres(ctx, db)
	} else {
		st, err = sqlstore.OpenSQLite(sqlite)
	}
	if err != nil || log == nil {
		return st, err
	}
	switch from, to := st.Migrated(); {
	case from == to:
		log.Info("database schema up to date", "backend", st.Dialect(), "schema_version", to)
	case from == 0:
		log.Info("database created", "backend", st.Dialect(), "schema_version", to)
	default:
		log.Info("database schema upgraded", "backend", st.Dialect(), "from_version", from, "schema_version", to)
	}
	return st, nil
}

// open opens the store and the bus the caller did not give.
func (n *Node) open(ctx context.Context, cfg Config) error {
	if n.Store == nil && (cfg.DB != "" || cfg.SQLite != "") {
		st, err := OpenStore(ctx, cfg.DB, cfg.SQLite, cfg.Logger)
		if err != nil {
			return fmt.Errorf("node: open the database: %w", err)
		}
		n.closers = append(n.closers, func() { st.Close() })
		n.Store = st
	}
	if n.Store == nil && cfg.Role != Executor {
		return fmt.Errorf("node: a %s node needs a Store, a DB or a SQLite file", cfg.Role)
	}
	if n.Bus != nil || cfg.Role == Executor {
		return nil
	}
	if cfg.DB == "" {
		// One process owns a SQLite file, so its events stay in the
		// process.
		n.Bus = events.NewLocal()
		return nil
	}
	b, err := pgbus.Open(ctx, cfg.DB, cfg.Logger.With("service", "bus"))
	if err != nil {
		return fmt.Errorf("node: open the event bus: %w", err)
	}
	n.closers = append(n.closers, func() { b.Close() })
	n.Bus = b
	return nil
}

// newExecutor is the one place an executor is built: the runs of an
// all-in-one node and of an executor process, and the compiler a manager
// checks deploys with. transport is Config.OutboundTransport, nil but in
// pic test.
func newExecutor(limits executor.Limits, kv executor.KV, transport http.RoundTripper) *executor.Executor {
	return executor.New(executor.Config{Defaults: limits, KV: kv, Transport: transport})
}

func (n *Node) assembleExecutor(cfg Config) {
	var kv executor.KV // nil: kv calls fail
	if n.Store != nil {
		kv = n.Store
	}
	n.Executor = newExecutor(cfg.Limits, kv, nil)
	// Only its orchestrator calls it, which bounds the runs it sends.
	n.handler = execrpc.NewServer(execrpc.ServerConfig{Executor: n.Executor, CacheSize: cfg.ExecutorCacheSize,
		Logger: cfg.Logger.With("service", "executor")}).Handler()
}

func (n *Node) assembleDataPlane(cfg Config) {
	log := cfg.Logger.With("service", "orchestrator")
	if cfg.Role == Orchestrator && cfg.NodeID != "" {
		log = log.With("node", cfg.NodeID)
	}
	oc := orchestrator.Config{
		Store:             n.Store,
		Bus:               n.Bus,
		Logger:            log,
		Metrics:           n.Metrics,
		Defaults:          cfg.Limits,
		Outbound:          cfg.Outbound,
		LogRetention:      cfg.LogRetention,
		LogFlushInterval:  cfg.LogFlush,
		NoJournal:         cfg.NoJournal,
		LogBatchSize:      cfg.LogBatchSize,
		Workers:           cfg.Workers,
		MaxRunningPerApp:  cfg.MaxRunningJobs,
		Secrets:           cfg.Secrets,
		Storage:           cfg.Storage,
		MaxInflight:       cfg.MaxInflight,
		MaxInflightPerApp: cfg.MaxInflightPerApp,
		MaxInflightHeavy:  cfg.MaxInflightHeavy,
		AdmissionWait:     cfg.AdmissionWait,
		// NodeID defaults to the host name: it survives a restart, so
		// the jobs a killed server was running are requeued when it
		// starts.
		NodeID: cfg.NodeID,
	}
	if cfg.Role == Orchestrator {
		oc.Runner = cfg.Runner
	} else {
		oc.Executor = n.Executor
	}
	n.Orchestrator = orchestrator.New(oc)
}

func (n *Node) assembleControlPlane(cfg Config) {
	// An all-in-one node's scheduler names jobs with its orchestrator's
	// ids; a manager queues them without a data plane.
	newID := ids.New()
	if n.Orchestrator != nil {
		newID = n.Orchestrator.NewID
	}
	n.Scheduler = scheduler.New(scheduler.Config{
		Store:  n.Store,
		Bus:    n.Bus,
		Logger: cfg.Logger.With("service", "scheduler"),
		NewID:  newID,
	})
	// Deploys are checked with the limits scripts run under; a manager
	// runs no traffic, but compiles scripts as its executors will and
	// replays a deploy's check in the executor's sandbox.
	compiler := n.Executor
	if compiler == nil {
		compiler = newExecutor(cfg.Limits, nil, nil)
	}
	mc := manager.Config{
		Store:          n.Store,
		Bus:            n.Bus,
		Logger:         cfg.Logger.With("service", "manager"),
		Metrics:        n.Metrics,
		Compile:        func(src string) error { _, err := compiler.Compile(src); return err },
		Sandbox:        compiler,
		Secrets:        cfg.Secrets,
		KVLimits:       cfg.Limits.KV,
		MaxSourceBytes: cfg.Limits.MaxScriptBytes,
		Storage:        cfg.Storage,
		Login:          cfg.Login,
	}
	// Replays run scripts, so they run on the data plane: here in an
	// all-in-one node, on the orchestrator nodes in a cluster (the
	// manager answers 501).
	if n.Orchestrator != nil {
		mc.Replayer = n.Orchestrator
	}
	n.Manager = manager.New(mc)
}

// resyncOnReconnect tells the services to look again at what the events
// published while a bus over the database was reconnecting would have
// told them: the orchestrator drops its compiled scripts and looks at the
// queue, the scheduler re-plans, the live logs look for missed records.
func (n *Node) resyncOnReconnect() {
	b, ok := n.Bus.(interface{ OnReconnect(func()) })
	if !ok {
		return
	}
	b.OnReconnect(func() {
		if n.Orchestrator != nil {
			n.Orchestrator.Resync()
		}
		if n.Scheduler != nil {
			n.Scheduler.Wake()
		}
		if n.Manager != nil {
			n.Manager.Resync()
		}
	})
}

// route mounts the node's services on one handler; /metrics is mounted on
// it or on its own address (cluster.MountMetrics).
func (n *Node) route(cfg Config) error {
	mux := http.NewServeMux()
	var guard cluster.MetricsGuard
	if n.Manager != nil {
		mux.Handle("/api/", n.Manager.Handler()) // counts its own requests
		mux.Handle("GET "+ui.Prefix, ui.Handler())
		mux.Handle("GET /{$}", http.RedirectHandler(ui.Prefix, http.StatusFound))
		guard = n.Manager
	}
	if n.Orchestrator != nil {
		mux.Handle("/fn/", n.Metrics.Middleware("orchestrator", n.Orchestrator.Handler()))
	}
	if n.Manager == nil {
		// An orchestrator node serves the one endpoint of the control
		// plane that runs scripts (the proxy routes it here), through
		// the manager's code, which authenticates the caller and checks
		// their role in the database.
		replays := manager.NewReplays(manager.ReplayConfig{
			Store:    n.Store,
			Replayer: n.Orchestrator,
			Logger:   cfg.Logger.With("service", "manager", "node", cfg.NodeID),
			Metrics:  n.Metrics,
		})
		mux.Handle("POST /api/v1/logs/{id}/replay", replays.Handler())
		guard = replays
	}
	// /metrics names every app: it is served on its own private address,
	// or on the main one to administrators and the metrics token holder.
	stop, err := cluster.MountMetrics(mux, n.Metrics, guard, cfg.MetricsAccess, cfg.Logger)
	if err != nil {
		return err
	}
	n.closers = append(n.closers, stop)
	// The proxy's health checks of an orchestrator reach its executor,
	// never the database.
	mux.Handle("GET /healthz", cluster.Health(cfg.Health))
	n.handler = mux
	return nil
}

// Handler serves the node: for all-in-one, /api/, /fn/, /ui/, /healthz
// and (unless on its own address) /metrics; for a manager the same
// without /fn/; for an orchestrator /fn/, the replay endpoint, /healthz
// and /metrics; for an executor the executor RPC.
func (n *Node) Handler() http.Handler { return n.handler }

// Start starts the background work: the job queue's consumer first
// requeues what a killed node left running, then the scheduler's first
// pass fires what was missed; the manager checks the running canaries.
func (n *Node) Start(ctx context.Context) error {
	if n.Orchestrator != nil {
		if err := n.Orchestrator.Start(ctx); err != nil {
			return fmt.Errorf("start the job queue: %w", err)
		}
	}
	if n.Scheduler != nil {
		n.Scheduler.Start()
	}
	if n.Manager != nil {
		n.Manager.StartCanaries()
	}
	n.started = true
	return nil
}

// EndStreams ends the live log streams, which never end on their own, so
// that an http.Server's Shutdown does not wait for them: register it with
// RegisterOnShutdown.
func (n *Node) EndStreams() {
	if n.Manager != nil {
		n.Manager.EndStreams()
	}
}

// Close stops the scheduler, stops the job queue and flushes the buffered
// invocation logs (bounded by ctx), then closes what New opened. Stop
// serving the node's handler first. A second Close does nothing.
func (n *Node) Close(ctx context.Context) error {
	if n.closed {
		return nil
	}
	n.closed = true
	var errs []error
	if n.started && n.Scheduler != nil {
		if err := n.Scheduler.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop the scheduler: %w", err))
		}
	}
	if n.started && n.Manager != nil {
		if err := n.Manager.StopCanaries(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop the canary checks: %w", err))
		}
	}
	if n.Orchestrator != nil {
		if err := n.Orchestrator.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop the job queue and flush invocation logs: %w", err))
		}
	}
	n.closeResources()
	return errors.Join(errs...)
}

// closeResources closes what New opened, last opened first.
func (n *Node) closeResources() {
	for i := len(n.closers) - 1; i >= 0; i-- {
		n.closers[i]()
	}
	n.closers = nil
}
