package sqlstore

// The upgrade tests build a database as each earlier PiCloud left it, at
// every schema version of both backends, fill it with rows written in the
// SQL of that version, and open it with this program: every row must read
// back through store.Store with the values it had, and the columns and
// tables of later migrations must hold what those migrations put in them.
//
// The rows are written by seedSteps, a list of "from migration N on,
// insert this": a test at version v runs the steps of the migrations it
// has. A new migration that adds a table or a column adds a step that
// fills it (and, when the store keeps totals of it, the totals), and
// checkFixture learns to read it back.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the raw connections

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
)

// TestUpgradeFromEveryVersion upgrades a database of every schema version
// of each backend, from the empty one to the latest (which upgrades
// nothing, and so checks the test's own seeding and reading), and reads
// every row back.
func TestUpgradeFromEveryVersion(t *testing.T) {
	dbs := newUpgradeDBs(t)
	eachBackend(t, func(t *testing.T, pg bool) {
		for v := 0; v <= Migrations(); v++ {
			t.Run(fmt.Sprintf("from-v%d", v), func(t *testing.T) {
				t.Parallel()
				db := dbs.new(t, pg)
				db.migrateTo(t, v)
				want := seed(t, db, v)
				st := db.openLatest(t)
				checkFixture(t, st, want)
				checkWritable(t, st, want)
			})
		}
	})
}

// legacyHistory is the merged version of the schema that PostgreSQL
// databases had at each version of their own history, before the
// histories were merged, as the comments of the migrations tell it ("its
// migration N before the histories were merged"): written out here, not
// read from legacyPostgresVersions, so that a wrong entry there fails the
// upgrade of a database built as that version really was.
var legacyHistory = []int{0, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15}

// TestUpgradeLegacyPostgres upgrades PostgreSQL databases that recorded
// their version in schema_migrations, in the numbers of PostgreSQL's own
// history before the histories were merged: a database at legacy version
// k has the schema of merged version legacyHistory[k], and the upgrade
// goes on from there.
func TestUpgradeLegacyPostgres(t *testing.T) {
	if len(legacyHistory) != len(legacyPostgresVersions) {
		t.Fatalf("legacyPostgresVersions maps %d legacy versions; the legacy history has %d, and is closed",
			len(legacyPostgresVersions), len(legacyHistory))
	}
	dbs := newUpgradeDBs(t)
	for k, m := range legacyHistory {
		t.Run(fmt.Sprintf("legacy-v%d", k), func(t *testing.T) {
			t.Parallel()
			db := dbs.new(t, true)
			db.migrateTo(t, m)
			want := seed(t, db, m)
			db.toLegacyNumbering(t, k)
			st := db.openLatest(t)
			checkFixture(t, st, want)
			checkWritable(t, st, want)
			// The merged record holds every migration once, whichever
			// were applied before the merge and whichever after.
			raw := db.raw(t)
			var rows, lowest, highest int
			if err := raw.QueryRowContext(t.Context(),
				`SELECT count(*), min(version), max(version) FROM schema_history`).Scan(&rows, &lowest, &highest); err != nil {
				t.Fatal(err)
			}
			if rows != Migrations() || lowest != 1 || highest != Migrations() {
				t.Errorf("schema_history holds %d rows, versions %d to %d; want versions 1 to %d", rows, lowest, highest, Migrations())
			}
		})
	}
}

// TestUpgradeRefusesNewerSchema: a database that a newer PiCloud upgraded
// is refused with a message that names both versions, and is left as it
// was.
func TestUpgradeRefusesNewerSchema(t *testing.T) {
	newer := Migrations() + 1
	dbs := newUpgradeDBs(t)
	eachBackend(t, func(t *testing.T, pg bool) {
		db := dbs.new(t, pg)
		db.migrateTo(t, Migrations())
		seed(t, db, Migrations())
		raw := db.raw(t)
		if pg {
			mustExec(t, raw, `INSERT INTO schema_history (version) VALUES ($1)`, newer)
		} else {
			mustExec(t, raw, fmt.Sprintf(`PRAGMA user_version = %d`, newer))
		}
		raw.Close()

		err := db.openErr(t)
		if err == nil {
			t.Fatalf("opening a database of schema version %d succeeded; this program knows %d", newer, Migrations())
		}
		mentions(t, err, "newer", fmt.Sprint(newer), fmt.Sprint(Migrations()))
		if got := db.version(t); got != newer {
			t.Errorf("after the refusal the schema version is %d, want %d", got, newer)
		}
		if n := db.count(t, "users"); n != 2 {
			t.Errorf("after the refusal the database holds %d users, want 2", n)
		}
	})

	// A legacy record beyond the last legacy version: a PostgreSQL
	// database upgraded by a newer PiCloud of before the merge.
	t.Run("postgres-legacy", func(t *testing.T) {
		t.Parallel()
		db := dbs.new(t, true)
		db.migrateTo(t, Migrations())
		beyond := len(legacyHistory)
		db.toLegacyNumbering(t, beyond)
		err := db.openErr(t)
		if err == nil {
			t.Fatalf("opening a database of legacy schema version %d succeeded", beyond)
		}
		mentions(t, err, "newer", fmt.Sprint(beyond))
		// The refusal rolled back the creation of the merged record, so
		// that the database stays as the newer program left it.
		if db.hasTable(t, "schema_history") {
			t.Error("the refused legacy database has a schema_history table")
		}
	})
}

// TestUpgradeFailedMigration: a migration that fails halfway, here
// migration 10 on a database where someone created its second table by
// hand, leaves the database at the version before it, with none of its
// changes; once the obstacle is gone the next open completes the upgrade,
// and the rows are all there.
func TestUpgradeFailedMigration(t *testing.T) {
	const failing = 10 // creates kv, then kv_usage
	dbs := newUpgradeDBs(t)
	eachBackend(t, func(t *testing.T, pg bool) {
		db := dbs.new(t, pg)
		db.migrateTo(t, failing-1)
		want := seed(t, db, failing-1)
		raw := db.raw(t)
		mustExec(t, raw, `CREATE TABLE kv_usage (note text)`)
		raw.Close()

		err := db.openErr(t)
		if err == nil {
			t.Fatal("the upgrade succeeded over a conflicting kv_usage table")
		}
		mentions(t, err, fmt.Sprintf("migration %d", failing))
		if got := db.version(t); got != failing-1 {
			t.Errorf("after the failed migration the schema version is %d, want %d", got, failing-1)
		}
		if db.hasTable(t, "kv") {
			t.Errorf("migration %d failed, but the table it created before the failure is there", failing)
		}

		raw = db.raw(t)
		mustExec(t, raw, `DROP TABLE kv_usage`)
		raw.Close()
		st := db.openLatest(t)
		checkFixture(t, st, want)
		checkWritable(t, st, want)
	})
}

