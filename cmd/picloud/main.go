// Command picloud is the all-in-one PiCloud server: manager (control plane
// and dashboard), orchestrator (data plane) and executor in one process, on
// an embedded SQLite database or, with --db postgres://…, on PostgreSQL.
//
//	picloud [serve] [flags]                       run the server
//	picloud admin create-user NAME [--role R]     create a user offline (password on stdin)
//	picloud admin reset-password NAME             set a user's password offline (stdin)
//	picloud backup FILE [--force]                 copy the SQLite database, online
//	picloud restore FILE --data DIR [--force]     put a backup in place, server stopped
//	picloud migrate --from sqlite:PATH --to URL   copy a SQLite install into an empty PostgreSQL database
//	picloud version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "serve", "admin", "backup", "restore", "migrate", "version", "help", "--help", "-h":
			cmd, args = args[0], args[1:]
		}
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "picloud", version)
		return exitOK
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "admin":
		return runAdmin(args, stdin, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "backup":
		return runBackup(ctx, args, stdout, stderr)
	case "restore":
		return runRestore(ctx, args, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args, stdout, stderr)
	}
	if err := serve(ctx, args, stdout, stderr); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "picloud:", err)
			return exitUsage
		}
		fmt.Fprintln(stderr, "picloud:", err)
		return exitFail
	}
	return exitOK
}

// usageError marks a mistake on the command line (exit code 2).
type usageError struct{ error }

const usage = `PiCloud: upload a Rhai script, get an HTTP endpoint.

Usage:
  picloud [serve] [flags]                      run the server (manager, orchestrator, executor)
  picloud admin create-user NAME [--role R]    create a user offline; password on stdin
  picloud admin reset-password NAME            set a user's password offline; password on stdin
  picloud backup FILE [--force]                copy the SQLite database to FILE, while the server runs
  picloud restore FILE --data DIR [--force]    put the backup FILE in place in DIR, the server stopped
  picloud migrate --from sqlite:PATH --to URL  copy a SQLite install into an empty PostgreSQL database
  picloud version                              print the version

Run 'picloud serve --help' for the server's flags and environment variables,
'picloud backup --help' for backup and restore.
`
