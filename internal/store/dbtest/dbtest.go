// Package dbtest runs tests against every store backend: SQLite always,
// and PostgreSQL when its test server is reachable (see pgtest), so that
// the API tests, the data-plane tests and the CLI journeys prove both.
// PICLOUD_TEST_BACKEND narrows the set to sqlite or postgres; all, the
// default, runs both.
//
// Every database a test gets is its own: a new SQLite file in the test's
// temporary directory, or a PostgreSQL schema that no other test holds.
// Creating PostgreSQL relations is slow (about half a second for
// PiCloud's schema, as much as a new database), which hundreds of API
// tests cannot afford, so the schemas live in one database per test
// process, are migrated once, and are lent to one test at a time, emptied
// (or restored to a fixture's rows) in a single statement before each;
// Open and Fixture.Open also lend the schema's open store, since a new
// connection costs tens of milliseconds too. TestMain must call Close,
// or use Main, to drop that database.
package dbtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// EnvBackend names the environment variable that selects the backends:
// sqlite, postgres or all (the default).
const EnvBackend = "PICLOUD_TEST_BACKEND"

// Backend names a store implementation.
type Backend string

// The backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Backends returns the backends selected by EnvBackend. PostgreSQL is in
// the default set even when its server is down: its tests then skip, and
// say why.
func Backends(t testing.TB) []Backend {
	t.Helper()
	bs, err := selected()
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func selected() ([]Backend, error) {
	switch v := os.Getenv(EnvBackend); v {
	case "", "all":
		return []Backend{SQLite, Postgres}, nil
	case string(SQLite), string(Postgres):
		return []Backend{Backend(v)}, nil
	default:
		return nil, fmt.Errorf("dbtest: %s=%q: want sqlite, postgres or all", EnvBackend, v)
	}
}

// Run runs fn as a subtest per backend, named after it.
func Run(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(string(b), func(t *testing.T) { fn(t, b) })
	}
}

// DB is a database of one test. Open it as many times as the test needs,
// as processes sharing it would.
type DB struct {
	Backend Backend
	// Path is the SQLite file; DSN the PostgreSQL URL, whose search_path
	// names the test's schema.
	Path, DSN string
}

