package dbtest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/picloud/picloud/internal/store"
)

func TestMain(m *testing.M) { Main(m) }

func TestBackends(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want []Backend
	}{
		{"", []Backend{SQLite, Postgres}},
		{"all", []Backend{SQLite, Postgres}},
		{"sqlite", []Backend{SQLite}},
		{"postgres", []Backend{Postgres}},
	} {
		t.Setenv(EnvBackend, tc.env)
		if got, err := selected(); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s=%q: %v, %v; want %v", EnvBackend, tc.env, got, err, tc.want)
		}
	}
	t.Setenv(EnvBackend, "mysql")
	if got, err := selected(); err == nil {
		t.Errorf("%s=mysql: %v; want an error", EnvBackend, got)
	}
}

// Every test gets an empty database, whatever the tests before it left in
// theirs: on PostgreSQL, a schema lent again is emptied and its
// identities start over.
func TestOpenIsEmpty(t *testing.T) {
	Run(t, func(t *testing.T, b Backend) {
		for i := range 3 {
			t.Run("", func(t *testing.T) {
				st := Open(t, b)
				ctx := context.Background()
				if apps, err := st.ListApps(ctx); err != nil || len(apps) != 0 {
					t.Fatalf("round %d: the new database has apps %v (%v)", i, apps, err)
				}
				a := store.App{Slug: "leftover"}
				if err := st.CreateApp(ctx, &a); err != nil {
					t.Fatal(err)
				}
				if a.ID != 1 {
					t.Errorf("round %d: the first app has id %d, want 1", i, a.ID)
				}
			})
		}
	})
}

// A fixture's copies start with its rows and identities; what one test
// changes, the next does not see; the database opens again with the
// test's changes.
func TestFixture(t *testing.T) {
	Run(t, func(t *testing.T, b Backend) {
		f := NewFixture(b, func(ctx context.Context, st store.Store) error {
			for _, slug := range []string{"one", "two"} {
				if err := st.CreateApp(ctx, &store.App{Slug: slug}); err != nil {
					return err
				}
			}
			return st.DeleteApp(ctx, 2) // identities do not reuse 2
		})
		for i := range 3 {
			t.Run("", func(t *testing.T) {
				db := f.NewDB(t)
				st := db.Open(t)
				ctx := context.Background()
				apps, err := st.ListApps(ctx)
				if err != nil || len(apps) != 1 || apps[0].Slug != "one" || apps[0].ID != 1 {
					t.Fatalf("round %d: apps %+v (%v); want the fixture's app one", i, apps, err)
				}
				a := store.App{Slug: "three"}
				if err := st.CreateApp(ctx, &a); err != nil {
					t.Fatal(err)
				}
				if a.ID != 3 {
					t.Errorf("round %d: a new app has id %d, want 3", i, a.ID)
				}
				if err := st.DeleteApp(ctx, 1); err != nil {
					t.Fatal(err)
				}
				again := db.Open(t)
				if _, err := again.GetApp(ctx, "one"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("round %d: reopened, the deleted app: %v", i, err)
				}
				if _, err := again.GetApp(ctx, "three"); err != nil {
					t.Errorf("round %d: reopened, the new app: %v", i, err)
				}
			})
		}
	})
}

func TestFixtureSeedFails(t *testing.T) {
	boom := errors.New("boom")
	f := NewFixture(SQLite, func(context.Context, store.Store) error { return boom })
	ft := &fatalT{TB: t}
	func() {
		defer func() { recover() }()
		f.NewDB(ft)
	}()
	if !ft.failed {
		t.Error("a fixture whose seed failed was lent")
	}
}

// fatalT records Fatal instead of ending the test.
type fatalT struct {
	testing.TB
	failed bool
}

func (f *fatalT) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
func (f *fatalT) Helper()               {}

func TestParentsFirst(t *testing.T) {
	order, err := parentsFirst([]string{"a", "b", "c", "d"}, map[string][]string{"a": {"c"}, "c": {"d", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, tbl := range order {
		pos[tbl] = i
	}
	if len(order) != 4 || pos["c"] > pos["a"] || pos["d"] > pos["c"] || pos["b"] > pos["c"] {
		t.Errorf("order %v: a table before one it references", order)
	}
	if _, err := parentsFirst([]string{"a", "b"}, map[string][]string{"a": {"b"}, "b": {"a"}}); err == nil {
		t.Error("a cycle: want an error")
	}
}

// Fixture.Open lends the store of a schema: the next test gets the
// fixture's rows again, and a test that closed its store does not leave
// the next one a closed store.
func TestFixtureOpen(t *testing.T) {
	Run(t, func(t *testing.T, b Backend) {
		f := NewFixture(b, func(ctx context.Context, st store.Store) error {
			return st.CreateApp(ctx, &store.App{Slug: "one"})
		})
		for i := range 4 {
			t.Run("", func(t *testing.T) {
				st := f.Open(t)
				ctx := context.Background()
				apps, err := st.ListApps(ctx)
				if err != nil || len(apps) != 1 || apps[0].Slug != "one" {
					t.Fatalf("round %d: apps %+v (%v); want the fixture's app one", i, apps, err)
				}
				if err := st.CreateApp(ctx, &store.App{Slug: "two"}); err != nil {
					t.Fatal(err)
				}
				if i%2 == 0 {
					st.Close()
					if _, err := st.ListApps(ctx); err == nil {
						t.Errorf("round %d: a closed store still answers", i)
					}
				}
			})
		}
	})
}
