package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store/transfer"
)

const migrateUsage = `Usage:
  picloud migrate --from sqlite:PATH --to postgres://USER@HOST/DB

Copies a whole single-node install, from the SQLite database at PATH (the
file, or the data directory that holds picloud.db) into an empty
PostgreSQL database, for a cluster: users, sessions, API keys, apps,
members, scripts with every version, schedules, jobs, keys and values,
secrets and invocation logs. The copy runs in one transaction and is
checked table by table (rows and a checksum) before it commits; a target
that already holds records is refused. Stop the server first: a database
in use is refused too.

Secrets are copied sealed: the cluster needs the key that sealed them
(secret.key in the data directory, or PICLOUD_SECRET_KEY).

Flags:
  --from sqlite:PATH   the SQLite database (sqlite: is optional)
  --to DSN             the PostgreSQL database: a postgres:// URL or key=value settings
`

// runMigrate is `picloud migrate`: it moves a Pi's install to PostgreSQL.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("picloud migrate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, migrateUsage)
		return exitOK
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var src string
	if err == nil {
		src, err = migrateSource(*from)
	}
	if err == nil {
		err = migrateTarget(*to)
	}
	if err != nil {
		fmt.Fprintf(stderr, "picloud migrate: %v\n\n%s", err, migrateUsage)
		return exitUsage
	}

	target := targetName(*to)
	fmt.Fprintf(stderr, "Copying %s to %s …\n", src, target)
	rep, err := transfer.Migrate(ctx, src, *to)
	if err != nil {
		fmt.Fprintln(stderr, "picloud migrate:", err)
		if errors.Is(err, transfer.ErrNotPiCloud) || errors.Is(err, transfer.ErrSourceInUse) ||
			errors.Is(err, transfer.ErrTargetNotEmpty) || errors.Is(err, transfer.ErrSchema) || errors.Is(err, transfer.ErrVerify) {
			fmt.Fprintln(stderr, "Nothing was copied: the target's tables are as they were.")
		}
		return exitFail
	}

	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS\tCHECKSUM")
	for _, t := range rep.Tables {
		fmt.Fprintf(tw, "%s\t%d\tok %x\n", t.Name, t.Rows, t.Checksum[:8])
	}
	tw.Flush()
	fmt.Fprintf(stdout, "Copied %d rows of %d tables in %v; every table's rows and checksum match.\n",
		rep.Rows(), len(rep.Tables), rep.Duration.Round(time.Millisecond))

	secretsCopied := false
	for _, t := range rep.Tables {
		if t.Name == "app_secrets" && t.Rows > 0 {
			secretsCopied = true
		}
	}
	if secretsCopied {
		key := filepath.Join(filepath.Dir(src), secrets.DefaultKeyFile)
		if _, err := os.Stat(key); err != nil {
			key = "the key the server used (PICLOUD_SECRET_KEY or --secret-key-file)"
		}
		fmt.Fprintf(stderr, "Apps' secrets were copied sealed: give every manager and orchestrator %s, with --secret-key-file or PICLOUD_SECRET_KEY.\n", key)
	}
	fmt.Fprintf(stderr, "Start the cluster with PICLOUD_DB=%s and check it with pic (apps ls, scripts ls, logs).\n", target)
	return exitOK
}

// migrateSource returns the SQLite file that --from names: sqlite:PATH or
// PATH, a file or a data directory holding picloud.db.
func migrateSource(from string) (string, error) {
	if from == "" {
		return "", errors.New("--from is required: the SQLite database, sqlite:PATH")
	}
	if strings.HasPrefix(from, "postgres://") || strings.HasPrefix(from, "postgresql://") {
		return "", errors.New("--from must be a SQLite database (sqlite:PATH); the copy goes from SQLite to PostgreSQL")
	}
	path := strings.TrimPrefix(from, "sqlite:")
	if path == "" {
		return "", errors.New("--from sqlite: names no file")
	}
	// A data directory stands for its database, as --data does for
	// picloud serve.
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		db := config.Config{DataDir: path}.DatabasePath()
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("--from %s is a directory without %s", from, filepath.Base(db))
		}
		return db, nil
	}
	return path, nil
}

// migrateTarget checks that --to is a PostgreSQL connection string.
func migrateTarget(to string) error {
	if to == "" {
		return errors.New("--to is required: the PostgreSQL database, postgres://USER@HOST/DB")
	}
	if strings.HasPrefix(to, "sqlite:") {
		return errors.New("--to must be a PostgreSQL database (postgres://…)")
	}
	if _, err := pgx.ParseConfig(to); err != nil {
		return fmt.Errorf("--to is not a PostgreSQL connection string: %w", err)
	}
	return nil
}

// targetName names the database of dsn for messages, as a URL without
// its password and parameters, whichever form dsn has.
func targetName(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "the PostgreSQL database"
	}
	u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Path: "/" + cfg.Database}
	return u.String()
}
