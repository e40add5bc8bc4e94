package config

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load("picloud", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DataDir != "./picloud-data" || c.Limits.Timeout != 5*time.Second ||
		c.Limits.MaxBodyBytes != 1<<20 || c.Logs.Retention != 168*time.Hour || c.AdminUser != "admin" || c.Limits.MaxScriptBytes != 1<<20 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestLoadKVLimits(t *testing.T) {
	c, err := Load("picloud", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.KV.MaxValueBytes != 64<<10 || c.Limits.KV.MaxBytes != 10<<20 || c.Limits.KV.MaxKeys != 10_000 {
		t.Errorf("kv defaults: %d %d %d", c.Limits.KV.MaxValueBytes, c.Limits.KV.MaxBytes, c.Limits.KV.MaxKeys)
	}
	c, err = Load("picloud", []string{"--kv-max-keys", "50"},
		env(map[string]string{"PICLOUD_KV_MAX_VALUE": "1MiB", "PICLOUD_KV_MAX_BYTES": "1GiB"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.KV.MaxValueBytes != 1<<20 || c.Limits.KV.MaxBytes != 1<<30 || c.Limits.KV.MaxKeys != 50 {
		t.Errorf("kv settings: %d %d %d", c.Limits.KV.MaxValueBytes, c.Limits.KV.MaxBytes, c.Limits.KV.MaxKeys)
	}
}

func TestLoadFlagBeatsEnvBeatsDefault(t *testing.T) {
	e := env(map[string]string{"PICLOUD_LISTEN": "0.0.0.0:9000", "PICLOUD_DATA": "/env", "PICLOUD_MAX_BODY": "2MiB"})
	c, err := Load("picloud", []string{"--data", "/flag"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9000" || c.DataDir != "/flag" || c.Limits.MaxBodyBytes != 2<<20 {
		t.Errorf("got %+v", c)
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--listen", "nope"}, nil, "--listen"},
		{nil, map[string]string{"PICLOUD_TIMEOUT": "-1s"}, "PICLOUD_TIMEOUT"},
		{nil, map[string]string{"PICLOUD_MAX_BODY": "lots"}, "PICLOUD_MAX_BODY"},
		{nil, map[string]string{"PICLOUD_KV_MAX_VALUE": "big"}, "PICLOUD_KV_MAX_VALUE"},
		{[]string{"--kv-max-keys", "0"}, nil, "--kv-max-keys"},
		{nil, map[string]string{"PICLOUD_LOG_LEVEL": "loud"}, "PICLOUD_LOG_LEVEL"},
		{[]string{"--db", "mysql://root@localhost/picloud"}, nil, "--db"},
		{nil, map[string]string{"PICLOUD_DB": "/var/lib/picloud.db"}, "PICLOUD_DB"},
		{[]string{"stray"}, nil, "unexpected argument"},
	} {
		_, err := Load("picloud", tc.args, env(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want an error naming %s", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestDatabase(t *testing.T) {
	c, err := Load("picloud", []string{"--data", "/srv/picloud"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Postgres() || c.DB != "" || c.DatabaseName() != "/srv/picloud/picloud.db" {
		t.Errorf("without a database URL: Postgres %v, DB %q, name %q; want SQLite in the data directory", c.Postgres(), c.DB, c.DatabaseName())
	}

	const dsn = "postgres://picloud:s3cret@db.internal:5432/picloud?sslmode=require&password=s3cret"
	c, err = Load("picloud", nil, env(map[string]string{"PICLOUD_DB": dsn}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Postgres() || c.DB != dsn {
		t.Errorf("PICLOUD_DB: Postgres %v, DB %q; want PostgreSQL at %s", c.Postgres(), c.DB, dsn)
	}
	if name := c.DatabaseName(); strings.Contains(name, "s3cret") || !strings.Contains(name, "db.internal:5432/picloud") {
		t.Errorf("DatabaseName %q: want the URL without the password", name)
	}

	c, err = Load("picloud", []string{"--db", "postgresql:///picloud?host=/run/postgresql"},
		env(map[string]string{"PICLOUD_DB": dsn}), io.Discard)
	if err != nil || c.DB != "postgresql:///picloud?host=/run/postgresql" {
		t.Errorf("--db over PICLOUD_DB: %q, %v", c.DB, err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "1KiB": 1024, "4 MiB": 4 << 20, "1MB": 1000000, "10B": 10} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "1TB", "x"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): want an error", in)
		}
	}
}

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	if got := TuneGC(func(string) string { return "" }); got != "200" {
		t.Errorf("TuneGC without GOGC = %q, want 200", got)
	}
	if prev := debug.SetGCPercent(100); prev != DefaultGCPercent {
		t.Errorf("GC percent after TuneGC = %d, want %d", prev, DefaultGCPercent)
	}
	if got := TuneGC(env(map[string]string{"GOGC": "off"})); got != "off" {
		t.Errorf("TuneGC with GOGC=off = %q, want off", got)
	}
	if prev := debug.SetGCPercent(100); prev != 100 {
		t.Errorf("TuneGC changed the GC percent set by GOGC: %d", prev)
	}
}

func TestLoadOutbound(t *testing.T) {
	c, err := Load("picloud", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Outbound.Timeout != 10*time.Second || c.Outbound.MaxResponseBytes != 1<<20 || c.Outbound.MaxRequestBytes != 1<<20 || c.Outbound.MaxRequests != 20 {
		t.Errorf("outbound defaults: %+v", c)
	}
	c, err = Load("picloud", []string{"--outbound-max-requests", "5"},
		env(map[string]string{"PICLOUD_OUTBOUND_TIMEOUT": "2s", "PICLOUD_OUTBOUND_MAX_RESPONSE": "64KiB", "PICLOUD_OUTBOUND_MAX_REQUESTS": "9"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Outbound.Timeout != 2*time.Second || c.Outbound.MaxResponseBytes != 64<<10 || c.Outbound.MaxRequests != 5 {
		t.Errorf("outbound settings: %+v", c)
	}
	for _, bad := range []map[string]string{
		{"PICLOUD_OUTBOUND_TIMEOUT": "0s"},
		{"PICLOUD_OUTBOUND_MAX_RESPONSE": "-1"},
		{"PICLOUD_OUTBOUND_MAX_REQUEST_BODY": "big"},
		{"PICLOUD_OUTBOUND_MAX_REQUESTS": "0"},
	} {
		if _, err := Load("picloud", nil, env(bad), io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestSecretKey(t *testing.T) {
	c, err := Load("picloud", []string{"--data", "/srv/picloud"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretKey.Key != "" || c.SecretKeyPath() != "/srv/picloud/secret.key" {
		t.Errorf("default: key %q, path %q", c.SecretKey.Key, c.SecretKeyPath())
	}
	e := env(map[string]string{"PICLOUD_SECRET_KEY": "k", "PICLOUD_SECRET_KEY_FILE": "/env/secret.key"})
	c, err = Load("picloud", []string{"--secret-key-file", "/flag/secret.key"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretKey.Key != "k" || c.SecretKeyPath() != "/flag/secret.key" {
		t.Errorf("set: key %q, path %q", c.SecretKey.Key, c.SecretKeyPath())
	}
	// The key itself is not a flag: a command line is visible to others.
	if _, err := Load("picloud", []string{"--secret-key", "k"}, env(nil), io.Discard); err == nil {
		t.Error("--secret-key accepted")
	}
}

func TestLoadSignInAndMetrics(t *testing.T) {
	c, err := Load("picloud", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Login.MaxFailures != 5 || c.Login.MaxAddressFailures != 30 || c.Login.MaxUserFailures != 100 ||
		fmt.Sprint(c.Login.TrustedProxies) != "[127.0.0.0/8 ::1/128]" || c.Metrics.Listen != "" || c.Metrics.Token != "" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = Load("picloud", []string{"--login-max-failures", "3", "--trusted-proxies", "", "--metrics-listen", "127.0.0.1:9100"},
		env(map[string]string{"PICLOUD_TRUSTED_PROXIES": "10.0.0.0/8", "PICLOUD_METRICS_TOKEN": "t0ken-of-16-chars"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// An empty flag falls back to the environment, as for every setting.
	if c.Login.MaxFailures != 3 || fmt.Sprint(c.Login.TrustedProxies) != "[10.0.0.0/8]" || c.Metrics.Listen != "127.0.0.1:9100" || c.Metrics.Token != "t0ken-of-16-chars" {
		t.Errorf("settings: %+v", c)
	}
	c, err = Load("picloud", nil, env(map[string]string{"PICLOUD_TRUSTED_PROXIES": " "}), io.Discard)
	if err != nil || len(c.Login.TrustedProxies) != 0 {
		t.Errorf("trusting none: %v, %v", c.Login.TrustedProxies, err)
	}
	for _, bad := range []struct{ args []string }{
		{[]string{"--login-max-failures", "0"}},
		{[]string{"--login-max-failures-per-user", "many"}},
		{[]string{"--trusted-proxies", "caddy.local"}},
		{[]string{"--metrics-listen", "9100"}},
	} {
		if _, err := Load("picloud", bad.args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), bad.args[0]) {
			t.Errorf("%v: got %v", bad.args, err)
		}
	}
}

func TestLoadProtection(t *testing.T) {
	c, err := Load("picloud", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Protection.MaxInflight != 0 || c.Protection.MaxInflightPerApp != 0 || c.Protection.MaxInflightHeavy != 1 || c.Protection.AdmissionWait != 200*time.Millisecond ||
		c.Protection.Guard.MaxConns != 1024 || c.Protection.Guard.MaxConnsPerClient != 256 || c.Protection.Guard.MinBodyRate != 4<<10 || c.Protection.Guard.BodyGrace != 5*time.Second ||
		c.Protection.ReadHeaderTimeout != 10*time.Second || c.Protection.IdleTimeout != 120*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	c, err = Load("picloud", []string{"--max-inflight", "12", "--max-conns-per-client", "0"},
		env(map[string]string{"PICLOUD_MAX_INFLIGHT_PER_APP": "3", "PICLOUD_MIN_BODY_RATE": "1KiB"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Protection.MaxInflight != 12 || c.Protection.MaxInflightPerApp != 3 || c.Protection.Guard.MaxConnsPerClient != 0 || c.Protection.Guard.MinBodyRate != 1<<10 {
		t.Errorf("settings: %+v", c)
	}
	for _, args := range [][]string{{"--max-inflight", "0"}, {"--max-inflight", "many"}, {"--max-inflight-heavy", "0"}, {"--max-conns", "0"}, {"--max-conns-per-client", "-1"}, {"--admission-wait", "0s"}} {
		_, err := Load("picloud", args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: %v, want an error naming the flag", args, err)
		}
	}
}
