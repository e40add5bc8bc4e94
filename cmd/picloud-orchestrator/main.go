// Command picloud-orchestrator is the data plane of one node of a PiCloud
// cluster: it serves /fn/{app}/{script}[/{rest...}], consumes the durable
// job queue (async invocations, schedule firings) with the other nodes,
// and dispatches every run to the node's executor process over a small
// RPC (package execrpc). Its cache of compiled scripts is kept fresh by
// the manager's events over PostgreSQL's LISTEN/NOTIFY. It also serves
// POST /api/v1/logs/{id}/replay, which runs scripts, so the proxy sends
// replays to the nodes rather than to the manager.
//
// By default (--executor spawn) it starts picloud-executor as a child on a
// private unix socket and restarts it whenever it dies; --executor
// unix:/path or --executor http://127.0.0.1:port uses one started
// otherwise. While the executor is down the node answers runs with 503
// {"error":{"code":"executor_unavailable"}} at once, and /healthz with 503,
// so that the proxy sends traffic to the other nodes.
//
//	picloud-orchestrator --db postgres://… [--executor spawn|URL] [flags]
//	picloud-orchestrator version
//
// See docs/cluster.md.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/execrpc"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/node"
	"github.com/picloud/picloud/internal/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// executorReadyTimeout bounds the wait for a spawned executor at start-up;
// past it the node starts anyway and reports itself unhealthy.
const executorReadyTimeout = 10 * time.Second

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("picloud-orchestrator", version)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(cluster.Exit("picloud-orchestrator", err, os.Stderr))
}

type settings struct {
	cluster.Common
	limits       executor.Limits
	outbound     executor.OutboundLimits
	storage      store.StorageQuotas
	dsn          string
	executor     string // "spawn" or the executor's address
	executorBin  string
	node         string
	workers      int
	maxRunning   int
	logRetention time.Duration
	logFlush     time.Duration

	secretKey, secretKeyFile string
	metrics                  cluster.MetricsAccess
	protect                  cluster.Protection
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var s settings
	f := cluster.NewFlags("picloud-orchestrator", getenv, stderr)
	f.Common(&s.Common, "127.0.0.1:8081", false)
	f.String(&s.dsn, "db", "PICLOUD_DB", "", "PostgreSQL URL of the cluster's database (postgres://…)", true)
	f.String(&s.executor, "executor", "PICLOUD_EXECUTOR", "spawn", "the node's executor: spawn (start picloud-executor as a child and restart it), unix:/path or http://127.0.0.1:port", true)
	f.String(&s.executorBin, "executor-bin", "PICLOUD_EXECUTOR_BIN", "", "picloud-executor binary to spawn (default: next to this binary, else on PATH)", false)
	f.String(&s.node, "node", "PICLOUD_NODE", "", "this node's name in the job queue, stable across restarts and unique in the cluster (default: host name:port)", false)
	f.Int(&s.workers, "workers", "PICLOUD_WORKERS", "4", "jobs of the queue this node runs at once")
	f.Int(&s.maxRunning, "max-running-jobs", "PICLOUD_MAX_RUNNING_JOBS", "2", "default bound of one app's jobs running at once, on all the nodes together; the same on every node")
	f.Limits(&s.limits)
	f.Outbound(&s.outbound)
	f.Storage(&s.storage)
	f.Duration(&s.logRetention, "log-retention", "PICLOUD_LOG_RETENTION", "168h", "how long invocation logs are kept")
	f.Duration(&s.logFlush, "log-flush", "PICLOUD_LOG_FLUSH", "500ms", "longest delay before an invocation log record is written")
	f.SecretKey(&s.secretKey, &s.secretKeyFile)
	f.Metrics(&s.metrics)
	f.Admission(&s.protect)
	f.Connections(&s.protect)
	if err := f.Parse(args); err != nil {
		return err
	}
	log := s.Logger(stderr)
	keys, err := cluster.OpenSecretKey(s.secretKey, s.secretKeyFile, log)
	if err != nil {
		return err
	}
	if s.node == "" {
		s.node = defaultNode(s.Listen)
	}

	client, stopExecutor, err := startExecutor(s, log, stderr)
	if err != nil {
		return err
	}
	defer stopExecutor()

	met := metrics.New()
	s.protect.Guard.Metrics = met
	// Replays run scripts, which the manager of a cluster does not: the
	// node serves POST /api/v1/logs/{id}/replay (the proxy routes it
	// here) with a handler of its own.
	n, err := node.New(ctx, node.Config{
		Role:              node.Orchestrator,
		DB:                s.dsn,
		Logger:            log,
		Metrics:           met,
		Runner:            remoteRunner{client},
		NodeID:            s.node,
		Limits:            s.limits,
		Outbound:          s.outbound,
		Storage:           s.storage,
		Secrets:           keys,
		LogRetention:      s.logRetention,
		LogFlush:          s.logFlush,
		Workers:           s.workers,
		MaxRunningJobs:    s.maxRunning,
		MaxInflight:       s.protect.MaxInflight,
		MaxInflightPerApp: s.protect.MaxInflightPerApp,
		MaxInflightHeavy:  s.protect.MaxInflightHeavy,
		AdmissionWait:     s.protect.AdmissionWait,
		// The proxy's health checks reach the executor, never the
		// database.
		Health:        client.Health,
		MetricsAccess: s.metrics,
	})
	if err != nil {
		return err
	}
	defer n.Close(context.Background())

	ln, err := cluster.Listen(s.Listen)
	if err != nil {
		return err
	}
	// The consumer first requeues the jobs this node ran when it was
	// killed, then runs due jobs.
	if err := n.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	config.TuneGC(getenv)
	log.Info("PiCloud orchestrator is listening", "address", "http://"+ln.Addr().String(),
		"node", s.node, "executor", s.executor, "version", version)
	serveErr := cluster.Serve(ctx, log, ln, n.Handler(), s.ShutdownTimeout, &s.protect)

	sctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	if err := n.Close(sctx); err != nil {
		log.Error("stopping the job queue and flushing invocation logs", "err", err)
	}
	if serveErr == nil {
		log.Info("stopped")
	}
	return serveErr
}