// Open opens a store on the database, closed when t ends.
func (d DB) Open(t testing.TB) store.Store {
	t.Helper()
	st, err := d.Store()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Store opens a store on the database, for the caller to close.
func (d DB) Store() (store.Store, error) {
	if d.Backend == Postgres {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := sqlstore.OpenPostgres(ctx, d.DSN)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := sqlstore.OpenSQLite(d.Path)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// NewDB returns an empty database of backend b for t.
func NewDB(t testing.TB, b Backend) DB {
	t.Helper()
	if b == Postgres {
		return empty.NewDB(t)
	}
	return DB{Backend: SQLite, Path: filepath.Join(t.TempDir(), "picloud.db")}
}

// Open opens a store on an empty database of backend b, closed when t
// ends.
func Open(t testing.TB, b Backend) store.Store {
	t.Helper()
	if b == Postgres {
		return empty.Open(t)
	}
	return NewDB(t, b).Open(t)
}

// Shared returns a new, empty database of backend b that lives until
// Close, for a server that the tests of a package share. The error wraps
// pgtest.ErrUnreachable when PostgreSQL is: the tests skip.
func Shared(b Backend) (DB, error) {
	if b == Postgres {
		if err := empty.ready(); err != nil {
			return DB{}, err
		}
		sl, err := server.lend(empty)
		if err != nil {
			return DB{}, err
		}
		return DB{Backend: Postgres, DSN: server.dsn(sl.schema)}, nil
	}
	dir, err := os.MkdirTemp("", "picloud-dbtest-")
	if err != nil {
		return DB{}, err
	}
	cleanup.add(func() { os.RemoveAll(dir) })
	return DB{Backend: SQLite, Path: filepath.Join(dir, "picloud.db")}, nil
}

// empty is the PostgreSQL fixture without rows.
var empty = &Fixture{backend: Postgres}

// Fixture is a database seeded once and copied for each test that asks,
// as pocketbase clones a test app from its fixtures.
type Fixture struct {
	backend Backend
	seed    func(ctx context.Context, st store.Store) error

	once sync.Once
	err  error
	path string // SQLite: the seeded file
	// PostgreSQL: the schema holding the seeded rows, and the statement
	// that restores them into a lent schema ("%[1]s" is its name).
	schema, restore string
}

// NewFixture returns a fixture of backend b, seeded by seed on first use.
func NewFixture(b Backend, seed func(ctx context.Context, st store.Store) error) *Fixture {
	return &Fixture{backend: b, seed: seed}
}

// Backend is the fixture's backend.
func (f *Fixture) Backend() Backend { return f.backend }

// NewDB returns a copy of the fixture for t. It fails t when the seed
// failed, and skips it when PostgreSQL is unreachable.
func (f *Fixture) NewDB(t testing.TB) DB {
	t.Helper()
	if f.backend == Postgres {
		return DB{Backend: Postgres, DSN: server.dsn(f.lend(t).schema)}
	}
	f.must(t)
	path := filepath.Join(t.TempDir(), "picloud.db")
	src, err := os.ReadFile(f.path)
	if err == nil {
		err = os.WriteFile(path, src, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	return DB{Backend: SQLite, Path: path}
}

// Open opens a store on a copy of the fixture, closed when t ends. On
// PostgreSQL it is the store of the schema lent to t, which stays open
// for the next test that borrows the schema unless t closes it: opening
// one costs a connection and a look at the schema's version, tens of
// milliseconds that hundreds of tests would add up.
func (f *Fixture) Open(t testing.TB) store.Store {
	t.Helper()
	if f.backend == SQLite {
		return f.NewDB(t).Open(t)
	}
	sl := f.lend(t)
	if sl.warm == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := sqlstore.OpenPostgres(ctx, server.dsn(sl.schema))
		if err != nil {
			t.Fatal(err)
		}
		sl.warm = st
	}
	ls := &lentStore{Store: sl.warm}
	t.Cleanup(func() {
		if ls.closed.Load() {
			sl.warm = nil
		}
	})
	return ls
}

// lentStore is the open store of a lent schema. Closing it closes the
// store, and the schema's next test opens another.
type lentStore struct {
	*sqlstore.Store
	closed atomic.Bool
}

func (s *lentStore) Close() error {
	s.closed.Store(true)
	return s.Store.Close()
}

// must fails t when the fixture cannot be built, or skips it when
// PostgreSQL is unreachable.
func (f *Fixture) must(t testing.TB) {
	t.Helper()
	err := f.ready()
	if errors.Is(err, pgtest.ErrUnreachable) {
		pgtest.Missing(t, err)
	}
	if err != nil {
		t.Fatalf("dbtest: building the fixture: %v", err)
	}
}

// lend lends t a PostgreSQL schema holding the fixture's rows, until t
// ends.
func (f *Fixture) lend(t testing.TB) *slot {
	t.Helper()
	f.must(t)
	sl, err := server.lend(f)
	if err != nil {
		t.Fatal(err)
	}
	// Registered before any store of the test is opened, this runs after
	// they are closed.
	t.Cleanup(func() { server.give(sl) })
	return sl
}

// ready builds the fixture on first use and returns the error that
// building it gave.
func (f *Fixture) ready() error {
	f.once.Do(func() { f.err = f.build() })
	return f.err
}

// build seeds the fixture.
func (f *Fixture) build() error {
	if f.backend == SQLite {
		dir, err := os.MkdirTemp("", "picloud-dbtest-")
		if err != nil {
			return err
		}
		cleanup.add(func() { os.RemoveAll(dir) })
		f.path = filepath.Join(dir, "picloud.db")
		return f.seedInto(DB{Backend: SQLite, Path: f.path})
	}
	if err := server.start(); err != nil {
		return err
	}
	schema, err := server.newSchema()
	if err != nil {
		return err
	}
	if err := f.seedInto(DB{Backend: Postgres, DSN: server.dsn(schema)}); err != nil {
		return err
	}
	f.schema = schema
	f.restore, err = server.restoreStatement(schema)
	return err
}

func (f *Fixture) seedInto(d DB) (err error) {
	st, err := d.Store()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}()
	if f.seed == nil {
		return nil
	}
	return f.seed(context.Background(), st)
}

// pgServer is the PostgreSQL database of this test process and its
// schemas.
type pgServer struct {
	once  sync.Once
	err   error
	base  string // URL of the database
	drop  func() error
	admin *pgxpool.Pool

	mu   sync.Mutex
	n    int     // schemas created
	free []*slot // migrated schemas no test holds
	all  []*slot
}

// slot is a migrated schema, lent to one test at a time.
type slot struct {
	schema string
	warm   *sqlstore.Store // open on the schema, or nil
}

var server pgServer

// start creates the database, once.
func (s *pgServer) start() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.base, s.drop, s.err = pgtest.Create(ctx)
		if s.err != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.admin, s.err = pgxpool.New(ctx, s.base)
	})
	return s.err
}