// TestUpgradeSeedSteps keeps seedSteps in the order of the migrations,
// which later steps rely on (a step may change the rows of an earlier
// one), and within the known history.
func TestUpgradeSeedSteps(t *testing.T) {
	for i, step := range seedSteps {
		if step.from < 1 || step.from > Migrations() {
			t.Errorf("step %q is for migration %d, outside 1 to %d", step.what, step.from, Migrations())
		}
		if i > 0 && step.from < seedSteps[i-1].from {
			t.Errorf("step %q (migration %d) comes after step %q (migration %d)", step.what, step.from, seedSteps[i-1].what, seedSteps[i-1].from)
		}
	}
}

// eachBackend runs fn as a parallel subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, pg bool)) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, pg)
		})
	}
}

// upgradeDB is the database of one upgrade test: a SQLite file, or a
// PostgreSQL database of its own.
type upgradeDB struct {
	pg   bool
	path string // SQLite
	dsn  string // PostgreSQL
}

// upgradeDBs gives the cases of a test their databases. Dropping a
// PostgreSQL database waits for a checkpoint, about a second on a small
// machine, so the PostgreSQL databases are dropped together when the test
// ends, where their checkpoints coalesce, rather than one by one as each
// case ends (pgtest.DSN), which took most of the time of the file.
type upgradeDBs struct {
	mu    sync.Mutex
	drops []func() error
}

// newUpgradeDBs returns the databases of t and its subtests.
func newUpgradeDBs(t *testing.T) *upgradeDBs {
	dbs := &upgradeDBs{}
	t.Cleanup(func() {
		dbs.mu.Lock()
		defer dbs.mu.Unlock()
		errs := make([]error, len(dbs.drops))
		var wg sync.WaitGroup
		for i, drop := range dbs.drops {
			wg.Go(func() { errs[i] = drop() })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Error(err)
		}
	})
	return dbs
}

