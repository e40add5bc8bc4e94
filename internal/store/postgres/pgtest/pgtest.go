// Package pgtest gives each test its own PostgreSQL database, created on
// the server named by PICLOUD_TEST_POSTGRES and dropped when the test
// ends, so that tests never depend on what others left behind and may run
// in parallel.
//
// The server defaults to postgres://root@127.0.0.1:5432/postgres, which CI
// runs. When it cannot be reached the test is skipped, unless
// PICLOUD_TEST_POSTGRES is set: a server asked for by name must be there.
package pgtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/picloud/picloud/internal/testdeps"
)

// EnvServer names the environment variable with the URL of the server,
// connected to a database that the tests' role may use to create others.
const EnvServer = "PICLOUD_TEST_POSTGRES"

// DefaultServer is the server tests use when EnvServer is not set.
const DefaultServer = "postgres://root@127.0.0.1:5432/postgres?sslmode=disable"

// dbPrefix starts the name of every database the tests create.
const dbPrefix = "picloud_test_"

// skipping holds the error that showed the default server unreachable,
// so that the next tests skip without waiting for a connection again.
var skipping atomic.Pointer[error]

// ErrUnreachable is wrapped by the error of Create when the default
// server did not answer and EnvServer is not set: the caller skips.
var ErrUnreachable = errors.New("pgtest: PostgreSQL is not reachable")

// DSN creates a new, empty database for t and returns its URL. The
// database is dropped, with any connection still open to it, when t and
// its subtests have finished. DSN skips t when the server is unreachable
// and EnvServer is not set.
func DSN(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dsn, drop, err := Create(ctx)
	if errors.Is(err, ErrUnreachable) {
		Missing(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return dsn
}

// Missing ends t for err, which wraps ErrUnreachable: a skip that names
// the missing server, or a failure in CI (see testdeps).
func Missing(t testing.TB, err error) {
	t.Helper()
	testdeps.Missingf(t, "PostgreSQL", "%v (start the server, or set %s)", err, EnvServer)
}

// Create creates a new, empty database and returns its URL and a function
// that drops it, with any connection still open to it: for a database
// that outlives one test, such as one that the tests of a package share.
// DSN is Create for one test. The error wraps ErrUnreachable when the
// default server is unreachable and EnvServer is not set.
func Create(ctx context.Context) (dsn string, drop func() error, err error) {
	server, named := os.LookupEnv(EnvServer)
	if !named || server == "" {
		server = DefaultServer
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("pgtest: %s must be a postgres:// URL, not %q", EnvServer, server)
	}

	if err := skipping.Load(); err != nil && !named {
		return "", nil, fmt.Errorf("%w at %s: %w", ErrUnreachable, u.Redacted(), *err)
	}
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		if !named && unreachable(err) {
			skipping.Store(&err)
			return "", nil, fmt.Errorf("%w at %s (set %s to use another server): %w",
				ErrUnreachable, u.Redacted(), EnvServer, err)
		}
		return "", nil, fmt.Errorf("pgtest: unable to connect to %s: %w", u.Redacted(), err)
	}
	defer admin.Close(context.Background())

	name, err := randomName()
	if err != nil {
		return "", nil, err
	}
	// The name is ours, made of [a-z0-9_]: no quoting needed.
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("pgtest: unable to create database %s: %w", name, err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return fmt.Errorf("pgtest: unable to drop database %s: %w", name, err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("pgtest: unable to drop database %s: %w", name, err)
		}
		return nil
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// unreachable reports whether err means that no server answered, as
// opposed to one that refused the login or failed.
func unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return false
	}
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &opErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded)
}

// randomName returns a new database name: dbPrefix and 16 random
// lower-case hex digits.
func randomName() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	return fmt.Sprintf("%s%x", dbPrefix, b), nil
}
