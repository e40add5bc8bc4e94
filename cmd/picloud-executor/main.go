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

	"github.com/picloud/picloud/internal/config"
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
	os.Exit(config.Exit("picloud-executor", err, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	c, err := config.LoadExecutor(args, getenv, stderr)
	if err != nil {
		return err
	}
	base := c.Logger(stderr)
	log := base.With("service", "executor")

	// Without a database its scripts' kv calls fail.
	n, err := node.New(ctx, node.Config{Role: node.Executor, DB: c.DB, Logger: base, Limits: c.Limits, ExecutorCacheSize: c.CacheSize})
	if err != nil {
		return err
	}
	defer n.Close(context.Background())
	config.TuneGC(getenv)
	// Only its orchestrator calls it, which bounds the runs it sends: no
	// connection guard.
	return n.Serve(ctx, node.Serving{
		Listen:          c.Listen,
		ShutdownTimeout: c.ShutdownTimeout,
		Ready: func(addr string) {
			log.Info("PiCloud executor is listening", "address", c.Listen, "kv", c.DB != "", "version", version)
		},
	})
}
