package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/store/backup"
)

const backupUsage = `Usage:
  picloud backup FILE [--data DIR | --db URL] [--force]
  picloud restore FILE --data DIR [--force]

backup copies the SQLite database of the data directory (--data, env
PICLOUD_DATA, default ./picloud-data) to FILE, while the server runs. It
refuses an existing FILE unless --force; the copy is checked before it
takes the name FILE. On PostgreSQL (--db, env PICLOUD_DB) it prints the
pg_dump command to use instead and exits with status 2.

restore puts a copy of FILE, a backup, in the data directory DIR (--data
or PICLOUD_DATA), whose server must be stopped. It refuses a DIR that holds
any file unless --force, which replaces its database and keeps its other
files (the secret key).

The secret key that seals apps' secrets is not in FILE: keep a copy of
secret.key (or of PICLOUD_SECRET_KEY) with your backups.
`

// backupFlags parses the arguments of backup and restore: FILE, before or
// after the flags, --data, --db and --force.
func backupFlags(cmd string, args []string, stderr io.Writer) (file, data, db string, force bool, err error) {
	fs := flag.NewFlagSet("picloud "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage) }
	fs.StringVar(&data, "data", "", "data directory (env PICLOUD_DATA)")
	fs.StringVar(&db, "db", "", "PostgreSQL URL postgres://… (env PICLOUD_DB)")
	fs.BoolVar(&force, "force", false, "overwrite FILE (backup) or replace the data directory's database (restore)")
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", "", "", false, err
	}
	switch {
	case file == "" && fs.NArg() > 0:
		file = fs.Arg(0)
		if fs.NArg() > 1 {
			return "", "", "", false, fmt.Errorf("unexpected argument %q", fs.Arg(1))
		}
	case fs.NArg() > 0:
		return "", "", "", false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if file == "" {
		return "", "", "", false, errors.New("missing FILE")
	}
	return file, data, db, force, nil
}

// loadBackupConfig reads the configuration that locates the database, as
// picloud serve does.
func loadBackupConfig(cmd, data, db string, stderr io.Writer) (config.Config, error) {
	var args []string
	if data != "" {
		args = append(args, "--data", data)
	}
	if db != "" {
		args = append(args, "--db", db)
	}
	return config.Load("picloud "+cmd, args, config.Environ, stderr)
}

// postgresTool says that picloud cmd does nothing on PostgreSQL and gives
// the command line of PostgreSQL's own tool that does the job; hidden
// says the password was left out of it.
func postgresTool(stderr io.Writer, cmd, tool string, hidden bool, advice, line string) int {
	fmt.Fprintf(stderr, "picloud %s: the database is PostgreSQL (--db or PICLOUD_DB); nothing was done.\n", cmd)
	fmt.Fprintln(stderr, advice)
	fmt.Fprintln(stderr, "  "+line)
	if hidden {
		fmt.Fprintf(stderr, "(the password is left out of the URL: %s reads it from PGPASSWORD or ~/.pgpass)\n", tool)
	}
	fmt.Fprintln(stderr, "See docs/operations.md, \"Backup and restore\".")
	return exitUsage
}

// runBackup copies the server's SQLite database to a file; on PostgreSQL
// it says how to use pg_dump instead.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	file, data, db, force, err := backupFlags("backup", args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "picloud backup:", err)
		fmt.Fprint(stderr, backupUsage)
		return exitUsage
	}
	cfg, err := loadBackupConfig("backup", data, db, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "picloud backup:", err)
		return exitUsage
	}
	if cfg.Postgres() {
		dsn, hidden := withoutPassword(cfg.DB)
		return postgresTool(stderr, "backup", "pg_dump", hidden,
			"Back it up with pg_dump, which makes a consistent copy while the servers run:",
			"pg_dump --format=custom --file="+shellQuote(file)+" "+shellQuote(dsn))
	}
	start := time.Now()
	rep, err := backup.Backup(ctx, cfg.DatabasePath(), file, force)
	if err != nil {
		fmt.Fprintln(stderr, "picloud backup:", strings.TrimPrefix(err.Error(), "backup: "))
		return exitFail
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes) in %v\n", cfg.DatabasePath(), rep.Path, rep.Bytes, time.Since(start).Round(time.Millisecond))
	printReport(stdout, rep)
	if cfg.SecretKey.Key != "" {
		fmt.Fprintln(stdout, "The key that seals apps' secrets is not in the backup: keep PICLOUD_SECRET_KEY with it.")
	} else {
		fmt.Fprintf(stdout, "The key that seals apps' secrets is not in the backup: keep a copy of %s with it.\n", cfg.SecretKeyPath())
	}
	return exitOK
}

