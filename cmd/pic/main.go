// Command pic is PiCloud's command-line client: log in, manage apps,
// deploy and invoke scripts, read logs, manage members, users and API
// keys. See docs/cli.md, or run 'pic --help'.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/picloud/picloud/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	cli.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.System(), os.Getenv)
	stop()
	os.Exit(code)
}
