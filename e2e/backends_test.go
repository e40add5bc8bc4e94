package e2e

// The journeys run against picloud on SQLite and on PostgreSQL. The test
// binary's globals (serverURL, adminToken) name one server, so a process
// runs the journeys against one backend: with PICLOUD_TEST_BACKEND unset
// or "all", this process takes SQLite and starts a second process of the
// same test binary, with the same flags, for PostgreSQL; both run at the
// same time, and the second one's output follows this one's.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/store/dbtest"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
)

// envBin names the directory of the binaries that the first process
// built, for the second.
const envBin = "PICLOUD_E2E_BIN"

// database is the database of this process's server.
type database struct {
	name string       // SQLite or PostgreSQL
	dsn  string       // PostgreSQL: the URL given to --db
	drop func() error // PostgreSQL: drops the database
	skip string       // why the journeys do not run here
}

// backend returns the database of this process and whether it must run
// a second process for PostgreSQL.
func backend() (db database, postgres bool, err error) {
	switch v := os.Getenv(dbtest.EnvBackend); v {
	case "", "all":
		return database{name: "SQLite"}, true, nil
	case string(dbtest.SQLite):
		return database{name: "SQLite"}, false, nil
	case string(dbtest.Postgres):
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dsn, drop, err := pgtest.Create(ctx)
		if errors.Is(err, pgtest.ErrUnreachable) {
			return database{name: "PostgreSQL", skip: err.Error()}, false, nil
		}
		if err != nil {
			return database{}, false, err
		}
		return database{name: "PostgreSQL", dsn: dsn, drop: drop}, false, nil
	default:
		return database{}, false, fmt.Errorf("%s=%q: want sqlite, postgres or all", dbtest.EnvBackend, v)
	}
}

// startPostgres runs this test binary again, with the flags of this run,
// for the journeys on PostgreSQL. The function it returns waits for that
// process, prints its output and returns its exit code.
func startPostgres(bin string) (wait func() int) {
	var args []string
	for _, a := range os.Args[1:] {
		// Files that the two processes would both write.
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasSuffix(name, "profile") || name == "test.testlogfile" || name == "test.trace" ||
			name == "test.gocoverdir" || name == "test.outputdir" {
			continue
		}
		args = append(args, a)
	}
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), dbtest.EnvBackend+"="+string(dbtest.Postgres), envBin+"="+bin)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Start()
	return func() int {
		if err == nil {
			err = cmd.Wait()
		}
		fmt.Printf("=== the journeys on PostgreSQL (a second process of this test binary) ===\n%s", out.Bytes())
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			return max(exit.ExitCode(), 1)
		case err != nil:
			fmt.Fprintln(os.Stderr, "e2e: the journeys on PostgreSQL:", err)
			return 1
		}
		return 0
	}
}
