package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFile writes a config file and returns its path.
func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "picloud.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The one precedence rule: flag, then environment, then file, then
// default — for every setting, whichever binary reads it.
func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
listen = "127.0.0.1:7000"
timeout = "7s"
max-body = "7KiB"
max-operations = 77
trusted-proxies = ["10.0.0.0/8", "192.168.0.0/16"]
`)
	env := map[string]string{"PICLOUD_CONFIG": file, "PICLOUD_TIMEOUT": "8s", "PICLOUD_MAX_BODY": "8KiB"}
	c, err := Load("picloud serve", []string{"--max-body", "9KiB"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7000" || c.Limits.Timeout != 8*time.Second || c.Limits.MaxBodyBytes != 9<<10 ||
		c.Limits.MaxOperations != 77 || c.Limits.MaxMemoryBytes != 16<<20 || len(c.Login.TrustedProxies) != 2 {
		t.Errorf("listen %q (file), timeout %v (env), max-body %d (flag), max-operations %d (file), max-memory %d (default), proxies %v (file)",
			c.Listen, c.Limits.Timeout, c.Limits.MaxBodyBytes, c.Limits.MaxOperations, c.Limits.MaxMemoryBytes, c.Login.TrustedProxies)
	}
	// --config wins over PICLOUD_CONFIG.
	other := writeFile(t, `listen = "127.0.0.1:7001"`)
	c, err = Load("picloud serve", []string{"--config", other}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.Listen != "127.0.0.1:7001" {
		t.Errorf("--config over PICLOUD_CONFIG: %q, %v", c.Listen, err)
	}
}

// Secrets have no flag but may come from the file (or the environment).
func TestSecretsFromFileNotFlags(t *testing.T) {
	file := writeFile(t, "admin-password = \"from-the-file\"\nmetrics-token = \"t0ken-of-16-chars\"\n")
	c, err := Load("picloud serve", []string{"--config", file}, func(string) string { return "" }, io.Discard)
	if err != nil || c.AdminPassword != "from-the-file" || c.Metrics.Token != "t0ken-of-16-chars" {
		t.Errorf("secrets from the file: %q %q %v", c.AdminPassword, c.Metrics.Token, err)
	}
	for _, secret := range []string{"--admin-password", "--metrics-token", "--secret-key"} {
		_, err := Load("picloud serve", []string{secret, "x"}, func(string) string { return "" }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "flag provided but not defined") {
			t.Errorf("%s on the command line: %v", secret, err)
		}
	}
	// A bad secret's value is never repeated in the error.
	file = writeFile(t, "secret-key = \"do-not-print-me\"\n")
	c, err = Load("picloud serve", []string{"--config", file}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err) // parsed as text; its check comes when the key opens
	}
	if _, err := c.SecretKey.OpenClusterKey(discardLogger()); err == nil || strings.Contains(err.Error(), "do-not-print-me") {
		t.Errorf("a bad key from the file: %v", err)
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"unknown key", "listen = \"127.0.0.1:1\"\n\nlissten = \"x\"\n", `picloud.toml:3: unknown setting "lissten"`},
		{"syntax", "listen = \"127.0.0.1:1\"\ntimeout = 5s\n", "picloud.toml:2:"},
		{"wrong type", "timeout = 1.5\n", "picloud.toml:1: timeout: a float64 is no setting's value"},
		{"bad value", "max-body = \"lots\"\n", `picloud.toml: max-body="lots")`},
		{"list of numbers", "trusted-proxies = [1, 2]\n", "a list must hold strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("picloud serve", []string{"--config", writeFile(t, tt.file)}, func(string) string { return "" }, io.Discard)
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want a usage error with %q", err, tt.want)
			}
		})
	}
	_, err := Load("picloud serve", []string{"--config", filepath.Join(t.TempDir(), "none.toml")}, func(string) string { return "" }, io.Discard)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

// One file serves every binary of a cluster: a key another binary reads
// is no mistake.
func TestOneFileForACluster(t *testing.T) {
	file := writeFile(t, "db = \"postgres://db/picloud\"\nworkers = 8\ncache-size = 64\nadmin-user = \"root\"\n")
	getenv := func(k string) string { return map[string]string{"PICLOUD_CONFIG": file}[k] }
	m, err := LoadManager(nil, getenv, io.Discard)
	if err != nil || m.AdminUser != "root" || m.DB != "postgres://db/picloud" {
		t.Errorf("manager: %+v %v", m, err)
	}
	o, err := LoadOrchestrator(nil, getenv, io.Discard)
	if err != nil || o.Workers != 8 {
		t.Errorf("orchestrator: workers %d, %v", o.Workers, err)
	}
	e, err := LoadExecutor(nil, getenv, io.Discard)
	if err != nil || e.CacheSize != 64 {
		t.Errorf("executor: cache %d, %v", e.CacheSize, err)
	}
	// The executor's older variable still works, below the new one.
	e, err = LoadExecutor(nil, func(k string) string { return map[string]string{"PICLOUD_EXECUTOR_CACHE": "9"}[k] }, io.Discard)
	if err != nil || e.CacheSize != 9 {
		t.Errorf("PICLOUD_EXECUTOR_CACHE: %d, %v", e.CacheSize, err)
	}
}

// --help prints the generated table: every setting with its variable and
// default, and the precedence rule.
func TestHelp(t *testing.T) {
	for _, b := range Binaries {
		var out bytes.Buffer
		s := NewSet(b.Name, func(string) string { return "" }, &out)
		b.settings().declare(s)
		if err := s.Parse([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%s --help: %v", b.Name, err)
		}
		text := out.String()
		if !strings.Contains(text, "wins over the config file") || !strings.Contains(text, "--config") {
			t.Errorf("%s --help lacks the precedence rule:\n%s", b.Name, text)
		}
		for _, r := range b.Rows() {
			if (r.Flag != "" && !strings.Contains(text, r.Flag+" ")) || !strings.Contains(text, r.Env) {
				t.Errorf("%s --help lacks %s / %s", b.Name, r.Flag, r.Env)
			}
		}
	}
}

// A setting's name, default and meaning are the same in every binary
// that reads it, except where the binaries differ on purpose.
func TestSameSettingEverywhere(t *testing.T) {
	differ := map[string]bool{"listen": true, "db": true, "secret-key-file": true, "max-running-jobs": true}
	seen := map[string]Row{}
	for _, b := range Binaries {
		for _, r := range b.Rows() {
			if prev, ok := seen[r.Key]; ok && !differ[r.Key] && prev != r {
				t.Errorf("%s in %s: %+v, elsewhere %+v", r.Key, b.Name, r, prev)
			}
			seen[r.Key] = r
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
