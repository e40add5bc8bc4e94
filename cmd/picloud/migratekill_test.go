package main

// kill -9 during the schema migrations of a server's first start on an
// older database: the next start finishes them, and no row is lost.

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store/sqlstore"
)

// oldVersion is the schema version of the database the test upgrades: the
// migrations after it compute each app's recording usage over its
// invocation records (13) and queue usage over its pending jobs (14),
// which take a while on many rows.
const oldVersion = 12

// oldDatabase is what the test puts in a database at oldVersion, and what
// must be there, with the usage tables the later migrations compute, once
// the server has upgraded it.
type oldDatabase struct {
	path        string
	apps        int
	invocations int
	jobs        int // all queued, due in a year: the server leaves them be
	kv          int
	// per app: bytes of the invocations' exchanges; pending jobs and
	// the bytes of their requests
	recorded  map[int64]int64
	queued    map[int64][2]int64
	samples   map[string][2][]byte // invocation id → request, response
	startedAt int64
}

// buildOldDatabase writes, through raw SQL at schema version oldVersion
// (as the PiCloud of that version left its database), apps with a script,
// many invocation records with their HTTP exchanges, many queued jobs and
// some keys.
func buildOldDatabase(t *testing.T, path string, apps, invocations, jobs int) *oldDatabase {
	t.Helper()
	if err := sqlstore.MigrateSQLite(path, oldVersion); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != oldVersion {
		t.Fatalf("the database built is at version %d (%v), want %d", v, err, oldVersion)
	}
	o := &oldDatabase{path: path, apps: apps, invocations: invocations, jobs: jobs, kv: 500,
		recorded: map[int64]int64{}, queued: map[int64][2]int64{}, samples: map[string][2][]byte{}}
	now := time.Now().UnixNano()
	o.startedAt = now
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for a := 1; a <= apps; a++ {
		exec(`INSERT INTO apps (id, slug, name, created_at) VALUES (?, ?, ?, ?)`, a, fmt.Sprintf("app-%d", a), fmt.Sprintf("App %d", a), now)
		exec(`INSERT INTO scripts (id, app_id, name, live_version, created_at, updated_at) VALUES (?, ?, 'hello', 1, ?, ?)`, a, a, now, now)
		exec(`INSERT INTO versions (script_id, version, source, created_at) VALUES (?, 1, ?, ?)`, a, fmt.Sprintf(`"hello from app %d"`, a), now)
	}
	inv, err := tx.Prepare(`INSERT INTO invocations (id, app_id, script, version, trigger_type, started_at, duration, status, http_status,
		operations, summary, output, request, response) VALUES (?, ?, 'hello', 1, 'http', ?, 1000, 'ok', 200, 10, 'ok', '', ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range invocations {
		app := int64(i%apps + 1)
		req := bytes.Repeat([]byte{byte('a' + i%26)}, 60+i%40)
		resp := bytes.Repeat([]byte{byte('A' + i%26)}, 20+i%30)
		id := fmt.Sprintf("inv%023d", i)
		// Recent, so that the server's retention keeps them.
		if _, err := inv.Exec(id, app, now-int64(i)*int64(time.Millisecond), req, resp); err != nil {
			t.Fatal(err)
		}
		o.recorded[app] += int64(len(req) + len(resp))
		if i%9973 == 0 {
			o.samples[id] = [2][]byte{req, resp}
		}
	}
	inv.Close()
	job, err := tx.Prepare(`INSERT INTO jobs (id, app_id, script, trigger_type, state, max_attempts, run_at, request, created_at, updated_at)
		VALUES (?, ?, 'hello', 'async', 'queued', 3, ?, ?, ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	later := now + int64(365*24*time.Hour)
	for i := range jobs {
		app := int64(i%apps + 1)
		req := bytes.Repeat([]byte{'j'}, 30+i%20)
		if _, err := job.Exec(fmt.Sprintf("job%023d", i), app, later, req, now, now); err != nil {
			t.Fatal(err)
		}
		q := o.queued[app]
		o.queued[app] = [2]int64{q[0] + 1, q[1] + int64(len(req))}
	}
	job.Close()
	var kvBytes int64
	for i := range o.kv {
		key, val := fmt.Sprintf("key/%04d", i), fmt.Sprintf("%d", i)
		exec(`INSERT INTO kv (app_id, key, value, size, updated_at) VALUES (1, ?, ?, ?, ?)`, key, val, len(val), now)
		kvBytes += int64(len(key) + len(val))
	}
	exec(`INSERT INTO kv_usage (app_id, keys, bytes) VALUES (1, ?, ?)`, o.kv, kvBytes)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// As a server stopped cleanly leaves it: the log checkpointed.
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	return o
}

// copyDatabase copies the database file src (without a log) to a new data
// directory and returns the directory.
func copyDatabase(t *testing.T, src string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(filepath.Join(dir, "picloud.db"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rawVersion reads the schema version of the database at path with a
// connection of its own, as the file is: its log is applied, nothing is
// migrated.
func rawVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// check compares the database at path, upgraded, with what was put in it.
func (o *oldDatabase) check(t *testing.T, path string) {
	t.Helper()
	st, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if v := rawVersion(t, path); v != sqlstore.Migrations() {
		t.Errorf("schema version %d, want %d", v, sqlstore.Migrations())
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	for _, c := range []struct {
		table string
		want  int
	}{
		{"apps", o.apps}, {"scripts", o.apps}, {"versions", o.apps}, {"invocations", o.invocations},
		{"jobs", o.jobs}, {"kv", o.kv}, {"kv_usage", 1}, {"recording_usage", o.apps}, {"queue_usage", o.apps},
		{"users", 1},
	} {
		if got := count("SELECT count(*) FROM " + c.table); got != c.want {
			t.Errorf("%s: %d rows, want %d", c.table, got, c.want)
		}
	}
	if n := count(`SELECT count(*) FROM jobs WHERE state <> 'queued'`); n != 0 {
		t.Errorf("%d jobs are no longer queued", n)
	}
	if n := count(`SELECT count(*) FROM scripts WHERE private <> 0`); n != 0 {
		t.Errorf("%d scripts became private", n)
	}
	rows, err := db.Query(`SELECT r.app_id, r.bytes, q.jobs, q.bytes FROM recording_usage r JOIN queue_usage q USING (app_id) ORDER BY r.app_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var app, recorded, jobs, queued int64
		if err := rows.Scan(&app, &recorded, &jobs, &queued); err != nil {
			t.Fatal(err)
		}
		if recorded != o.recorded[app] || jobs != o.queued[app][0] || queued != o.queued[app][1] {
			t.Errorf("app %d: recorded %d bytes, %d jobs queued with %d bytes; want %d, %d, %d",
				app, recorded, jobs, queued, o.recorded[app], o.queued[app][0], o.queued[app][1])
		}
	}
	ids := make([]string, 0, len(o.samples))
	for id := range o.samples {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var req, resp []byte
		if err := db.QueryRow(`SELECT request, response FROM invocations WHERE id = ?`, id).Scan(&req, &resp); err != nil {
			t.Errorf("invocation %s: %v", id, err)
			continue
		}
		if !bytes.Equal(req, o.samples[id][0]) || !bytes.Equal(resp, o.samples[id][1]) {
			t.Errorf("invocation %s: request %q response %q", id, req, resp)
		}
	}
	var kv string
	if err := db.QueryRow(`SELECT value FROM kv WHERE app_id = 1 AND key = 'key/0123'`).Scan(&kv); err != nil || kv != "123" {
		t.Errorf("key/0123: %q, %v", kv, err)
	}
}

// serveUntilHealthy starts picloud serve on dataDir and returns it and
// when it first answered /healthz.
func serveUntilHealthy(t *testing.T, dataDir string) (*server, time.Duration) {
	t.Helper()
	addr := freePort(t)
	start := time.Now()
	s := startCmd(t, addr, exec.Command(binary, "serve", "--listen", addr, "--data", dataDir), []string{"PICLOUD_ADMIN_PASSWORD=first-password"})
	return s, time.Since(start)
}

// A server killed with SIGKILL at points during the migrations of its
// first start on an older database: the next start migrates it to the
// latest version, and every row is there, with the usage the migrations
// compute. Each kill point is a case of its own, on a copy of the same
// database.
func TestServerKilledDuringMigration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a database of 300 000 rows")
	}
	built := time.Now()
	o := buildOldDatabase(t, filepath.Join(t.TempDir(), "old.db"), 10, 200_000, 100_000)
	t.Logf("built the database at version %d in %v", oldVersion, time.Since(built).Round(time.Millisecond))

	// The migrations uninterrupted, for reference: how long the first
	// start takes, against a start on the upgraded database.
	ref := copyDatabase(t, o.path)
	s, first := serveUntilHealthy(t, ref)
	s.stop(t)
	s, again := serveUntilHealthy(t, ref)
	s.stop(t)
	o.check(t, filepath.Join(ref, "picloud.db"))
	t.Logf("first start (migrating) answered after %v; a start on the upgraded database after %v", first, again)

	// The kill points, spread over the first start: migration 13 takes
	// about its first half, 14 most of the rest (600 and 450 ms on a
	// laptop), 15 a few milliseconds; the last point comes after them.
	var versions []int
	for _, frac := range []float64{0.1, 0.3, 0.5, 0.65, 0.8, 0.95, 1.5} {
		at := time.Duration(frac * float64(first)).Round(time.Millisecond)
		t.Run(fmt.Sprintf("kill at %.0f%% (%v)", frac*100, at), func(t *testing.T) {
			dir := copyDatabase(t, o.path)
			path := filepath.Join(dir, "picloud.db")
			cmd := exec.Command(binary, "serve", "--listen", freePort(t), "--data", dir)
			cmd.Env = append(os.Environ(), "PICLOUD_ADMIN_PASSWORD=first-password")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(at)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			killedAt := rawVersion(t, path)
			versions = append(versions, killedAt)
			t.Logf("killed at schema version %d; listening: %v", killedAt, strings.Contains(stderr.String(), "PiCloud is listening"))

			s, _ := serveUntilHealthy(t, dir)
			token := s.login(t, "admin", "first-password")
			if got := s.mustDo(t, 200, "GET", "/api/v1/apps/app-3/scripts/hello", token, "", ""); !strings.Contains(got, `"source":"\"hello from app 3\""`) {
				t.Errorf("app-3/hello after the upgrade: %s", got)
			}
			s.stop(t)
			o.check(t, path)
		})
	}
	t.Logf("schema versions at the kills: %v", versions)
	// The points must have caught the migrations at work, else the test
	// proved nothing: some kill before the last migration committed, and
	// kills at different stages.
	slices.Sort(versions)
	stages := slices.Compact(slices.Clone(versions))
	if len(versions) == 0 || versions[0] == sqlstore.Migrations() || len(stages) < 2 {
		t.Errorf("the kills did not land at different stages of the migrations (versions %v): make the database larger", versions)
	}
}
