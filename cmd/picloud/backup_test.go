package main

// End-to-end tests of picloud backup and picloud restore, with the real
// binary: a backup made from another process while the server serves
// writes, restored into a new data directory for a new server; and the
// refusals, with their exit codes and messages.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store/dbtest"
)

// picloud runs the binary with args, with the environment of the test
// minus PiCloud's own variables, plus env; it returns the exit code and
// what the command wrote to stdout and stderr.
func picloud(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PICLOUD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// mustDo is do, failing unless the answer has the status want.
func (s *server) mustDo(t *testing.T, want int, method, path, token, contentType, body string) string {
	t.Helper()
	code, got, _ := s.do(t, method, path, token, contentType, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, got, want)
	}
	return got
}

// kvKeys lists every key of an app with a prefix, page by page.
func (s *server) kvKeys(t *testing.T, token, app, prefix string) []string {
	t.Helper()
	var keys []string
	after := ""
	for {
		body := s.mustDo(t, 200, "GET", fmt.Sprintf("/api/v1/apps/%s/kv?prefix=%s&after=%s&limit=1000",
			app, url.QueryEscape(prefix), url.QueryEscape(after)), token, "", "")
		var page []struct{ Key string }
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("kv list: %v: %s", err, body)
		}
		for _, k := range page {
			keys = append(keys, k.Key)
		}
		if len(page) < 1000 {
			return keys
		}
		after = page[len(page)-1].Key
	}
}

// value is the body the load stores under the key of its write i.
func value(i int64) string { return fmt.Sprintf("value %d %s", i, strings.Repeat("x", 200)) }

