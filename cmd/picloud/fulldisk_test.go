//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/picloud/picloud/internal/testdeps"
)

// mountTmpfs mounts a tmpfs of the given size (such as "8m") on a new
// directory and returns it; it is unmounted when the test ends. Mounting
// needs root: without it the test is skipped, saying so, or fails in CI.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		testdeps.Missingf(t, "root", "mounting a small tmpfs for a full disk needs root (run the test as root, or in a container with CAP_SYS_ADMIN)")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		testdeps.Missingf(t, "root", "mount -t tmpfs -o size=%s tmpfs %s: %v (run the test where mounting is allowed)", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			// A process of the test still holding a file: detach, so
			// that the test directory can go.
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", dir, err)
			}
		}
	})
	return dir
}

// fill writes a file in dir until the file system has no room left and
// returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		_, err := f.Write(chunk)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// The last, partial chunks: down to the last byte.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if free := st.Bavail * uint64(st.Bsize); free != 0 {
		t.Fatalf("%d bytes left after filling %s", free, dir)
	}
	return path
}

// apiError is the error body of the API and the data plane.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// storageFull is the message of a write refused for want of space, on the
// API and for an async request.
const storageFull = "the server's storage is full: nothing of this request was saved; try again once an administrator has freed space"

// fullDiskLoad drives the writes of the full-disk test and keeps what was
// acknowledged.
type fullDiskLoad struct {
	s     *server
	token string
	// acknowledged
	kv       map[string]string // key → value, written by the data plane or the API
	versions int               // deploys of gen
	// refused, by kind of write
	refused map[string]int
}

// refusal checks that a failed write was refused as the storage being
// full, with the status and message of its kind.
func (l *fullDiskLoad) refusal(t *testing.T, kind string, code int, body string) {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("%s: %d %q is not an API error", kind, code, body)
	}
	want := storageFull
	if kind == "invoke" {
		want = "the server's storage is full: a write of the script was not saved; see invocation "
	}
	if code != 507 || e.Error.Code != "storage_full" || !strings.HasPrefix(e.Error.Message, want) {
		t.Fatalf("%s on a full disk: %d %s; want 507 storage_full %q", kind, code, body, want)
	}
	l.refused[kind]++
}

// write sends write i of one kind — a KV write through a script, a
// deploy, a KV write through the API — and keeps it when acknowledged;
// a refusal must be a clean 507.
func (l *fullDiskLoad) write(t *testing.T, kind string, i int) {
	t.Helper()
	switch kind {
	case "invoke":
		key, val := fmt.Sprintf("fn/%05d", i), fmt.Sprint(i, strings.Repeat("v", 4000))
		code, body, _ := l.s.do(t, "POST", "/fn/demo/put?k="+key, "", "text/plain", val)
		if code == 200 && body == "stored" {
			l.kv[key] = val
			return
		}
		l.refusal(t, kind, code, body)
	case "deploy":
		code, body, _ := l.s.do(t, "PUT", "/api/v1/apps/demo/scripts/gen", l.token, "text/plain", fmt.Sprintf(`"gen %d %s"`, l.versions+1, strings.Repeat("g", 2000)))
		if code == 200 || code == 201 {
			l.versions++
			return
		}
		l.refusal(t, kind, code, body)
	case "kv api":
		key, val := fmt.Sprintf("api/%05d", i), fmt.Sprintf(`"%d %s"`, i, strings.Repeat("a", 3000))
		code, body, _ := l.s.do(t, "PUT", "/api/v1/apps/demo/kv/"+key, l.token, "application/json", `{"value":`+val+`}`)
		if code == 200 {
			var s string
			json.Unmarshal([]byte(val), &s)
			l.kv[key] = s
			return
		}
		l.refusal(t, kind, code, body)
	default:
		t.Fatalf("unknown write %q", kind)
	}
}

// check reads back every acknowledged write from the server: the keys,
// exactly (a refused write left none), their values, and gen's versions,
// exactly, the last one live.
func (l *fullDiskLoad) check(t *testing.T, s *server, token string) {
	t.Helper()
	var keys []string
	for _, prefix := range []string{"api/", "fn/"} {
		keys = append(keys, s.kvKeys(t, token, "demo", prefix)...)
	}
	if len(keys) != len(l.kv) {
		t.Errorf("the server has %d keys; %d writes were acknowledged", len(keys), len(l.kv))
	}
	for _, k := range keys {
		want, ok := l.kv[k]
		if !ok {
			t.Errorf("key %s is there, but its write was refused", k)
			continue
		}
		if got := s.mustDo(t, 200, "GET", "/fn/demo/get?k="+k, "", "", ""); got != want {
			t.Errorf("key %s: %.30q…, want %.30q…", k, got, want)
		}
	}
	var versions []struct {
		Version int
		Live    bool
	}
	if err := json.Unmarshal([]byte(s.mustDo(t, 200, "GET", "/api/v1/apps/demo/scripts/gen/versions", token, "", "")), &versions); err != nil {
		t.Fatal(err)
	}
	if len(versions) != l.versions {
		t.Errorf("gen has %d versions; %d deploys were acknowledged", len(versions), l.versions)
	}
	for _, v := range versions {
		if v.Live != (v.Version == l.versions) {
			t.Errorf("version %d of gen: live %v; the last acknowledged deploy is %d", v.Version, v.Live, l.versions)
		}
	}
	want := fmt.Sprintf("gen %d %s", l.versions, strings.Repeat("g", 2000))
	if got := s.mustDo(t, 200, "GET", "/fn/demo/gen", "", "", ""); got != want {
		t.Errorf("gen serves %.20q…, want %.20q…", got, want)
	}
}