// dsn is the URL of a schema: the database's, with the schema as the
// search_path of every connection. Commits do not wait for the disk: a
// test database need not survive a crash of its server.
func (s *pgServer) dsn(schema string) string {
	u, err := url.Parse(s.base)
	if err != nil {
		panic(err) // pgtest made it
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// newSchema creates and migrates a schema.
func (s *pgServer) newSchema() (string, error) {
	s.mu.Lock()
	s.n++
	name := fmt.Sprintf("s%d", s.n)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", fmt.Errorf("dbtest: unable to create schema %s: %w", name, err)
	}
	st, err := sqlstore.OpenPostgres(ctx, s.dsn(name))
	if err != nil {
		return "", err
	}
	return name, st.Close()
}

// lend returns a schema for one test, holding the rows of f.
func (s *pgServer) lend(f *Fixture) (*slot, error) {
	s.mu.Lock()
	var sl *slot
	if n := len(s.free); n > 0 {
		sl, s.free = s.free[n-1], s.free[:n-1]
	}
	s.mu.Unlock()
	if sl == nil {
		schema, err := s.newSchema()
		if err != nil {
			return nil, err
		}
		sl = &slot{schema: schema}
		s.mu.Lock()
		s.all = append(s.all, sl)
		s.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.admin.Exec(ctx, fmt.Sprintf(f.restore, sl.schema)); err != nil {
		s.give(sl)
		return nil, fmt.Errorf("dbtest: unable to restore the fixture into schema %s: %w", sl.schema, err)
	}
	return sl, nil
}

// give takes a schema back from its test.
func (s *pgServer) give(sl *slot) {
	s.mu.Lock()
	s.free = append(s.free, sl)
	s.mu.Unlock()
}

// restoreStatement builds the statement that makes a schema a copy of
// schema from: it deletes every row, children first, copies the rows of
// from, parents first, and sets the sequences (of identity columns) as
// they are in from. Both schemas have the same migrated tables, so their
// columns are in the same order. Without arguments, Exec sends it in the
// simple protocol: one round trip, one transaction.
func (s *pgServer) restoreStatement(from string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tables, err := collect(ctx, s.admin, `SELECT tablename FROM pg_tables
		WHERE schemaname = $1 AND tablename NOT IN ('schema_migrations', 'schema_history') ORDER BY tablename`, from)
	if err != nil {
		return "", err
	}
	parents := map[string][]string{}
	rows, err := s.admin.Query(ctx, `SELECT child.relname, parent.relname
		FROM pg_constraint c
		JOIN pg_class child ON child.oid = c.conrelid
		JOIN pg_class parent ON parent.oid = c.confrelid
		JOIN pg_namespace n ON n.oid = child.relnamespace
		WHERE c.contype = 'f' AND n.nspname = $1`, from)
	if err != nil {
		return "", fmt.Errorf("dbtest: unable to list foreign keys: %w", err)
	}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			return "", err
		}
		if child != parent {
			parents[child] = append(parents[child], parent)
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("dbtest: unable to list foreign keys: %w", err)
	}
	order, err := parentsFirst(tables, parents)
	if err != nil {
		return "", err
	}
	seqs, err := collect(ctx, s.admin, `SELECT sequencename FROM pg_sequences WHERE schemaname = $1 ORDER BY sequencename`, from)
	if err != nil {
		return "", err
	}
	// Tables with triggers of the schema's own (which keep usage rows)
	// have them off while the rows are copied: the copied usage rows are
	// already right, and counting the copied jobs again would make them
	// wrong.
	triggered, err := collect(ctx, s.admin, `SELECT DISTINCT c.relname FROM pg_trigger t
		JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY c.relname`, from)
	if err != nil {
		return "", err
	}

	// The target schema is "%[1]s" in the result, for fmt.Sprintf.
	target := func(name string) string {
		return `"%[1]s".` + strings.ReplaceAll(pgx.Identifier{name}.Sanitize(), "%", "%%")
	}
	source := func(name string) string {
		return strings.ReplaceAll(pgx.Identifier{from, name}.Sanitize(), "%", "%%")
	}
	var b strings.Builder
	for _, t := range triggered {
		fmt.Fprintf(&b, "ALTER TABLE %s DISABLE TRIGGER USER;\n", target(t))
	}
	for _, t := range slices.Backward(order) {
		fmt.Fprintf(&b, "DELETE FROM %s;\n", target(t))
	}
	for _, t := range order {
		fmt.Fprintf(&b, "INSERT INTO %s OVERRIDING SYSTEM VALUE SELECT * FROM %s;\n", target(t), source(t))
	}
	for _, q := range seqs {
		fmt.Fprintf(&b, "SELECT setval('%s', last_value, is_called) FROM %s;\n",
			strings.ReplaceAll(target(q), "'", "''"), source(q))
	}
	for _, t := range triggered {
		fmt.Fprintf(&b, "ALTER TABLE %s ENABLE TRIGGER USER;\n", target(t))
	}
	return b.String(), nil
}

// parentsFirst orders tables so that every table comes after those it
// references.
func parentsFirst(tables []string, parents map[string][]string) ([]string, error) {
	var order []string
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(t string) error
	visit = func(t string) error {
		switch state[t] {
		case 1:
			return fmt.Errorf("dbtest: the foreign keys of table %s form a cycle", t)
		case 2:
			return nil
		}
		state[t] = 1
		for _, p := range parents[t] {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[t] = 2
		order = append(order, t)
		return nil
	}
	for _, t := range tables {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func collect(ctx context.Context, pool *pgxpool.Pool, query string, args ...any) ([]string, error) {
	rows, err := pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("dbtest: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("dbtest: %w", err)
	}
	return list, nil
}

// cleanup holds what Close removes: the SQLite fixtures' directories.
var cleanup cleaner

type cleaner struct {
	mu  sync.Mutex
	fns []func()
}

func (c *cleaner) add(fn func()) {
	c.mu.Lock()
	c.fns = append(c.fns, fn)
	c.mu.Unlock()
}

// Close drops the PostgreSQL database of this process and removes the
// SQLite fixtures. Call it from TestMain once the tests have run.
func Close() error {
	cleanup.mu.Lock()
	fns := cleanup.fns
	cleanup.fns = nil
	cleanup.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	server.mu.Lock()
	defer server.mu.Unlock()
	for _, sl := range server.all {
		if sl.warm != nil {
			sl.warm.Close()
			sl.warm = nil
		}
	}
	server.all, server.free = nil, nil
	if server.admin != nil {
		server.admin.Close()
		server.admin = nil
	}
	if server.drop != nil {
		drop := server.drop
		server.drop = nil
		return drop()
	}
	return nil
}

// Main runs the tests and then Close, and exits: the TestMain of a
// package that has nothing else to do there.
func Main(m *testing.M) {
	code := m.Run()
	if err := Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
