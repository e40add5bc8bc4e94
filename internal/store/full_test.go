package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite"

	"github.com/picloud/picloud/internal/store"
)

// codedError has a Code method like the SQLite driver's error, but is not
// the driver's: its code 13 must not read as SQLITE_FULL.
type codedError struct{ code int }

func (e codedError) Error() string { return fmt.Sprint("code ", e.code) }
func (e codedError) Code() int     { return e.code }

// A real SQLITE_FULL from the driver, here from a file capped at a few
// pages, is recognised through the store's wrapping; other errors are not.
func TestIsFull(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // max_page_count is a setting of the connection
	if _, err := db.Exec(`CREATE TABLE t (v BLOB); PRAGMA max_page_count = 4`); err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		_, full = db.Exec(`INSERT INTO t VALUES (?)`, make([]byte, 1000))
	}
	if full == nil {
		t.Fatal("a database capped at 4 pages took 100 KB")
	}
	wrapped := fmt.Errorf("sqlite: unable to set a key: %w", full)
	if !store.IsFull(wrapped) {
		t.Errorf("IsFull(%v) = false", wrapped)
	}
	_, syntax := db.Exec(`INSERT INTO nowhere VALUES (1)`)
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{store.ErrFull, true},
		{fmt.Errorf("manager: %w", store.ErrFull), true},
		{syntax, false},
		{errors.New("database or disk is full"), false},
		{codedError{13}, false},
		{&pgconn.PgError{Code: "53100", Message: "could not extend file"}, true},
		{fmt.Errorf("postgres: unable to deploy: %w", &pgconn.PgError{Code: "53100"}), true},
		{&pgconn.PgError{Code: "23505"}, false},
		{store.ErrConflict, false},
	} {
		if got := store.IsFull(tc.err); got != tc.want {
			t.Errorf("IsFull(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if !strings.Contains(full.Error(), "full") {
		t.Errorf("the driver's error %q does not say full", full)
	}
}
