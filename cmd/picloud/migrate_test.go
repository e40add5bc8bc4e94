package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store/dbtest"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
)

// runBinary runs picloud with args and returns its exit code and output.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// A server's install on SQLite moves to PostgreSQL with picloud migrate,
// and a server on PostgreSQL then serves it: the same admin password, the
// same script, its logs and its secret (the data directory's key). The
// migration is refused while the server runs, and into the database once
// it holds the install.
func TestMigrateCommand(t *testing.T) {
	dsn := pgtest.DSN(t)
	db := newDatabase(t, dbtest.SQLite)
	data := db.args[1]
	s := start(t, db, "PICLOUD_ADMIN_PASSWORD=first-password")
	token := s.login(t, "admin", "first-password")
	for _, req := range []struct{ method, path, ct, body string }{
		{"POST", "/api/v1/apps", "application/json", `{"slug":"demo"}`},
		{"PUT", "/api/v1/apps/demo/scripts/hello", "text/plain", "`Hello, ${env.GREETING ?? \"nobody\"}!`"},
		{"PUT", "/api/v1/apps/demo/secrets/GREETING", "application/json", `{"value":"pi"}`},
	} {
		if code, body, _ := s.do(t, req.method, req.path, token, req.ct, req.body); code/100 != 2 {
			t.Fatalf("%s %s: %d %s", req.method, req.path, code, body)
		}
	}
	for range 3 {
		if code, body, _ := s.do(t, "GET", "/fn/demo/hello", "", "", ""); code != 200 || body != "Hello, pi!" {
			t.Fatalf("invoke: %d %q", code, body)
		}
	}

	if runtime.GOOS == "linux" {
		code, stdout, stderr := runBinary(t, "migrate", "--from", "sqlite:"+data, "--to", dsn)
		want := fmt.Sprintf("in use: process %d holds", s.cmd.Process.Pid)
		if code != exitFail || !strings.Contains(stderr, want) || stdout != "" {
			t.Errorf("migrate with the server running: exit %d, stdout %q, stderr %q; want 1 saying %q", code, stdout, stderr, want)
		}
	}
	s.stop(t)

	code, stdout, stderr := runBinary(t, "migrate", "--from", "sqlite:"+data, "--to", dsn)
	if code != exitOK {
		t.Fatalf("migrate: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 22 || !regexp.MustCompile(`^TABLE\s+ROWS\s+CHECKSUM$`).MatchString(lines[0]) {
		t.Fatalf("migrate's report: want a header, 20 tables and a summary:\n%s", stdout)
	}
	for _, want := range []string{`users\s+1\s+ok`, `versions\s+1\s+ok`, `invocations\s+3\s+ok`, `app_secrets\s+1\s+ok`, `queue_usage\s+1\s+ok`} {
		if !regexp.MustCompile(`(?m)^` + want + ` [0-9a-f]{16}$`).MatchString(stdout) {
			t.Errorf("the report has no line %q:\n%s", want, stdout)
		}
	}
	if !regexp.MustCompile(`Copied \d+ rows of 20 tables in [0-9.]+m?s; every table's rows and checksum match\.`).MatchString(lines[21]) {
		t.Errorf("summary line %q", lines[21])
	}
	if key := filepath.Join(data, "secret.key"); !strings.Contains(stderr, "give every manager and orchestrator "+key) {
		t.Errorf("stderr does not name the key the cluster needs (%s): %s", key, stderr)
	}

	// PostgreSQL, with the data directory for its key.
	pg := database{args: []string{"--db", dsn, "--data", data}}
	s = start(t, pg, "PICLOUD_ADMIN_PASSWORD=another-password")
	token = s.login(t, "admin", "first-password")
	if code, body, _ := s.do(t, "GET", "/api/v1/apps/demo/logs", token, "", ""); code != 200 || strings.Count(body, `"summary":"200 text/plain, 10 B: Hello, pi!"`) != 3 {
		t.Errorf("logs on PostgreSQL: %d %s; want the 3 copied records", code, body)
	}
	if code, body, _ := s.do(t, "GET", "/fn/demo/hello", "", "", ""); code != 200 || body != "Hello, pi!" {
		t.Errorf("invoke on PostgreSQL: %d %q", code, body)
	}
	s.stop(t)

	code, stdout, stderr = runBinary(t, "migrate", "--from", filepath.Join(data, "picloud.db"), "--to", dsn)
	if code != exitFail || stdout != "" || !strings.Contains(stderr, "the target database is not empty: it has rows in users") ||
		!strings.Contains(stderr, "Nothing was copied") {
		t.Errorf("a second migrate: exit %d, stdout %q, stderr %q; want 1, refused", code, stdout, stderr)
	}
}

func TestMigrateCommandErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("plain text ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	const dsn = "postgres://nobody@127.0.0.1:1/none"
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no flags", nil, exitUsage, "--from is required"},
		{"no target", []string{"--from", notDB}, exitUsage, "--to is required"},
		{"no source", []string{"--to", dsn}, exitUsage, "--from is required"},
		{"an argument", []string{"--from", notDB, "--to", dsn, "extra"}, exitUsage, `unexpected argument "extra"`},
		{"an unknown flag", []string{"--from", notDB, "--to", dsn, "--force"}, exitUsage, "flag provided but not defined: -force"},
		{"PostgreSQL as the source", []string{"--from", dsn, "--to", dsn}, exitUsage, "--from must be a SQLite database"},
		{"SQLite as the target", []string{"--from", notDB, "--to", "sqlite:" + notDB}, exitUsage, "--to must be a PostgreSQL database"},
		{"a target that is no DSN", []string{"--from", notDB, "--to", "postgres://host:port:what/"}, exitUsage, "--to is not a PostgreSQL connection string"},
		{"a directory without a database", []string{"--from", "sqlite:" + dir, "--to", dsn}, exitUsage, "is a directory without picloud.db"},
		// These fail before the target is reached.
		{"a missing source", []string{"--from", "sqlite:" + filepath.Join(dir, "nope.db"), "--to", dsn}, exitFail, "nope.db does not exist"},
		{"a source that is not a database", []string{"--from", notDB, "--to", dsn}, exitFail, "is not a SQLite database"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, append([]string{"migrate"}, c.args...)...)
			if code != c.code || stdout != "" || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d saying %q", code, stdout, stderr, c.code, c.want)
			}
			if c.code == exitUsage && !strings.Contains(stderr, "Usage:\n  picloud migrate --from sqlite:PATH") {
				t.Errorf("a usage error without the usage: %q", stderr)
			}
		})
	}
	code, stdout, _ := runBinary(t, "migrate", "--help")
	if code != exitOK || !strings.Contains(stdout, "picloud migrate --from sqlite:PATH --to postgres://") {
		t.Errorf("migrate --help: exit %d, %q", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope.db")); !os.IsNotExist(err) {
		t.Errorf("migrate created the missing source: %v", err)
	}
}
