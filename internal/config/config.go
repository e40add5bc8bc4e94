// Package config reads PiCloud's settings from flags and environment
// variables, with a table of defaults and validation in one place. A flag
// given on the command line wins over the environment, which wins over the
// default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Config is the server's configuration.
type Config struct {
	Listen          string        // address of the HTTP server
	DataDir         string        // where the SQLite database lives
	DB              string        // PostgreSQL URL; empty: SQLite in DataDir
	AdminUser       string        // name of the first admin
	AdminPassword   string        // first admin's password; generated when empty
	LogLevel        slog.Level    // server log level
	LogFormat       string        // "text" or "json"
	Timeout         time.Duration // default wall-clock limit of one invocation
	MaxOperations   uint64        // default operation limit of one invocation
	MaxBodyBytes    int64         // default request-body limit of the data plane
	MaxMemoryBytes  int64         // default bound of the data one run holds at once (and of each value)
	KVMaxValueBytes int64         // default bound of a value of an app's key-value store
	KVMaxBytes      int64         // default bound of the keys and values of an app's key-value store
	KVMaxKeys       int64         // default bound of the keys of an app's key-value store
	LogRetention    time.Duration // how long invocation records are kept
	LogFlush        time.Duration // longest delay before a log record is written
	ShutdownTimeout time.Duration // how long in-flight requests may take at shutdown

	// Outbound HTTP of scripts (the http module).
	OutboundTimeout        time.Duration // longest time of one request
	OutboundMaxResponse    int64         // bound of one response body
	OutboundMaxRequestBody int64         // bound of one request body
	OutboundMaxRequests    int           // requests of one invocation
	// The key that seals apps' secrets: SecretKey (PICLOUD_SECRET_KEY,
	// never logged) wins over the key file, SecretKeyFile or, when
	// empty, secret.key in DataDir (see SecretKeyPath).
	SecretKey     string
	SecretKeyFile string
}

// setting describes one configuration value: its flag, its environment
// variable, its default and how to parse it.
type setting struct {
	flag, env, def, help string
	set                  func(c *Config, v string) error
}