// A backup taken while the server serves writes — deploys of one script
// and KV writes through an endpoint, each acknowledged before the next —
// restores into a new data directory on which a new server serves the
// same apps, scripts, versions, KV values and secrets (with the key copied
// as the docs say): everything acknowledged before the backup began, and
// of what came during it a prefix, never a write without those before it.
func TestServerBackupRestore(t *testing.T) {
	db := newDatabase(t, dbtest.SQLite)
	dataDir := db.args[len(db.args)-1]
	env := []string{"PICLOUD_ADMIN_PASSWORD=first-password"}
	s := start(t, db, env...)
	token := s.login(t, "admin", "first-password")
	s.mustDo(t, 201, "POST", "/api/v1/apps", token, "application/json", `{"slug":"demo"}`)
	s.mustDo(t, 201, "POST", "/api/v1/apps", token, "application/json", `{"slug":"other","name":"Other app"}`)
	s.mustDo(t, 201, "PUT", "/api/v1/apps/demo/scripts/put", token, "text/plain", `kv::set(request.query.k, request.body); "stored"`)
	s.mustDo(t, 201, "PUT", "/api/v1/apps/demo/scripts/get", token, "text/plain", `kv::get(request.query.k) ?? "absent"`)
	s.mustDo(t, 201, "PUT", "/api/v1/apps/demo/scripts/secret", token, "text/plain", `if secret("TOKEN") == "s3cret-token" { "the secret is right" } else { "wrong" }`)
	s.mustDo(t, 201, "PUT", "/api/v1/apps/demo/secrets/TOKEN", token, "application/json", `{"value":"s3cret-token"}`)
	s.mustDo(t, 201, "PUT", "/api/v1/apps/other/scripts/hello", token, "text/plain", `"hello v1"`)
	s.mustDo(t, 200, "PUT", "/api/v1/apps/other/scripts/hello", token, "text/plain", `"hello v2"`)
	s.mustDo(t, 201, "PUT", "/api/v1/apps/demo/scripts/gen", token, "text/plain", `"gen 1"`)
	// Bulk, so that the copy takes a while: about 6 MB of values and
	// recorded request bodies.
	bulk := strings.Repeat("b", 10_000)
	for i := range 300 {
		s.mustDo(t, 200, "POST", fmt.Sprintf("/fn/demo/put?k=seed/%03d", i), "", "text/plain", fmt.Sprint(i, bulk))
	}
	wantApps := s.mustDo(t, 200, "GET", "/api/v1/apps", token, "", "")
	wantOther := s.mustDo(t, 200, "GET", "/api/v1/apps/other/scripts/hello/versions", token, "", "")

	// The load: KV writes w/1, w/2 … through the endpoint, and deploys of
	// gen 2, gen 3 …, each acknowledged before the next is sent.
	var kvAcked, deployAcked atomic.Int64
	deployAcked.Store(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var loadErr sync.Map
	load := func(name string, acked *atomic.Int64, send func(i int64) (int, string)) {
		defer wg.Done()
		for i := acked.Load() + 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if code, body := send(i); code != 200 && code != 201 {
				loadErr.Store(name, fmt.Sprintf("write %d: %d %s", i, code, body))
				return
			}
			acked.Store(i)
		}
	}
	wg.Add(2)
	go load("kv", &kvAcked, func(i int64) (int, string) {
		code, body, _ := s.do(t, "POST", fmt.Sprintf("/fn/demo/put?k=w/%06d", i), "", "text/plain", value(i))
		return code, body
	})
	go load("deploy", &deployAcked, func(i int64) (int, string) {
		code, body, _ := s.do(t, "PUT", "/api/v1/apps/demo/scripts/gen", token, "text/plain", fmt.Sprintf(`"gen %d"`, i))
		return code, body
	})
	for kvAcked.Load() < 20 || deployAcked.Load() < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	kvBefore, deployBefore := kvAcked.Load(), deployAcked.Load()
	file := filepath.Join(t.TempDir(), "picloud-backup.db")
	code, stdout, stderr := picloud(t, nil, "backup", file, "--data", dataDir)
	kvAfter, deployAfter := kvAcked.Load(), deployAcked.Load()
	close(stop)
	wg.Wait()
	loadErr.Range(func(k, v any) bool {
		t.Errorf("the %s load failed during the backup: %s", k, v)
		return true
	})
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("kv writes acknowledged: %d before the backup, %d after; deploys %d, %d\n%s", kvBefore, kvAfter, deployBefore, deployAfter, stdout)
	for _, want := range []string{
		fmt.Sprintf("backed up %s to %s (", filepath.Join(dataDir, "picloud.db"), file),
		"\nintegrity check: ok\n",
		"\nrows:\n",
		fmt.Sprintf("keep a copy of %s with it.", filepath.Join(dataDir, "secret.key")),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("backup output lacks %q:\n%s", want, stdout)
		}
	}
	if !regexp.MustCompile(`\n  apps +2\n`).MatchString(stdout) || !regexp.MustCompile(`\nschema version: \d+\n`).MatchString(stdout) {
		t.Errorf("backup output lacks the rows of apps or the schema version:\n%s", stdout)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup file: %v, %v; want mode 0600", fi, err)
	}
	s.stop(t)

	// Restore into a new data directory, copy the secret key into it,
	// start a server there.
	newDir := filepath.Join(t.TempDir(), "restored")
	code, stdout, stderr = picloud(t, nil, "restore", file, "--data", newDir)
	if code != 0 || stderr != "" {
		t.Fatalf("restore: exit %d\n%s%s", code, stdout, stderr)
	}
	want := fmt.Sprintf("restored %s into %s (", file, filepath.Join(newDir, "picloud.db"))
	if !strings.HasPrefix(stdout, want) || !strings.Contains(stdout, "\nintegrity check: ok\n") ||
		!strings.Contains(stdout, "The database holds 1 apps' secrets") {
		t.Errorf("restore output, want it to start %q and tell about the secret key:\n%s", want, stdout)
	}
	key, err := os.ReadFile(filepath.Join(dataDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(newDir, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	r := start(t, database{args: []string{"--data", newDir}}, env...)
	token = r.login(t, "admin", "first-password")
	if got := r.mustDo(t, 200, "GET", "/api/v1/apps", token, "", ""); got != wantApps {
		t.Errorf("apps after the restore:\n%s\nwant\n%s", got, wantApps)
	}
	if got := r.mustDo(t, 200, "GET", "/api/v1/apps/other/scripts/hello/versions", token, "", ""); got != wantOther {
		t.Errorf("versions of other/hello after the restore:\n%s\nwant\n%s", got, wantOther)
	}
	if got := r.mustDo(t, 200, "GET", "/fn/other/hello", "", "", ""); got != "hello v2" {
		t.Errorf("other/hello: %q", got)
	}
	if got := r.mustDo(t, 200, "GET", "/fn/demo/secret", "", "", ""); got != "the secret is right" {
		t.Errorf("demo/secret: %q", got)
	}
	for _, i := range []int{0, 150, 299} {
		if got := r.mustDo(t, 200, "GET", fmt.Sprintf("/fn/demo/get?k=seed/%03d", i), "", "", ""); got != fmt.Sprint(i, bulk) {
			t.Errorf("seed/%03d: %.30q…", i, got)
		}
	}

	// The KV writes: a prefix of the load, at least what was acknowledged
	// before the backup began, with their values.
	keys := r.kvKeys(t, token, "demo", "w/")
	n := int64(len(keys))
	if n < kvBefore || n > kvAfter {
		t.Errorf("the restored server has %d of the load's KV writes; %d were acknowledged before the backup, %d after it", n, kvBefore, kvAfter)
	}
	for i, k := range keys {
		if want := fmt.Sprintf("w/%06d", i+1); k != want {
			t.Fatalf("KV write %d of the backup is %s, want %s: the backup is not a snapshot", i+1, k, want)
		}
	}
	for _, i := range []int64{1, kvBefore, n} {
		if got := r.mustDo(t, 200, "GET", fmt.Sprintf("/fn/demo/get?k=w/%06d", i), "", "", ""); got != value(i) {
			t.Errorf("w/%06d: %q, want %q", i, got, value(i))
		}
	}

	// The deploys: versions 1 … v of gen, v at least the last deploy
	// acknowledged before the backup, and v live.
	var versions []struct {
		Version int64
		Live    bool
	}
	if err := json.Unmarshal([]byte(r.mustDo(t, 200, "GET", "/api/v1/apps/demo/scripts/gen/versions", token, "", "")), &versions); err != nil {
		t.Fatal(err)
	}
	v := int64(len(versions))
	if v < deployBefore || v > deployAfter {
		t.Errorf("the restored server has %d versions of gen; %d were acknowledged before the backup, %d after it", v, deployBefore, deployAfter)
	}
	for _, ver := range versions {
		if ver.Live != (ver.Version == v) {
			t.Errorf("version %d of gen: live %v (of %d versions)", ver.Version, ver.Live, v)
		}
	}
	if got := r.mustDo(t, 200, "GET", "/fn/demo/gen", "", "", ""); got != fmt.Sprint("gen ", v) {
		t.Errorf("demo/gen serves %q, want gen %d", got, v)
	}
	// The restored server takes writes.
	r.mustDo(t, 200, "POST", "/fn/demo/put?k=after-restore", "", "text/plain", "yes")
	if got := r.mustDo(t, 200, "GET", "/fn/demo/get?k=after-restore", "", "", ""); got != "yes" {
		t.Errorf("a write after the restore: %q", got)
	}
	r.stop(t)
}

// The refusals of backup and restore: what they say, their exit codes, and
// that they change nothing.
func TestServerBackupRefusals(t *testing.T) {
	db := newDatabase(t, dbtest.SQLite)
	dataDir := db.args[len(db.args)-1]
	s := start(t, db, "PICLOUD_ADMIN_PASSWORD=first-password")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	if code, stdout, stderr := picloud(t, nil, "backup", "--data", dataDir, good); code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout, stderr)
	}
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte("not a database at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyDir := filepath.Join(dir, "empty")
	dsn := "postgres://picloud:pa55word@db.example:5432/picloud?sslmode=require"

	for _, tc := range []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string // the first line, exactly
	}{
		{"backup over a file", nil, []string{"backup", notDB, "--data", dataDir}, 1,
			"picloud backup: the file exists: " + notDB + " (choose another name, or overwrite it with --force)"},
		{"backup without a database", nil, []string{"backup", filepath.Join(dir, "b.db"), "--data", emptyDir}, 1,
			"picloud backup: no such file: " + filepath.Join(emptyDir, "picloud.db")},
		{"backup without a file", nil, []string{"backup", "--data", dataDir}, 2, "picloud backup: missing FILE"},
		{"backup with two files", nil, []string{"backup", "a.db", "b.db"}, 2, `picloud backup: unexpected argument "b.db"`},
		{"backup on PostgreSQL", nil, []string{"backup", "pg.dump", "--db", dsn}, 2,
			"picloud backup: the database is PostgreSQL (--db or PICLOUD_DB); nothing was done."},
		{"backup on PostgreSQL from the environment", []string{"PICLOUD_DB=" + dsn}, []string{"backup", "pg.dump"}, 2,
			"picloud backup: the database is PostgreSQL (--db or PICLOUD_DB); nothing was done."},
		{"restore into a non-empty directory", nil, []string{"restore", good, "--data", dataDir}, 1,
			"picloud restore: the data directory is not empty: " + dataDir + " holds picloud.db, picloud.db-shm, picloud.db-wal, secret.key; restore into an empty directory, or replace its database with --force"},
		{"restore over a running server", nil, []string{"restore", good, "--data", dataDir, "--force"}, 1,
			"picloud restore: the database is in use: " + filepath.Join(dataDir, "picloud.db") + " is open in another process; stop the server that uses it first"},
		{"restore of a file that is not a database", nil, []string{"restore", notDB, "--data", emptyDir}, 1,
			"picloud restore: not a SQLite database: " + notDB},
		{"restore of a missing file", nil, []string{"restore", filepath.Join(dir, "nothing.db"), "--data", emptyDir}, 1,
			"picloud restore: no such file: " + filepath.Join(dir, "nothing.db")},
		{"restore without a data directory", nil, []string{"restore", good}, 2,
			"picloud restore: missing --data DIR, the data directory to restore into"},
		{"restore on PostgreSQL", []string{"PICLOUD_DB=" + dsn}, []string{"restore", "pg.dump", "--data", emptyDir}, 2,
			"picloud restore: the database is PostgreSQL (--db or PICLOUD_DB); nothing was done."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := picloud(t, tc.env, tc.args...)
			first, _, _ := strings.Cut(stderr, "\n")
			if code != tc.code || first != tc.stderr || stdout != "" {
				t.Errorf("picloud %v: exit %d, stderr\n%s\nstdout %q\nwant exit %d, stderr starting\n%s", tc.args, code, stderr, stdout, tc.code, tc.stderr)
			}
		})
	}
	// The PostgreSQL commands to use instead, exactly, without the
	// password.
	_, _, stderr := picloud(t, nil, "backup", "/backups/pi cloud.dump", "--db", dsn)
	if want := "\n  pg_dump --format=custom --file='/backups/pi cloud.dump' 'postgres://picloud@db.example:5432/picloud?sslmode=require'\n"; !strings.Contains(stderr, want) {
		t.Errorf("backup on PostgreSQL says\n%s\nwant the line%s", stderr, want)
	}
	_, _, stderr = picloud(t, []string{"PICLOUD_DB=" + dsn}, "restore", "pg.dump", "--data", emptyDir)
	if want := "\n  pg_restore --no-owner --dbname='postgres://picloud@db.example:5432/picloud?sslmode=require' pg.dump\n"; !strings.Contains(stderr, want) {
		t.Errorf("restore on PostgreSQL says\n%s\nwant the line%s", stderr, want)
	}
	if strings.Contains(stderr, "pa55word") {
		t.Errorf("the password was printed:\n%s", stderr)
	}

	// Nothing was changed: the file that was in the way, the directory
	// that did not exist, the running server's data.
	if b, _ := os.ReadFile(notDB); string(b) != "not a database at all" {
		t.Errorf("the existing file was changed: %q", b)
	}
	if _, err := os.Stat(emptyDir); !os.IsNotExist(err) {
		t.Errorf("a refused restore created %s: %v", emptyDir, err)
	}
	token := s.login(t, "admin", "first-password")
	s.mustDo(t, 201, "POST", "/api/v1/apps", token, "application/json", `{"slug":"still-works"}`)
	s.stop(t)

	// Stopped, the server's data directory is replaced with --force; the
	// app created after the backup is gone, the secret key stays.
	code, stdout, stderr := picloud(t, nil, "restore", good, "--data", dataDir, "--force")
	if code != 0 || !strings.HasPrefix(stdout, "replaced "+filepath.Join(dataDir, "picloud.db")+" with a copy of "+good) {
		t.Fatalf("restore --force: exit %d\n%s%s", code, stdout, stderr)
	}
	entries, _ := os.ReadDir(dataDir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "picloud.db secret.key" {
		t.Errorf("the data directory after restore --force: %v", names)
	}
	s = start(t, db, "PICLOUD_ADMIN_PASSWORD=first-password")
	token = s.login(t, "admin", "first-password")
	if got := s.mustDo(t, 200, "GET", "/api/v1/apps", token, "", ""); got != "[]\n" {
		t.Errorf("apps after restoring a backup made before any: %s", got)
	}
	s.stop(t)
}
