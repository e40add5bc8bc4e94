// Command picloud-executor runs scripts for its node's orchestrator in
// PiCloud's cluster mode. It is stateless: it serves the executor RPC
// (package execrpc) on a unix socket or a loopback address, compiles each
// script version it is sent once, and runs it under the limits the
// orchestrator gives. Its only use of the database is the key-value store
// of scripts (the kv module): given --db (PICLOUD_DB, which a spawning
// orchestrator sets), it connects to it; without, kv calls fail.
//
// The orchestrator starts it as a child process by default
// (picloud-orchestrator --executor spawn) and restarts it when it dies;
// run it by hand and pass its address with --executor URL otherwise.
//
//	picloud-executor [--listen unix:/run/picloud/executor.sock | 127.0.0.1:8082] [--db postgres://…] [flags]
//	picloud-executor version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/node"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("picloud-executor", version)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(cluster.Exit("picloud-executor", err, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var (
		common    cluster.Common
		limits    executor.Limits
		cacheSize int
		dsn       string
	)
	f := cluster.NewFlags("picloud-executor", getenv, stderr)
	f.Common(&common, "127.0.0.1:8082", true)
	f.Limits(&limits)
	f.Int(&cacheSize, "cache-size", "PICLOUD_EXECUTOR_CACHE", "512", "compiled script versions kept in memory")
	f.String(&dsn, "db", "PICLOUD_DB", "", "PostgreSQL URL of the cluster's database, for the key-value store of scripts; without it kv calls fail", false)
	if err := f.Parse(args); err != nil {
		return err
	}
	base := common.Logger(stderr)
	log := base.With("service", "executor")

	// Without a database its scripts' kv calls fail.
	n, err := node.New(ctx, node.Config{Role: node.Executor, DB: dsn, Logger: base, Limits: limits, ExecutorCacheSize: cacheSize})
	if err != nil {
		return err
	}
	defer n.Close(context.Background())
	ln, err := cluster.Listen(common.Listen)
	if err != nil {
		return err
	}
	config.TuneGC(getenv)
	log.Info("PiCloud executor is listening", "address", common.Listen, "kv", dsn != "", "version", version)
	// Only its orchestrator calls it, which bounds the runs it sends.
	return cluster.Serve(ctx, log, ln, n.Handler(), common.ShutdownTimeout, nil)
}