// defaultNode names the node by its host and port: stable across
// restarts, and distinct for two nodes on one machine.
func defaultNode(listen string) string {
	host, _ := os.Hostname()
	if host == "" {
		host = "picloud"
	}
	_, port, _ := net.SplitHostPort(listen)
	return host + ":" + port
}

// startExecutor connects to the node's executor, spawning it first in
// spawn mode; stop ends a spawned executor.
func startExecutor(s settings, log *slog.Logger, stderr io.Writer) (client *execrpc.Client, stop func(), err error) {
	if s.executor != "spawn" {
		client, err = execrpc.NewClient(s.executor)
		if err != nil {
			return nil, nil, &cluster.UsageError{Err: err}
		}
		return client, client.Close, nil
	}
	bin, err := executorBinary(s.executorBin)
	if err != nil {
		return nil, nil, err
	}
	dir, releaseDir, err := makeSocketDir(log)
	if err != nil {
		return nil, nil, err
	}
	sock := filepath.Join(dir, "executor.sock")
	client, err = execrpc.NewClient("unix:" + sock)
	if err != nil {
		releaseDir()
		return nil, nil, err
	}
	args := append([]string{"--listen", "unix:" + sock, "--log-level", s.LogLevel.String(), "--log-format", s.LogFormat}, cluster.LimitArgs(s.limits)...)
	// The database reaches the executor, for the kv module, in its
	// environment rather than on its command line, which other users of
	// the machine may read.
	env := append(os.Environ(), "PICLOUD_DB="+s.dsn)
	sup, err := spawn(bin, args, env, stderr, log.With("service", "supervisor"))
	if err != nil {
		releaseDir()
		return nil, nil, err
	}
	stop = func() {
		sup.stop(5 * time.Second)
		client.Close()
		releaseDir()
	}
	// Wait for the executor to answer, so that the node is ready when it
	// says it listens; the one place where a wait is the point.
	deadline := time.Now().Add(executorReadyTimeout)
	for client.Health(context.Background()) != nil {
		if time.Now().After(deadline) {
			log.Warn("the executor is not answering yet; starting without it", "socket", sock)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return client, stop, nil
}

// executorBinary finds picloud-executor: the given path, else next to
// this binary, else on PATH.
func executorBinary(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "picloud-executor")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("picloud-executor")
	if err != nil {
		return "", fmt.Errorf("no picloud-executor next to this binary nor on PATH; give --executor-bin: %w", err)
	}
	return p, nil
}
