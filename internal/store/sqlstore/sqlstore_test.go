package sqlstore

import (
	"path/filepath"
	"testing"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
	"github.com/picloud/picloud/internal/store/storetest"
)

// backends runs fn once per backend, each with a function that opens a
// new, empty store of it.
func backends(t *testing.T, fn func(t *testing.T, open func(t *testing.T) *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, openSQLiteTest)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, openPostgresTest)
	})
}

func openSQLiteTest(t *testing.T) *Store {
	t.Helper()
	st, err := OpenSQLite(filepath.Join(t.TempDir(), "picloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func openPostgresTest(t *testing.T) *Store {
	t.Helper()
	st, err := OpenPostgres(t.Context(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStore(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
	})
}