// A full disk under the database: writes are refused with 507
// storage_full and leave nothing behind, the server keeps serving reads,
// nothing acknowledged is lost; when space returns, writes succeed again
// without a restart, and after one everything acknowledged is there.
func TestServerFullDisk(t *testing.T) {
	dir := mountTmpfs(t, "16m")
	db := database{args: []string{"--data", filepath.Join(dir, "data")}}
	env := []string{"PICLOUD_ADMIN_PASSWORD=first-password", "PICLOUD_LOG_FLUSH=20ms"}
	s := start(t, db, env...)
	token := s.login(t, "admin", "first-password")
	s.mustDo(t, 201, "POST", "/api/v1/apps", token, "application/json", `{"slug":"demo"}`)
	s.mustDo(t, 201, "PUT", "/api/v1/apps/demo/scripts/put", token, "text/plain", `kv::set(request.query.k, request.body); "stored"`)
	s.mustDo(t, 201, "PUT", "/api/v1/apps/demo/scripts/get", token, "text/plain", `kv::get(request.query.k) ?? "absent"`)
	s.mustDo(t, 201, "PUT", "/api/v1/apps/demo/scripts/hello", token, "text/plain", `"hello"`)
	l := &fullDiskLoad{s: s, token: token, kv: map[string]string{}, refused: map[string]int{}}
	kinds := []string{"invoke", "deploy", "kv api"}
	for i := range 30 {
		l.write(t, kinds[i%3], i)
	}
	if len(l.refused) > 0 {
		t.Fatalf("writes refused before the disk was full: %v", l.refused)
	}

	// Fill the disk, then give back 256 KiB: the writes go on a while,
	// then fail.
	filler := fill(t, dir)
	fi, err := os.Stat(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filler, fi.Size()-256<<10); err != nil {
		t.Fatal(err)
	}
	acked := len(l.kv) + l.versions
	i := 30
	for ; i < 3000 && len(l.refused) < len(kinds); i++ {
		l.write(t, kinds[i%3], i)
	}
	if len(l.refused) < len(kinds) {
		t.Fatalf("after %d writes on a full disk, only these were refused: %v", i-30, l.refused)
	}
	t.Logf("on the full disk: %d writes acknowledged, then refusals %v", len(l.kv)+l.versions-acked, l.refused)
	// Refused again, each kind, and an async request too, which is
	// stored before it runs.
	for _, kind := range kinds {
		before := l.refused[kind]
		l.write(t, kind, i)
		i++
		if l.refused[kind] != before+1 {
			t.Errorf("a %s was acknowledged on the full disk after a refusal", kind)
		}
	}
	code, body, _ := s.do(t, "POST", "/fn/demo/put?async=1&k=async", "", "text/plain", "x")
	l.refusal(t, "async", code, body)
	// A sign-in writes its session: a row small enough that SQLite may
	// still place it without growing a file (the WAL starts again from its
	// beginning after a checkpoint), so it may be stored. Either way the
	// answer must be true: a session that works, or a clean refusal.
	code, body, _ = s.do(t, "POST", "/api/v1/auth/login", "", "application/json", `{"username":"admin","password":"first-password"}`)
	if code == 200 {
		var session struct{ Token string }
		if err := json.Unmarshal([]byte(body), &session); err != nil || session.Token == "" {
			t.Fatalf("login on a full disk: 200 %s", body)
		}
		if code, body, _ := s.do(t, "GET", "/api/v1/whoami", session.Token, "", ""); code != 200 {
			t.Fatalf("the session a login acknowledged on a full disk does not work: %d %s", code, body)
		}
	} else {
		l.refusal(t, "login", code, body)
	}

	// Reads go on; the server is up.
	if s.cmd.ProcessState != nil {
		t.Fatalf("the server exited: %v\n%s", s.cmd.ProcessState, s.stderr)
	}
	s.mustDo(t, 200, "GET", "/healthz", "", "", "")
	if got := s.mustDo(t, 200, "GET", "/fn/demo/hello", "", "", ""); got != "hello" {
		t.Errorf("a script that writes nothing, on the full disk: %q", got)
	}
	l.check(t, s, token)

	// A backup onto the full disk fails and leaves no file, not even
	// its temporary one.
	code, stdout, stderr := picloud(t, nil, "backup", filepath.Join(dir, "backup.db"), "--data", filepath.Join(dir, "data"))
	if code != 1 || !strings.HasPrefix(stderr, "picloud backup: ") || !strings.Contains(stderr, "full") {
		t.Errorf("a backup onto the full disk: exit %d\n%s%s", code, stdout, stderr)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 2 {
		t.Errorf("after the failed backup the disk holds %v (%v), want data and filler", entries, err)
	}

	// Space returns: writes succeed again, without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	refused := len(l.refused)
	for _, kind := range kinds {
		l.write(t, kind, i)
		i++
	}
	if len(l.refused) != refused {
		t.Fatalf("writes refused after space returned: %v\n%s", l.refused, s.stderr)
	}
	code, body, _ = s.do(t, "POST", "/fn/demo/put?async=1&k=async", "", "text/plain", "x")
	if code != 202 {
		t.Errorf("an async request after space returned: %d %s", code, body)
	}
	l.check(t, s, token)
	if !strings.Contains(s.stderr.String(), "the database storage is full") {
		t.Errorf("the server did not log the full disk:\n%s", s.stderr)
	}
	s.stop(t)

	// And after a restart, everything acknowledged is there.
	s = start(t, db, env...)
	token = s.login(t, "admin", "first-password")
	l.check(t, s, token)
	s.stop(t)
}