// new returns a new, empty database for the case t: a SQLite file in its
// temporary directory, or a PostgreSQL database of its own (t skips when
// the server is unreachable, and fails in CI).
func (dbs *upgradeDBs) new(t *testing.T, pg bool) upgradeDB {
	t.Helper()
	if !pg {
		return upgradeDB{path: filepath.Join(t.TempDir(), "picloud.db")}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	dsn, drop, err := pgtest.Create(ctx)
	if errors.Is(err, pgtest.ErrUnreachable) {
		pgtest.Missing(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dbs.mu.Lock()
	dbs.drops = append(dbs.drops, drop)
	dbs.mu.Unlock()
	return upgradeDB{pg: true, dsn: dsn}
}

// migrateTo builds the database at schema version v, as the program of
// that version left it.
func (d upgradeDB) migrateTo(t *testing.T, v int) {
	t.Helper()
	var err error
	if d.pg {
		err = MigratePostgres(t.Context(), d.dsn, v)
	} else {
		err = MigrateSQLite(d.path, v)
	}
	if err != nil {
		t.Fatalf("building the database at version %d: %v", v, err)
	}
}

// openErr opens the database as the server does, upgrading it, and
// closes it again; it returns the error of the open.
func (d upgradeDB) openErr(t *testing.T) error {
	t.Helper()
	st, err := d.open(t.Context())
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return nil
}

// openLatest opens the database as the server does, which upgrades it,
// checks that it is at the latest version, and closes it when t ends.
func (d upgradeDB) openLatest(t *testing.T) *Store {
	t.Helper()
	st, err := d.open(t.Context())
	if err != nil {
		t.Fatalf("upgrading: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	if v, err := st.SchemaVersion(t.Context()); err != nil || v != Migrations() {
		t.Fatalf("after the upgrade SchemaVersion = %d, %v; want %d", v, err, Migrations())
	}
	return st
}

func (d upgradeDB) open(ctx context.Context) (*Store, error) {
	if d.pg {
		return OpenPostgres(ctx, d.dsn)
	}
	return OpenSQLite(d.path)
}

// raw opens a plain connection to the database, with no migration, for
// the SQL of an earlier version; closed when t ends at the latest.
func (d upgradeDB) raw(t *testing.T) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if d.pg {
		db, err = sql.Open("pgx", d.dsn)
	} else {
		db, err = sql.Open("sqlite", sqliteDSN(d.path, false))
	}
	if err != nil {
		t.Fatal(err)
	}
	// One connection, so that SQLite's pragmas and the order of the
	// statements are those of a single writer.
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// version reads the database's schema version without the store.
func (d upgradeDB) version(t *testing.T) int {
	t.Helper()
	raw := d.raw(t)
	defer raw.Close()
	q := `PRAGMA user_version`
	if d.pg {
		q = `SELECT coalesce(max(version), 0) FROM schema_history`
	}
	var v int
	if err := raw.QueryRowContext(t.Context(), q).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// hasTable reports whether the database has the table name.
func (d upgradeDB) hasTable(t *testing.T, name string) bool {
	t.Helper()
	raw := d.raw(t)
	defer raw.Close()
	q := `SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?`
	if d.pg {
		q = `SELECT to_regclass($1) IS NOT NULL`
	}
	var ok bool
	if err := raw.QueryRowContext(t.Context(), q, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// count returns the rows of table, a name of this file.
func (d upgradeDB) count(t *testing.T, table string) int {
	t.Helper()
	raw := d.raw(t)
	defer raw.Close()
	var n int
	if err := raw.QueryRowContext(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// toLegacyNumbering turns the record of a PostgreSQL database into the
// one PiCloud kept before the histories were merged: no schema_history,
// and schema_migrations holding the legacy versions 1 to k.
func (d upgradeDB) toLegacyNumbering(t *testing.T, k int) {
	t.Helper()
	raw := d.raw(t)
	defer raw.Close()
	mustExec(t, raw, `DROP TABLE schema_history`)
	mustExec(t, raw, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz DEFAULT now())`)
	mustExec(t, raw, `INSERT INTO schema_migrations (version) SELECT generate_series(1, $1::integer)`, k)
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// mentions fails t unless err's text holds each of words, as whole
// words.
func mentions(t *testing.T, err error, words ...string) {
	t.Helper()
	for _, w := range words {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(w) + `\b`).MatchString(err.Error()) {
			t.Errorf("the error does not mention %q: %v", w, err)
		}
	}
}

// schemaLevel is the SQLite version whose tables and columns a database
// of version v has: PostgreSQL's migration 1 created at once what took
// SQLite five, so a PostgreSQL database of versions 1 to 4 has all of
// them.
func schemaLevel(pg bool, v int) int {
	if pg && v >= 1 && v < 5 {
		return 5
	}
	return v
}

// A base time with nanoseconds and a zone other than UTC: the store keeps
// the instant, to the nanosecond in SQLite and the microsecond in
// PostgreSQL, and returns it in UTC.
var epoch = time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))

// at is a time of the rows, n minutes after epoch.
func at(n int) time.Time { return epoch.Add(time.Duration(n) * time.Minute) }

// never is an expiry far ahead of any clock that runs the tests.
var never = time.Date(2099, 12, 31, 23, 0, 0, 987654321, time.UTC)

// kvNow is the clock of the key-value reads: after some keys expired,
// before the others do.
var kvNow = at(200)

// seedStep writes, into a database that has migration from, the rows of
// the tables and columns that migration brought, and records in the
// fixture how the store must read them back. A step names only the
// columns that exist at its migration; later columns of its rows are
// filled by later steps, or keep their defaults.
type seedStep struct {
	from int
	what string
	run  func(s *seeder)
}

// seedSteps are in the order of the migrations. Migrations with no step
// bring nothing to fill: 11 drops an index; 12's job_turns is only when
// each app last had a job claimed; 14's queue_usage is computed by the
// migration from the jobs and kept by its triggers from then on, which
// the steps' inserts fire.
var seedSteps = []seedStep{
	{1, "users, sessions and API keys", seedUsers},
	{2, "apps and members", seedApps},
	{3, "scripts and their versions", seedScripts},
	{4, "invocation records", seedInvocations},
	{5, "max attempts, schedules, jobs and a job's attempt", seedQueue},
	{6, "an outbound policy", seedOutbound},
	{7, "a secret", seedSecret},
	{8, "a rollback", seedRollback},
	{9, "recorded HTTP exchanges", seedExchanges},
	{10, "key-value store", seedKV},
	{13, "recording usage", seedRecordingUsage},
	{15, "a private script", seedPrivate},
}

// seed writes the rows of every step the database of version v has and
// returns what the store must read back.
func seed(t *testing.T, db upgradeDB, v int) *fixture {
	t.Helper()
	raw := db.raw(t)
	defer raw.Close()
	// One transaction: the rows are the same, and a commit per row cost
	// PostgreSQL a flush of its log each.
	tx, err := raw.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	s := &seeder{t: t, db: tx, pg: db.pg, want: &fixture{recorded: map[int64]int64{}}}
	for _, step := range seedSteps {
		if step.from <= schemaLevel(db.pg, v) {
			s.step = step.what
			step.run(s)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return s.want
}

// fixture is what the steps wrote, as the store must read it back.
type fixture struct {
	users          []store.User
	sessions       []store.Session // live
	expiredSession []string        // token hashes
	apiKeys        []store.APIKey
	apps           []store.App
	members        []store.Member
	scripts        []store.Script
	versions       []store.Version // with their source
	invocations    []store.Invocation
	schedules      []store.Schedule
	jobs           []store.Job
	secrets        []store.Secret
	kv             []kvRow
	recorded       map[int64]int64 // bytes of the recorded exchanges, by app
}

// kvRow is a key of the key-value store; an expired one reads as absent
// but counts in the usage until it is purged.
type kvRow struct {
	appID   int64
	entry   store.KVEntry
	expired bool
}

func (f *fixture) userID(name string) int64 {
	for _, u := range f.users {
		if u.Username == name {
			return u.ID
		}
	}
	panic("no user " + name)
}

func (f *fixture) app(slug string) *store.App {
	for i := range f.apps {
		if f.apps[i].Slug == slug {
			return &f.apps[i]
		}
	}
	panic("no app " + slug)
}

func (f *fixture) script(name string) *store.Script {
	for i := range f.scripts {
		if f.scripts[i].Name == name {
			return &f.scripts[i]
		}
	}
	panic("no script " + name)
}

func (f *fixture) schedule(cron string) *store.Schedule {
	for i := range f.schedules {
		if f.schedules[i].Cron == cron {
			return &f.schedules[i]
		}
	}
	panic("no schedule " + cron)
}

// seeder writes rows with the SQL of an earlier version, in the encoding
// of the backend, as the program of that version wrote them.
type seeder struct {
	t    *testing.T
	db   *sql.Tx
	pg   bool
	step string
	want *fixture
}

// exec runs q, written with ? placeholders.
func (s *seeder) exec(q string, args ...any) {
	s.t.Helper()
	if s.pg {
		q = toDollars(q)
	}
	if _, err := s.db.ExecContext(s.t.Context(), q, args...); err != nil {
		s.t.Fatalf("seeding %s: %s: %v", s.step, q, err)
	}
}

// insert runs q, an INSERT … RETURNING id, and returns the id.
func (s *seeder) insert(q string, args ...any) int64 {
	s.t.Helper()
	if s.pg {
		q = toDollars(q)
	}
	var id int64
	if err := s.db.QueryRowContext(s.t.Context(), q, args...).Scan(&id); err != nil {
		s.t.Fatalf("seeding %s: %s: %v", s.step, q, err)
	}
	return id
}

// time encodes t for a column that is NOT NULL in SQLite, which keeps
// nanoseconds since the epoch and 0 for none, and nullable in PostgreSQL.
func (s *seeder) time(t time.Time) any {
	if t.IsZero() {
		if s.pg {
			return nil
		}
		return int64(0)
	}
	if s.pg {
		return t
	}
	return t.UnixNano()
}

// nullTime encodes t for a column that is nullable in both backends.
func (s *seeder) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.time(t)
}

// kept is t as the backend keeps it and the store returns it: in UTC, to
// the microsecond in PostgreSQL.
func (s *seeder) kept(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	if s.pg {
		return t.UTC().Truncate(time.Microsecond)
	}
	return t.UTC()
}

// blob encodes b for a nullable BLOB or bytea column.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func seedUsers(s *seeder) {
	for _, u := range []store.User{
		{Username: "ada", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdC1hZGE$aGFzaC1hZGE", Role: store.RoleAdmin, CreatedAt: at(0)},
		{Username: "bob", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdC1ib2I$aGFzaC1ib2I", Role: store.RoleMember, CreatedAt: at(1)},
	} {
		u.ID = s.insert(`INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			u.Username, u.PasswordHash, u.Role, s.time(u.CreatedAt))
		u.CreatedAt = s.kept(u.CreatedAt)
		s.want.users = append(s.want.users, u)
	}
	ada, bob := s.want.userID("ada"), s.want.userID("bob")

	for _, sess := range []store.Session{
		{TokenHash: "sess-ada", UserID: ada, CreatedAt: at(2), ExpiresAt: never},
		{TokenHash: "sess-bob-old", UserID: bob, CreatedAt: at(3), ExpiresAt: at(4)},
	} {
		s.exec(`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			sess.TokenHash, sess.UserID, s.time(sess.CreatedAt), s.time(sess.ExpiresAt))
		if sess.ExpiresAt == never {
			sess.CreatedAt, sess.ExpiresAt = s.kept(sess.CreatedAt), s.kept(sess.ExpiresAt)
			s.want.sessions = append(s.want.sessions, sess)
		} else {
			s.want.expiredSession = append(s.want.expiredSession, sess.TokenHash)
		}
	}

	for _, k := range []store.APIKey{
		{UserID: bob, Name: "ci", TokenHash: "key-hash-ci", Prefix: "pic_ci01", CreatedAt: at(5), LastUsed: at(6)},
		{UserID: ada, Name: "laptop", TokenHash: "key-hash-laptop", Prefix: "pic_lap0", CreatedAt: at(7)}, // never used
	} {
		k.ID = s.insert(`INSERT INTO api_keys (user_id, name, token_hash, prefix, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			k.UserID, k.Name, k.TokenHash, k.Prefix, s.time(k.CreatedAt), s.nullTime(k.LastUsed))
		k.CreatedAt, k.LastUsed = s.kept(k.CreatedAt), s.kept(k.LastUsed)
		s.want.apiKeys = append(s.want.apiKeys, k)
	}
}

func seedApps(s *seeder) {
	shop := store.App{
		Slug: "shop", Name: "Shop", Description: "orders and webhooks", CreatedAt: at(8),
		Limits: store.AppLimits{
			TimeoutMS: 1500, MaxOperations: 200000, MaxBodyBytes: 65536, MaxMemoryMB: 32,
			KVMaxKeys: 100, MaxRunningJobs: 2, MaxQueuedBytes: 1 << 20,
		},
	}
	// The limits as the program of the time wrote them, by hand here so
	// that the test does not read back its own encoding.
	limits := `{"timeout_ms":1500,"max_operations":200000,"max_body_bytes":65536,"max_memory_mb":32,"kv_max_keys":100,"max_running_jobs":2,"max_queued_bytes":1048576}`
	shop.ID = s.insert(`INSERT INTO apps (slug, name, description, limits, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		shop.Slug, shop.Name, shop.Description, limits, s.time(shop.CreatedAt))
	shop.CreatedAt = s.kept(shop.CreatedAt)
	s.want.apps = append(s.want.apps, shop)

	// An app with the defaults of every column.
	bare := store.App{Slug: "bare", CreatedAt: at(9)}
	bare.ID = s.insert(`INSERT INTO apps (slug, created_at) VALUES (?, ?) RETURNING id`, bare.Slug, s.time(bare.CreatedAt))
	bare.CreatedAt = s.kept(bare.CreatedAt)
	s.want.apps = append(s.want.apps, bare)

	m := store.Member{AppID: shop.ID, UserID: s.want.userID("bob"), Username: "bob", Role: store.AppRoleEditor, CreatedAt: at(9)}
	s.exec(`INSERT INTO members (app_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, m.AppID, m.UserID, m.Role, s.time(m.CreatedAt))
	m.CreatedAt = s.kept(m.CreatedAt)
	s.want.members = append(s.want.members, m)
}

// version is a version of a script to write.
type version struct {
	app, script, source string
	by                  string // the author's user name; "" for none (a deleted user)
	at                  time.Time
	rolledBackFrom      int  // from migration 8
	private             bool // the script's, when it is created; from migration 15
}

// deploy writes v as the next version of its script, creating the script
// with it, and makes it live. The columns of later migrations are named
// only when v sets them.
func (s *seeder) deploy(v version) {
	s.t.Helper()
	app := s.want.app(v.app)
	var sc *store.Script
	if i := slices.IndexFunc(s.want.scripts, func(sc store.Script) bool { return sc.AppID == app.ID && sc.Name == v.script }); i >= 0 {
		sc = &s.want.scripts[i]
	} else {
		created := store.Script{AppID: app.ID, AppSlug: app.Slug, Name: v.script, CreatedAt: s.kept(v.at), Private: v.private}
		cols, args := "app_id, name, live_version, created_at, updated_at", []any{app.ID, v.script, 0, s.time(v.at), s.time(v.at)}
		if v.private {
			cols, args = cols+", private", append(args, true)
		}
		created.ID = s.insert(`INSERT INTO scripts (`+cols+`) VALUES (`+placeholders(len(args))+`) RETURNING id`, args...)
		s.want.scripts = append(s.want.scripts, created)
		sc = &s.want.scripts[len(s.want.scripts)-1]
	}

	ver := store.Version{ScriptID: sc.ID, Version: sc.LiveVersion + 1, Source: v.source, CreatedAt: s.kept(v.at), RolledBackFrom: v.rolledBackFrom}
	var by any
	if v.by != "" {
		ver.CreatedBy = s.want.userID(v.by)
		by = ver.CreatedBy
	}
	cols, args := "script_id, version, source, created_by, created_at", []any{ver.ScriptID, ver.Version, ver.Source, by, s.time(v.at)}
	if v.rolledBackFrom != 0 {
		cols, args = cols+", rolled_back_from", append(args, v.rolledBackFrom)
	}
	s.exec(`INSERT INTO versions (`+cols+`) VALUES (`+placeholders(len(args))+`)`, args...)
	s.exec(`UPDATE scripts SET live_version = ?, updated_at = ? WHERE id = ?`, ver.Version, s.time(v.at), sc.ID)
	sc.LiveVersion, sc.UpdatedAt = ver.Version, s.kept(v.at)
	s.want.versions = append(s.want.versions, ver)
}

// placeholders returns n placeholders, comma-separated.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func seedScripts(s *seeder) {
	s.deploy(version{app: "shop", script: "hello", source: `"hello, world"`, by: "ada", at: at(10)})
	s.deploy(version{app: "shop", script: "hello", source: "let name = \"ünïcode\";\n`hello, ${name}`", by: "bob", at: at(12)})
	s.deploy(version{app: "shop", script: "nightly", source: `kv::incr("runs", 1)`, at: at(14)})
}

// invocation writes inv. The columns of later migrations are named only
// when inv sets them: job_id and attempt (migration 5), request and
// response (migration 9). A recorded exchange counts in the app's
// recording usage.
func (s *seeder) invocation(inv store.Invocation) {
	s.t.Helper()
	app := s.want.app("shop")
	if inv.AppID == 0 {
		inv.AppID, inv.AppSlug = app.ID, app.Slug
	}
	cols := "id, app_id, script, version, trigger_type, started_at, duration, status, http_status, operations, summary, output"
	args := []any{inv.ID, inv.AppID, inv.Script, inv.Version, inv.Trigger, s.time(inv.StartedAt), int64(inv.Duration),
		inv.Status, inv.HTTPStatus, inv.Operations, inv.Summary, inv.Output}
	if inv.JobID != "" || inv.Attempt != 0 {
		cols, args = cols+", job_id, attempt", append(args, inv.JobID, inv.Attempt)
	}
	if inv.Request != nil || inv.Response != nil {
		req, resp := store.EncodeRequest(inv.Request), store.EncodeResponse(inv.Response)
		cols, args = cols+", request, response", append(args, blob(req), blob(resp))
		s.want.recorded[inv.AppID] += int64(len(req) + len(resp))
	}
	s.exec(`INSERT INTO invocations (`+cols+`) VALUES (`+placeholders(len(args))+`)`, args...)
	inv.StartedAt = s.kept(inv.StartedAt)
	s.want.invocations = append(s.want.invocations, inv)
}

func seedInvocations(s *seeder) {
	s.invocation(store.Invocation{
		ID: "inv-01", Script: "hello", Version: 1, Trigger: store.TriggerHTTP, StartedAt: at(20),
		Duration: 1500*time.Microsecond + 7, Status: store.StatusOK, HTTPStatus: 200, Operations: 1234,
		Summary: "200 OK", Output: "hello\n",
	})
	s.invocation(store.Invocation{
		ID: "inv-02", Script: "hello", Version: 2, Trigger: store.TriggerHTTP, StartedAt: at(21),
		Duration: 2 * time.Second, Status: store.StatusTimeout, HTTPStatus: 504, Operations: 9_000_000,
		Summary: "timed out after 2s", Output: "",
	})
}

// job writes j with every column of migration 5.
func (s *seeder) job(j store.Job) {
	s.t.Helper()
	app := s.want.app("shop")
	j.AppID, j.AppSlug = app.ID, app.Slug
	s.exec(`INSERT INTO jobs (id, app_id, script, trigger_type, state, attempts, max_attempts, run_at, owner, request,
			schedule_id, scheduled_at, payload, last_invocation, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.AppID, j.Script, j.Trigger, j.State, j.Attempts, j.MaxAttempts, s.time(j.RunAt), j.Owner, blob(j.Request),
		j.ScheduleID, s.time(j.ScheduledAt), j.Payload, j.LastInvocation, s.time(j.CreatedAt), s.time(j.UpdatedAt))
	j.RunAt, j.ScheduledAt, j.CreatedAt, j.UpdatedAt = s.kept(j.RunAt), s.kept(j.ScheduledAt), s.kept(j.CreatedAt), s.kept(j.UpdatedAt)
	s.want.jobs = append(s.want.jobs, j)
}

// schedule writes sc with every column of migration 5.
func (s *seeder) schedule(sc store.Schedule) {
	s.t.Helper()
	script := s.want.script(sc.Script)
	sc.AppID, sc.AppSlug, sc.ScriptID = script.AppID, script.AppSlug, script.ID
	sc.ID = s.insert(`INSERT INTO schedules (app_id, script_id, cron, timezone, payload, enabled, next_run, last_run, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		sc.AppID, sc.ScriptID, sc.Cron, sc.Timezone, sc.Payload, sc.Enabled, s.time(sc.NextRun), s.time(sc.LastRun),
		s.time(sc.CreatedAt), s.time(sc.UpdatedAt))
	sc.NextRun, sc.LastRun, sc.CreatedAt, sc.UpdatedAt = s.kept(sc.NextRun), s.kept(sc.LastRun), s.kept(sc.CreatedAt), s.kept(sc.UpdatedAt)
	s.want.schedules = append(s.want.schedules, sc)
}

// request is an async job's stored request, with a byte that text
// columns would refuse.
func request(path string, body string) []byte {
	return store.EncodeRequest(&store.HTTPRequest{
		Method: http.MethodPost, Path: path, Header: http.Header{"Content-Type": {"application/octet-stream"}},
		Host: "pi.example", Body: []byte(body), BodySize: len(body),
	})
}

func seedQueue(s *seeder) {
	hello := s.want.script("hello")
	s.exec(`UPDATE scripts SET max_attempts = ? WHERE id = ?`, 5, hello.ID)
	hello.MaxAttempts = 5

	s.schedule(store.Schedule{
		Script: "nightly", Cron: "0 3 * * *", Timezone: "Europe/Paris", Payload: `{"full":true}`, Enabled: true,
		NextRun: at(100), LastRun: at(40), CreatedAt: at(30), UpdatedAt: at(31),
	})
	// Disabled, never fired: no next run, no last run.
	s.schedule(store.Schedule{
		Script: "hello", Cron: "*/5 * * * *", Timezone: "UTC", CreatedAt: at(32), UpdatedAt: at(33),
	})
	nightly := s.want.schedule("0 3 * * *")

	s.job(store.Job{ID: "job-queued", Script: "hello", Trigger: store.TriggerAsync, State: store.JobQueued, MaxAttempts: 5,
		RunAt: at(50), Request: request("/orders", "{\"id\":1}\x00"), CreatedAt: at(50), UpdatedAt: at(50)})
	s.job(store.Job{ID: "job-running", Script: "hello", Trigger: store.TriggerAsync, State: store.JobRunning, Attempts: 1, MaxAttempts: 5,
		RunAt: at(62), Owner: "node-a", Request: request("/orders/2", "second"), CreatedAt: at(51), UpdatedAt: at(61)})
	s.job(store.Job{ID: "job-retry", Script: "hello", Trigger: store.TriggerAsync, State: store.JobError, Attempts: 1, MaxAttempts: 5,
		RunAt: at(70), Request: request("", ""), LastInvocation: "inv-03", CreatedAt: at(52), UpdatedAt: at(60)})
	s.job(store.Job{ID: "job-done", Script: "hello", Trigger: store.TriggerAsync, State: store.JobOK, Attempts: 1, MaxAttempts: 5,
		LastInvocation: "inv-03", CreatedAt: at(53), UpdatedAt: at(56)})
	s.job(store.Job{ID: "job-dead", Script: "hello", Trigger: store.TriggerAsync, State: store.JobDead, Attempts: 3, MaxAttempts: 3,
		CreatedAt: at(54), UpdatedAt: at(58)})
	s.job(store.Job{ID: "job-nightly", Script: "nightly", Trigger: store.TriggerSchedule, State: store.JobQueued, MaxAttempts: 3,
		RunAt: at(40), ScheduleID: nightly.ID, ScheduledAt: at(40), Payload: nightly.Payload, CreatedAt: at(40), UpdatedAt: at(40)})

	s.invocation(store.Invocation{
		ID: "inv-03", Script: "hello", Version: 2, Trigger: store.TriggerAsync, StartedAt: at(55),
		Duration: 3 * time.Millisecond, Status: store.StatusError, HTTPStatus: 500, Operations: 77,
		Summary: "runtime error: no such key", Output: "debug: trying\n", JobID: "job-done", Attempt: 1,
	})
}

func seedOutbound(s *seeder) {
	// The form stored before the private list existed: its allow-list is
	// the private list too (see store.AppOutbound).
	shop := s.want.app("shop")
	s.exec(`UPDATE apps SET outbound = ? WHERE id = ?`,
		`{"allow":["api.example.com","10.0.0.0/8"],"allow_private":true}`, shop.ID)
	shop.Outbound = store.AppOutbound{
		Allow:   []string{"api.example.com", "10.0.0.0/8"},
		Private: []string{"api.example.com", "10.0.0.0/8"},
	}
}

func seedSecret(s *seeder) {
	sec := store.Secret{AppID: s.want.app("shop").ID, Name: "STRIPE_KEY", Sealed: []byte{0, 1, 0xfe, 'x', 0}, CreatedAt: at(80), UpdatedAt: at(81)}
	s.exec(`INSERT INTO app_secrets (app_id, name, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		sec.AppID, sec.Name, sec.Sealed, s.time(sec.CreatedAt), s.time(sec.UpdatedAt))
	sec.CreatedAt, sec.UpdatedAt = s.kept(sec.CreatedAt), s.kept(sec.UpdatedAt)
	s.want.secrets = append(s.want.secrets, sec)
}

func seedRollback(s *seeder) {
	s.deploy(version{app: "shop", script: "hello", source: `"hello, world"`, by: "bob", at: at(85), rolledBackFrom: 1})
}

func seedExchanges(s *seeder) {
	s.invocation(store.Invocation{
		ID: "inv-04", Script: "hello", Version: 3, Trigger: store.TriggerHTTP, StartedAt: at(90),
		Duration: 800 * time.Microsecond, Status: store.StatusOK, HTTPStatus: 201, Operations: 42, Summary: "201 Created",
		Request: &store.HTTPRequest{
			Method: http.MethodPost, Path: "/orders", Query: "dry=1&tag=a%20b", Host: "pi.example",
			Header: http.Header{"Content-Type": {"application/json"}, "X-Trace": {"a", "b"}},
			Body:   []byte(`{"sku":"ü-1","n":2}`), BodySize: len(`{"sku":"ü-1","n":2}`),
		},
		Response: &store.HTTPResponse{
			Status: 201, Header: http.Header{"Location": {"/orders/9"}},
			Body: []byte(`{"id":9}`), BodySize: 8,
		},
	})
	s.invocation(store.Invocation{
		ID: "inv-05", Script: "hello", Version: 3, Trigger: store.TriggerReplay, StartedAt: at(91),
		Duration: time.Millisecond, Status: store.StatusError, HTTPStatus: 502, Operations: 3, Summary: "upstream failed",
		Request: &store.HTTPRequest{
			Method: http.MethodPut, Path: "/blob", Body: []byte{0xff, 0x00, 0x80}, BodySize: 4096, BodyTruncated: true,
		},
		Response: &store.HTTPResponse{Status: 502},
	})
}

func seedKV(s *seeder) {
	shop := s.want.app("shop")
	var keys, bytes int64
	for _, r := range []kvRow{
		{entry: store.KVEntry{Key: "counter", Value: []byte("41"), UpdatedAt: at(95)}},
		{entry: store.KVEntry{Key: "cart:7", Value: []byte(`{"items":[1,2],"note":"ß"}`), ExpiresAt: at(500), UpdatedAt: at(96)}},
		{entry: store.KVEntry{Key: "token:old", Value: []byte(`"x"`), ExpiresAt: at(150), UpdatedAt: at(97)}, expired: true},
	} {
		r.appID = shop.ID
		r.entry.Size = int64(len(r.entry.Value))
		s.exec(`INSERT INTO kv (app_id, key, value, size, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.appID, r.entry.Key, string(r.entry.Value), r.entry.Size, s.nullTime(r.entry.ExpiresAt), s.time(r.entry.UpdatedAt))
		r.entry.ExpiresAt, r.entry.UpdatedAt = s.kept(r.entry.ExpiresAt), s.kept(r.entry.UpdatedAt)
		s.want.kv = append(s.want.kv, r)
		keys++
		bytes += int64(len(r.entry.Key)) + r.entry.Size
	}
	// The totals that every write kept with the keys.
	s.exec(`INSERT INTO kv_usage (app_id, keys, bytes) VALUES (?, ?, ?)`, shop.ID, keys, bytes)
}

func seedRecordingUsage(s *seeder) {
	// The totals that every write of a record kept from migration 13 on;
	// a later step that records exchanges adds its own.
	for _, app := range s.want.apps {
		if n, ok := s.want.recorded[app.ID]; ok {
			s.exec(`INSERT INTO recording_usage (app_id, bytes) VALUES (?, ?)`, app.ID, n)
		}
	}
}

func seedPrivate(s *seeder) {
	s.deploy(version{app: "shop", script: "lib", source: `fn twice(x) { x * 2 }`, by: "ada", at: at(110), private: true})
}

// checkFixture reads every row of want back through the store.
func checkFixture(t *testing.T, st store.Store, want *fixture) {
	t.Helper()
	ctx := t.Context()
	// Lists are compared whole; an empty list is never nil.
	same := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
		if gv.Kind() == reflect.Slice && gv.IsNil() {
			t.Errorf("%s: a nil list", what)
			return
		}
		if gv.Kind() == reflect.Slice && gv.Len() == 0 && wv.Len() == 0 {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
		}
	}
	notFound := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v; want store.ErrNotFound", what, err)
		}
	}

	// Users, sessions and API keys.
	users := sortedBy(want.users, func(a, b store.User) bool { return a.Username < b.Username })
	got, err := st.ListUsers(ctx)
	same("ListUsers", got, users, err)
	for _, u := range want.users {
		got, err := st.GetUser(ctx, u.ID)
		same("GetUser "+u.Username, got, u, err)
	}
	for _, sess := range want.sessions {
		got, err := st.GetSession(ctx, sess.TokenHash)
		same("GetSession "+sess.TokenHash, got, sess, err)
	}
	for _, hash := range want.expiredSession {
		_, err := st.GetSession(ctx, hash)
		notFound("GetSession of the expired "+hash, err)
	}
	for _, k := range want.apiKeys {
		got, err := st.GetAPIKeyByHash(ctx, k.TokenHash)
		same("GetAPIKeyByHash "+k.Name, got, k, err)
	}
	for _, u := range want.users {
		keys := filter(want.apiKeys, func(k store.APIKey) bool { return k.UserID == u.ID })
		got, err := st.ListAPIKeys(ctx, u.ID)
		same("ListAPIKeys of "+u.Username, got, keys, err)
	}

	// Apps and members.
	apps := sortedBy(want.apps, func(a, b store.App) bool { return a.Slug < b.Slug })
	gotApps, err := st.ListApps(ctx)
	same("ListApps", gotApps, apps, err)
	for _, a := range want.apps {
		got, err := st.GetApp(ctx, a.Slug)
		same("GetApp "+a.Slug, got, a, err)
		members := sortedBy(filter(want.members, func(m store.Member) bool { return m.AppID == a.ID }),
			func(x, y store.Member) bool { return x.Username < y.Username })
		gotMembers, err := st.ListMembers(ctx, a.ID)
		same("ListMembers of "+a.Slug, gotMembers, members, err)
	}
	for _, m := range want.members {
		got, err := st.GetMember(ctx, m.AppID, m.UserID)
		same("GetMember "+m.Username, got, m, err)
	}

	// Scripts and versions.
	for _, a := range want.apps {
		scripts := sortedBy(filter(want.scripts, func(sc store.Script) bool { return sc.AppID == a.ID }),
			func(x, y store.Script) bool { return x.Name < y.Name })
		got, err := st.ListScripts(ctx, a.ID)
		same("ListScripts of "+a.Slug, got, scripts, err)
	}
	for _, sc := range want.scripts {
		got, err := st.GetScript(ctx, sc.AppID, sc.Name)
		same("GetScript "+sc.Name, got, sc, err)

		versions := filter(want.versions, func(v store.Version) bool { return v.ScriptID == sc.ID })
		listed := make([]store.Version, len(versions))
		for i, v := range versions {
			v.Source = "" // lists leave it out
			listed[i] = v
			got, err := st.GetVersion(ctx, sc.ID, v.Version)
			same(fmt.Sprintf("GetVersion %s %d", sc.Name, v.Version), got, versions[i], err)
		}
		gotVersions, err := st.ListVersions(ctx, sc.ID)
		same("ListVersions "+sc.Name, gotVersions, listed, err)

		// The data plane's read: RolledBackFrom is not part of it.
		live, err := st.GetLiveScript(ctx, sc.AppSlug, sc.Name)
		liveVersion := versions[len(versions)-1]
		liveVersion.RolledBackFrom = live.Version.RolledBackFrom
		same("GetLiveScript "+sc.Name, live, store.LiveScript{App: *want.app(sc.AppSlug), Script: sc, Version: liveVersion}, err)
	}

	// Invocation records: lists newest first, without the exchange.
	for _, inv := range want.invocations {
		got, err := st.GetInvocation(ctx, inv.ID)
		same("GetInvocation "+inv.ID, got, inv, err)
	}
	for _, a := range want.apps {
		invs := sortedBy(filter(want.invocations, func(i store.Invocation) bool { return i.AppID == a.ID }),
			func(x, y store.Invocation) bool {
				return x.StartedAt.After(y.StartedAt) || x.StartedAt.Equal(y.StartedAt) && x.ID > y.ID
			})
		for i := range invs {
			invs[i].Request, invs[i].Response = nil, nil
		}
		got, err := st.ListInvocations(ctx, store.InvocationFilter{AppID: a.ID, Limit: 100})
		same("ListInvocations of "+a.Slug, got, invs, err)
	}

	// Schedules.
	gotSchedules, err := st.ListSchedules(ctx, 0)
	same("ListSchedules", gotSchedules, want.schedules, err)
	var due []store.Schedule
	var next time.Time
	for _, sc := range want.schedules {
		got, err := st.GetSchedule(ctx, sc.ID)
		same(fmt.Sprintf("GetSchedule %d", sc.ID), got, sc, err)
		if sc.Enabled && !sc.NextRun.IsZero() {
			due = append(due, sc)
			if next.IsZero() || sc.NextRun.Before(next) {
				next = sc.NextRun
			}
		}
	}
	gotDue, err := st.DueSchedules(ctx, at(1000), 100)
	same("DueSchedules", gotDue, due, err)
	gotNext, err := st.NextScheduleRun(ctx)
	same("NextScheduleRun", gotNext, next, err)

	// Jobs: lists newest first, without the request.
	for _, j := range want.jobs {
		got, err := st.GetJob(ctx, j.ID)
		same("GetJob "+j.ID, got, j, err)
	}
	jobs := sortedBy(want.jobs, func(x, y store.Job) bool {
		return x.CreatedAt.After(y.CreatedAt) || x.CreatedAt.Equal(y.CreatedAt) && x.ID > y.ID
	})
	for i := range jobs {
		jobs[i].Request = nil
	}
	gotJobs, err := st.ListJobs(ctx, store.JobFilter{Limit: 100})
	same("ListJobs", gotJobs, jobs, err)

	// Secrets.
	for _, a := range want.apps {
		secrets := sortedBy(filter(want.secrets, func(s store.Secret) bool { return s.AppID == a.ID }),
			func(x, y store.Secret) bool { return x.Name < y.Name })
		got, err := st.ListSecretValues(ctx, a.ID)
		same("ListSecretValues of "+a.Slug, got, secrets, err)
		for i := range secrets {
			secrets[i].Sealed = nil
		}
		got, err = st.ListSecrets(ctx, a.ID)
		same("ListSecrets of "+a.Slug, got, secrets, err)
	}

	// The key-value store: expired keys read as absent but count until
	// they are purged.
	for _, a := range want.apps {
		var live []store.KVEntry
		var usage store.KVUsage
		for _, r := range want.kv {
			if r.appID != a.ID {
				continue
			}
			usage.Keys++
			usage.Bytes += int64(len(r.entry.Key)) + r.entry.Size
			got, err := st.KVGet(ctx, a.ID, r.entry.Key, kvNow)
			if r.expired {
				notFound("KVGet of the expired "+r.entry.Key, err)
				continue
			}
			same("KVGet "+r.entry.Key, got, r.entry, err)
			listed := r.entry
			listed.Value = nil
			live = append(live, listed)
		}
		slices.SortFunc(live, func(x, y store.KVEntry) int { return strings.Compare(x.Key, y.Key) })
		got, err := st.KVList(ctx, a.ID, store.KVFilter{}, kvNow)
		same("KVList of "+a.Slug, got, live, err)
		gotUsage, err := st.KVUsage(ctx, a.ID)
		same("KVUsage of "+a.Slug, gotUsage, usage, err)
	}

	// Storage usage: computed by migrations 13 and 14 from the rows they
	// found, kept by the writes and triggers after.
	for _, a := range want.apps {
		gotUsage, err := st.AppUsage(ctx, a.ID)
		same("AppUsage of "+a.Slug, gotUsage, want.usage(a.ID), err)
	}
}

// usage is the storage usage of the app's rows.
func (f *fixture) usage(appID int64) store.AppUsage {
	u := store.AppUsage{RecordedBytes: f.recorded[appID]}
	for _, j := range f.jobs {
		if j.AppID == appID && (j.State == store.JobQueued || j.State == store.JobError || j.State == store.JobRunning) {
			u.QueuedJobs++
			u.QueuedBytes += int64(len(j.Request))
		}
	}
	return u
}

// checkWritable writes to the upgraded database where the seeded rows
// continue: identities, versions, queue and key-value totals go on from
// them.
func checkWritable(t *testing.T, st store.Store, want *fixture) {
	t.Helper()
	ctx := t.Context()
	u := store.User{Username: "carol", PasswordHash: "h", Role: store.RoleMember}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatalf("CreateUser after the upgrade: %v", err)
	}
	for _, old := range want.users {
		if u.ID == old.ID {
			t.Errorf("a new user took the ID %d of %s", u.ID, old.Username)
		}
	}
	if len(want.apps) == 0 {
		return
	}

	shop := want.app("shop")
	if len(want.scripts) > 0 {
		hello := want.script("hello")
		sc, v, err := st.DeployScript(ctx, shop.ID, "hello", `"again"`, u.ID)
		if err != nil {
			t.Fatalf("DeployScript after the upgrade: %v", err)
		}
		if v.Version != hello.LiveVersion+1 || sc.LiveVersion != v.Version || sc.MaxAttempts != hello.MaxAttempts || sc.Private {
			t.Errorf("DeployScript after the upgrade: %+v, version %d; want version %d, max attempts %d, public",
				sc, v.Version, hello.LiveVersion+1, hello.MaxAttempts)
		}
	}

	before := want.usage(shop.ID)
	j := store.Job{ID: "job-after-upgrade", AppID: shop.ID, Script: "hello", Trigger: store.TriggerAsync,
		MaxAttempts: 3, RunAt: time.Now(), Request: []byte("1234567")}
	if err := st.EnqueueJob(ctx, &j, 0); err != nil {
		t.Fatalf("EnqueueJob after the upgrade: %v", err)
	}
	gotUsage, err := st.AppUsage(ctx, shop.ID)
	wantUsage := before
	wantUsage.QueuedJobs++
	wantUsage.QueuedBytes += int64(len(j.Request))
	if err != nil || gotUsage != wantUsage {
		t.Errorf("AppUsage after an enqueue = %+v, %v; want %+v", gotUsage, err, wantUsage)
	}

	if len(want.kv) == 0 {
		return
	}
	n, err := st.KVIncr(ctx, shop.ID, "counter", 1, store.DefaultKVLimits(), kvNow)
	if err != nil || n != 42 {
		t.Errorf("KVIncr of the seeded counter = %d, %v; want 42", n, err)
	}
}

func filter[T any](xs []T, keep func(T) bool) []T {
	out := []T{}
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func sortedBy[T any](xs []T, less func(a, b T) bool) []T {
	out := slices.Clone(xs)
	slices.SortStableFunc(out, func(a, b T) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
	return out
}