var settings = []setting{
	{"listen", "PICLOUD_LISTEN", "127.0.0.1:8080", "address to listen on", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("not a host:port address: %w", err)
		}
		c.Listen = v
		return nil
	}},
	{"data", "PICLOUD_DATA", "./picloud-data", "data directory (SQLite database)", func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.DataDir = v
		return nil
	}},
	{"db", "PICLOUD_DB", "", "database: a postgres:// URL for PostgreSQL; empty for SQLite in the data directory", func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				return errors.New("must be empty (SQLite) or a URL postgres://user:password@host:port/database")
			}
		}
		c.DB = v
		return nil
	}},
	{"admin-user", "PICLOUD_ADMIN_USER", "admin", "name of the first admin user", func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.AdminUser = v
		return nil
	}},
	{"", "PICLOUD_ADMIN_PASSWORD", "", "password of the first admin (generated and printed once when empty)", func(c *Config, v string) error {
		c.AdminPassword = v
		return nil
	}},
	{"log-level", "PICLOUD_LOG_LEVEL", "info", "log level: debug, info, warn, error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"log-format", "PICLOUD_LOG_FORMAT", "text", "log format: text or json", func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	}},
	{"timeout", "PICLOUD_TIMEOUT", "5s", "default time limit of one invocation", durationSetter(func(c *Config) *time.Duration { return &c.Timeout })},
	{"max-operations", "PICLOUD_MAX_OPERATIONS", "50000000", "default operation limit of one invocation", func(c *Config, v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return errors.New("must be a positive integer")
		}
		c.MaxOperations = n
		return nil
	}},
	{"max-body", "PICLOUD_MAX_BODY", "1MiB", "default request body limit of the data plane", sizeSetter(func(c *Config) *int64 { return &c.MaxBodyBytes })},
	{"max-memory", "PICLOUD_MAX_MEMORY", "16MiB", "default bound of the data one run holds at once (and of each value)", sizeSetter(func(c *Config) *int64 { return &c.MaxMemoryBytes })},
	{"kv-max-value", "PICLOUD_KV_MAX_VALUE", "64KiB", "default bound of one value of an app's key-value store, as JSON", sizeSetter(func(c *Config) *int64 { return &c.KVMaxValueBytes })},
	{"kv-max-bytes", "PICLOUD_KV_MAX_BYTES", "10MiB", "default bound of the keys and values of an app's key-value store", sizeSetter(func(c *Config) *int64 { return &c.KVMaxBytes })},
	{"kv-max-keys", "PICLOUD_KV_MAX_KEYS", "10000", "default bound of the number of keys of an app's key-value store", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errors.New("must be a positive integer")
		}
		c.KVMaxKeys = n
		return nil
	}},
	{"log-retention", "PICLOUD_LOG_RETENTION", "168h", "how long invocation logs are kept", durationSetter(func(c *Config) *time.Duration { return &c.LogRetention })},
	{"log-flush", "PICLOUD_LOG_FLUSH", "500ms", "longest delay before an invocation log record is written", durationSetter(func(c *Config) *time.Duration { return &c.LogFlush })},
	{"shutdown-timeout", "PICLOUD_SHUTDOWN_TIMEOUT", "30s", "how long in-flight requests may take at shutdown", durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"outbound-timeout", "PICLOUD_OUTBOUND_TIMEOUT", "10s", "longest time one outbound HTTP request of a script may take", durationSetter(func(c *Config) *time.Duration { return &c.OutboundTimeout })},
	{"outbound-max-response", "PICLOUD_OUTBOUND_MAX_RESPONSE", "1MiB", "bound of the body of one outbound HTTP response", sizeSetter(func(c *Config) *int64 { return &c.OutboundMaxResponse })},
	{"outbound-max-request-body", "PICLOUD_OUTBOUND_MAX_REQUEST_BODY", "1MiB", "bound of the body of one outbound HTTP request", sizeSetter(func(c *Config) *int64 { return &c.OutboundMaxRequestBody })},
	{"outbound-max-requests", "PICLOUD_OUTBOUND_MAX_REQUESTS", "20", "outbound HTTP requests one invocation may make", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("must be a positive integer")
		}
		c.OutboundMaxRequests = n
		return nil
	}},
	// Checked when the server opens the key (package secrets), whose
	// errors never repeat a key.
	{"secret-key-file", "PICLOUD_SECRET_KEY_FILE", "", "file of the key that encrypts apps' secrets; generated, mode 0600, on first start (default: secret.key in the data directory)", func(c *Config, v string) error {
		c.SecretKeyFile = v
		return nil
	}},
	{"", "PICLOUD_SECRET_KEY", "", "the key that encrypts apps' secrets, 32 bytes as base64 or hex; wins over the key file", func(c *Config, v string) error {
		c.SecretKey = v
		return nil
	}},
}

func durationSetter(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 5s or 24h")
		}
		*field(c) = d
		return nil
	}
}

func sizeSetter(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		*field(c) = n
		return nil
	}
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

// Load parses args (without the program name) and the environment.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	values := make(map[string]*string)
	for _, s := range settings {
		if s.flag != "" {
			values[s.flag] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.help, s.env, s.def))
		}
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, s := range settings {
		v, from := s.def, "default"
		if e := getenv(s.env); e != "" {
			v, from = e, s.env
		}
		if p := values[s.flag]; p != nil && *p != "" {
			v, from = *p, "--"+s.flag
		}
		if err := s.set(&c, v); err != nil {
			return c, fmt.Errorf("config: %s (%s=%q): %w", s.help, from, v, err)
		}
	}
	return c, nil
}

// DatabasePath is the SQLite file inside the data directory.
func (c Config) DatabasePath() string { return filepath.Join(c.DataDir, "picloud.db") }

// SecretKeyPath is the key file: SecretKeyFile, else secret.key in the
// data directory.
func (c Config) SecretKeyPath() string {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile
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

// Logger builds the server's structured logger.
func (c Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
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
