package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The secret key's life: generated with mode 0600 on first start, the
// same after a restart; a changed key fails the apps whose secrets it
// cannot open, and only those, until they are set again; a key file
// others may read, or a bad PICLOUD_SECRET_KEY, stops the server with how
// to fix it.
func TestServerSecretKey(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	db := database{args: []string{"--data", data}}
	keyFile := filepath.Join(data, "secret.key")
	const pw = "PICLOUD_ADMIN_PASSWORD=admin-password"

	s := start(t, db, pw)
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no key file after the first start: %v\n%s", err, s.stderr)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(s.stderr.String(), "generated the key that encrypts apps' secrets") {
		t.Errorf("the first start did not say it generated the key:\n%s", s.stderr)
	}
	key, _ := os.ReadFile(keyFile)
	token := s.login(t, "admin", "admin-password")
	for _, call := range []struct{ method, path, ct, body string }{
		{"POST", "/api/v1/apps", "application/json", `{"slug":"vault"}`},
		{"POST", "/api/v1/apps", "application/json", `{"slug":"open"}`},
		{"PUT", "/api/v1/apps/vault/secrets/TOKEN", "application/json", `{"value":"first-token-value"}`},
		{"PUT", "/api/v1/apps/vault/scripts/read", "text/plain", `env.TOKEN`},
		{"PUT", "/api/v1/apps/open/scripts/run", "text/plain", `"open"`},
	} {
		if code, body, _ := s.do(t, call.method, call.path, token, call.ct, call.body); code != 201 {
			t.Fatalf("%s %s: %d %s", call.method, call.path, code, body)
		}
	}
	if code, body, _ := s.do(t, "GET", "/fn/vault/read", "", "", ""); code != 200 || body != "first-token-value" {
		t.Fatalf("read: %d %q", code, body)
	}
	s.stop(t)

	// A restart reads the same key.
	s = start(t, db, pw)
	if code, body, _ := s.do(t, "GET", "/fn/vault/read", "", "", ""); code != 200 || body != "first-token-value" {
		t.Fatalf("read after a restart: %d %q\n%s", code, body, s.stderr)
	}
	if after, _ := os.ReadFile(keyFile); !bytes.Equal(after, key) {
		t.Error("the restart changed the key file")
	}
	s.stop(t)

	// Another key: the vault fails, with the reason in the server's log;
	// the other app runs on.
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if err := os.WriteFile(keyFile, []byte(other+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = start(t, db, pw)
	if code, body, _ := s.do(t, "GET", "/fn/vault/read", "", "", ""); code != 500 || strings.Contains(body, "first-token-value") {
		t.Fatalf("read with another key: %d %q", code, body)
	}
	if code, body, _ := s.do(t, "GET", "/fn/open/run", "", "", ""); code != 200 || body != "open" {
		t.Fatalf("another app with another key: %d %q", code, body)
	}
	s.stop(t) // the whole log is written once the process has exited
	if log := s.stderr.String(); !strings.Contains(log, "secret TOKEN of app vault cannot be opened") ||
		!strings.Contains(log, "the server's key changed") || strings.Contains(log, "first-token-value") {
		t.Errorf("the server's log does not say why:\n%s", log)
	}
	s = start(t, db, pw)
	token = s.login(t, "admin", "admin-password")
	// The invocation log, flushed at the stop, says why too.
	if code, body, _ := s.do(t, "GET", "/api/v1/apps/vault/logs?status=error", token, "", ""); code != 200 ||
		!strings.Contains(body, "the server's key changed") || strings.Contains(body, "first-token-value") {
		t.Errorf("the vault's logs: %d %s", code, body)
	}
	if code, body, _ := s.do(t, "PUT", "/api/v1/apps/vault/secrets/TOKEN", token, "application/json", `{"value":"second-token-value"}`); code != 200 {
		t.Fatalf("set again: %d %s", code, body)
	}
	if code, body, _ := s.do(t, "GET", "/fn/vault/read", "", "", ""); code != 200 || body != "second-token-value" {
		t.Fatalf("read after setting it again: %d %q", code, body)
	}
	s.stop(t)

	// PICLOUD_SECRET_KEY wins over the file.
	s = start(t, db, pw, "PICLOUD_SECRET_KEY="+other)
	if !strings.Contains(s.stderr.String(), "source=PICLOUD_SECRET_KEY") || strings.Contains(s.stderr.String(), other) {
		t.Errorf("start with PICLOUD_SECRET_KEY:\n%s", s.stderr)
	}
	if code, body, _ := s.do(t, "GET", "/fn/vault/read", "", "", ""); code != 200 || body != "second-token-value" {
		t.Fatalf("read with the key from the environment: %d %q", code, body)
	}
	s.stop(t)

	refused := func(want []string, env ...string) {
		t.Helper()
		cmd := exec.Command(binary, "serve", "--listen", freePort(t), "--data", data)
		cmd.Env = append(os.Environ(), env...)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 1 {
			t.Errorf("exit %d, want 1: %s", code, out)
		}
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Errorf("output %q does not contain %q", out, w)
			}
		}
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	refused([]string{"secret key:", keyFile, "mode 0644", "chmod 600 " + keyFile})
	refused([]string{"PICLOUD_SECRET_KEY", "openssl rand -base64 32"}, "PICLOUD_SECRET_KEY=not-a-real-key")
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused([]string{keyFile, "does not hold a key"})
}
