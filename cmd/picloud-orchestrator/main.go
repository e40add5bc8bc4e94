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

	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/execrpc"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/node"
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
	os.Exit(config.Exit("picloud-orchestrator", err, os.Stderr))
}

// settings are the orchestrator's, as package config reads them.
type settings = config.Orchestrator

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	s, err := config.LoadOrchestrator(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := s.Logger(stderr)
	keys, err := s.SecretKey.OpenClusterKey(log)
	if err != nil {
		return err
	}
	if s.Node == "" {
		s.Node = defaultNode(s.Listen)
	}

	client, stopExecutor, err := startExecutor(s, log, stderr)
	if err != nil {
		return err
	}
	defer stopExecutor()

	met := metrics.New()
	// Replays run scripts, which the manager of a cluster does not: the
	// node serves POST /api/v1/logs/{id}/replay (the proxy routes it
	// here) with a handler of its own.
	n, err := node.New(ctx, node.Config{
		Role:              node.Orchestrator,
		DB:                s.DB,
		Logger:            log,
		Metrics:           met,
		Runner:            remoteRunner{client},
		NodeID:            s.Node,
		Limits:            s.Limits,
		Outbound:          s.Outbound,
		Storage:           s.Storage,
		Secrets:           keys,
		LogRetention:      s.Logs.Retention,
		LogFlush:          s.Logs.Flush,
		NoJournal:         s.Logs.NoJournal,
		Workers:           s.Workers,
		MaxRunningJobs:    s.MaxRunningJobs,
		MaxInflight:       s.Protection.MaxInflight,
		MaxInflightPerApp: s.Protection.MaxInflightPerApp,
		MaxInflightHeavy:  s.Protection.MaxInflightHeavy,
		AdmissionWait:     s.Protection.AdmissionWait,
		// The proxy's health checks reach the executor, never the
		// database.
		Health:        client.Health,
		MetricsAccess: s.Metrics,
	})
	if err != nil {
		return err
	}
	defer n.Close(context.Background())

	config.TuneGC(getenv)
	// The consumer first requeues the jobs this node ran when it was
	// killed, then runs due jobs.
	return n.Serve(ctx, node.Serving{
		Listen:          s.Listen,
		Protection:      &s.Protection,
		ShutdownTimeout: s.ShutdownTimeout,
		Ready: func(addr string) {
			log.Info("PiCloud orchestrator is listening", "address", "http://"+addr, "node", s.Node, "executor", s.Executor, "version", version)
		},
	})
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
	if s.Executor != "spawn" {
		client, err = execrpc.NewClient(s.Executor)
		if err != nil {
			return nil, nil, &config.UsageError{Err: err}
		}
		return client, client.Close, nil
	}
	bin, err := executorBinary(s.ExecutorBin)
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
	args := append([]string{"--listen", "unix:" + sock, "--log-level", s.LogLevel.String(), "--log-format", s.LogFormat}, config.LimitArgs(s.Limits)...)
	// The database reaches the executor, for the kv module, in its
	// environment rather than on its command line, which other users of
	// the machine may read.
	env := append(os.Environ(), "PICLOUD_DB="+s.DB)
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
