// Package config is PiCloud's one configuration system: every binary's
// settings, read from flags, environment variables and a config file by
// one precedence rule (Precedence), declared once per group so that a
// setting has the same name, default and meaning in every binary, with
// the --help table and docs/configuration.md generated from the same
// declarations.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// ParseCount reads a positive integer into p, or also 0 when zero is.
func ParseCount(v string, p *int, zero bool) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || (n == 0 && !zero) {
		if zero {
			return errors.New("must be 0 or a positive integer")
		}
		return errors.New("must be a positive integer")
	}
	*p = n
	return nil
}

// ParseSize reads a byte size: a number with an optional unit B, KB, KiB,
// MB, MiB, GB or GiB.
func ParseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000_000}, {"GB", 1000_000_000}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			mult, s = u.mult, strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size such as 512KiB or 4MiB", v)
	}
	return n * mult, nil
}

// DatabasePath is the SQLite file inside the data directory.
func (c Config) DatabasePath() string { return filepath.Join(c.DataDir, "picloud.db") }

// SecretKeyPath is the key file: SecretKeyFile, else secret.key in the
// data directory.
func (c Config) SecretKeyPath() string {
	if c.SecretKey.KeyFile != "" {
		return c.SecretKey.KeyFile
	}
	return filepath.Join(c.DataDir, "secret.key")
}

// Postgres reports whether the server uses PostgreSQL (DB is set) rather
// than SQLite.
func (c Config) Postgres() bool { return c.DB != "" }

// DatabaseName describes the database for logs: the SQLite file, or the
// PostgreSQL URL without its password and parameters.
func (c Config) DatabaseName() string {
	if !c.Postgres() {
		return c.DatabasePath()
	}
	u, err := url.Parse(c.DB)
	if err != nil {
		return "postgres"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.Redacted()
}

// Environ is os.Getenv, named for injection in tests.
var Environ = os.Getenv

// DefaultGCPercent is the garbage collector's target used by the servers
// when the GOGC environment variable does not set one. Go's own default,
// 100, makes the collector run every few tens of milliseconds under load,
// and on a small machine its mark phase then holds one of the processors
// that requests wait for; the servers' live heap is small (tens of MiB),
// so twice as much headroom costs little memory and halves the
// collections (docs/dataplane-bench.md).
const DefaultGCPercent = 200

// TuneGC sets the collector's target to DefaultGCPercent unless the GOGC
// environment variable, read through getenv, sets one; it reports the
// target in force.
func TuneGC(getenv func(string) string) string {
	if v := getenv("GOGC"); v != "" {
		return v
	}
	debug.SetGCPercent(DefaultGCPercent)
	return strconv.Itoa(DefaultGCPercent)
}
