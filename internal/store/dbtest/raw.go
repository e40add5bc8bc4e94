package dbtest

import (
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Raw returns the one column of the one row that query selects, read
// beneath the store, as anyone with the database file or a backup of it
// would: tests check what is stored at rest. nil for NULL.
func (d DB) Raw(t testing.TB, query string) []byte {
	t.Helper()
	var v []byte
	if d.Backend == Postgres {
		conn, err := pgx.Connect(t.Context(), d.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		if err := conn.QueryRow(t.Context(), query).Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return v
	}
	db, err := sql.Open("sqlite", d.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(t.Context(), query).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}
