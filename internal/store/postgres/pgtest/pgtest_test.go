package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestUnreachable(t *testing.T) {
	// Nothing listens on port 1 of loopback.
	_, err := pgx.Connect(context.Background(), "postgres://root@127.0.0.1:1/postgres?sslmode=disable")
	if err == nil || !unreachable(err) {
		t.Errorf("connecting to a closed port: %v; want unreachable", err)
	}
}

// TestDSN creates a database, then checks that it is empty and dropped at
// the end; a server that answers but refuses the login is an error, not a
// reason to skip.
func TestDSN(t *testing.T) {
	var dsn string
	t.Run("create", func(t *testing.T) {
		dsn = DSN(t)
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var tables int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("the new database has %d tables", tables)
		}
	})
	if dsn == "" {
		t.Skip("no server")
	}
	_, err := pgx.Connect(t.Context(), dsn)
	if err == nil {
		t.Fatal("the database is still there after its test")
	}
	if unreachable(err) {
		t.Errorf("connecting to a dropped database: %v; want a server error", err)
	}
}