// runRestore puts a backup in place as the database of a data directory.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	file, data, db, force, err := backupFlags("restore", args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil && data == "" && config.Environ("PICLOUD_DATA") == "" {
		// No default here: a restore into ./picloud-data because a flag
		// was forgotten would put a database where nobody looks for it.
		err = errors.New("missing --data DIR, the data directory to restore into")
	}
	if err != nil {
		fmt.Fprintln(stderr, "picloud restore:", err)
		fmt.Fprint(stderr, backupUsage)
		return exitUsage
	}
	cfg, err := loadBackupConfig("restore", data, db, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "picloud restore:", err)
		return exitUsage
	}
	if cfg.Postgres() {
		dsn, hidden := withoutPassword(cfg.DB)
		return postgresTool(stderr, "restore", "pg_restore", hidden,
			"Restore a pg_dump backup with pg_restore, into an empty database, the servers stopped:",
			"pg_restore --no-owner --dbname="+shellQuote(dsn)+" "+shellQuote(file))
	}
	rep, err := backup.Restore(ctx, file, cfg.DatabasePath(), force)
	if err != nil {
		fmt.Fprintln(stderr, "picloud restore:", strings.TrimPrefix(err.Error(), "backup: "))
		return exitFail
	}
	if rep.Replaced {
		fmt.Fprintf(stdout, "replaced %s with a copy of %s (%d bytes)\n", rep.Path, file, rep.Bytes)
	} else {
		fmt.Fprintf(stdout, "restored %s into %s (%d bytes)\n", file, rep.Path, rep.Bytes)
	}
	if rep.FromVersion != rep.SchemaVersion {
		fmt.Fprintf(stdout, "migrated from schema version %d\n", rep.FromVersion)
	}
	printReport(stdout, rep.Report)
	if n := rep.Rows("app_secrets"); n > 0 && cfg.SecretKey.Key == "" {
		if _, err := os.Stat(cfg.SecretKeyPath()); err != nil {
			fmt.Fprintf(stdout, "The database holds %d apps' secrets, sealed with the key of the server that was backed up:\n"+
				"put that key in %s (or set PICLOUD_SECRET_KEY) before starting the server, or they cannot be read.\n", n, cfg.SecretKeyPath())
		}
	}
	return exitOK
}

// printReport writes the checks of a database file and its rows per
// table.
func printReport(w io.Writer, rep backup.Report) {
	fmt.Fprintln(w, "integrity check: ok")
	fmt.Fprintf(w, "schema version: %d\n", rep.SchemaVersion)
	fmt.Fprintln(w, "rows:")
	width := 0
	for _, t := range rep.Tables {
		width = max(width, len(t.Name))
	}
	for _, t := range rep.Tables {
		fmt.Fprintf(w, "  %-*s %d\n", width, t.Name, t.Rows)
	}
}

// withoutPassword returns the PostgreSQL URL dsn without its password, to
// be printed, and whether it had one.
func withoutPassword(dsn string) (string, bool) {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn, false
	}
	if _, ok := u.User.Password(); !ok {
		return dsn, false
	}
	u.User = url.User(u.User.Username())
	return u.String(), true
}

// shellQuote quotes s for a POSIX shell, unless it needs no quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
