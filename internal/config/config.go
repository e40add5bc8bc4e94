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
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/httpx"
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
	MaxScriptBytes  int64         // bound of a script's source, at deploy and compile
	KVMaxValueBytes int64         // default bound of a value of an app's key-value store
	KVMaxBytes      int64         // default bound of the keys and values of an app's key-value store
	KVMaxKeys       int64         // default bound of the keys of an app's key-value store
	LogRetention    time.Duration // how long invocation records are kept
	LogFlush        time.Duration // longest delay before a log record is written
	ShutdownTimeout time.Duration // how long in-flight requests may take at shutdown

	// Storage quotas of each app (store.StorageQuotas).
	MaxQueuedBytes   int64 // default bound of the stored requests of an app's pending jobs
	MaxRecordedBytes int64 // default bound of the recorded exchanges of an app's invocation records

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

	MaxRunningJobs int // default bound of one app's jobs running at once
	// Sign-in throttling and /metrics access (docs/operations.md).
	LoginMaxFailures        int            // failures of a user from one address before waiting
	LoginMaxAddressFailures int            // failures from one address before waiting
	LoginMaxUserFailures    int            // failures of a user from all addresses before waiting
	TrustedProxies          []netip.Prefix // proxies whose X-Forwarded-For is believed
	MetricsListen           string         // a separate address for /metrics; empty: the main one
	MetricsToken            string         // bearer token for /metrics (never logged)
	MetricsTokenFile        string         // file holding MetricsToken
	// Protecting the server (docs/operations.md): runs in flight, and
	// connections.
	MaxInflight       int           // runs in flight on the node; 0: DefaultMaxInflight
	MaxInflightPerApp int           // runs in flight of one app; 0: a quarter of MaxInflight
	MaxInflightHeavy  int           // runs in flight of a heavy app (orchestrator/admission.go)
	AdmissionWait     time.Duration // longest wait for a run's slot before 503/429
	MaxConns          int           // connections open at once
	MaxConnsPerClient int           // connections of one client address; 0: no cap
	MinBodyRate       int64         // slowest request body, bytes per second, past BodyGrace
	BodyGrace         time.Duration // time a request body has before MinBodyRate counts
	ReadHeaderTimeout time.Duration // longest time to receive a request's headers
	IdleTimeout       time.Duration // longest a kept-alive connection waits for a request
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
	{"max-script", "PICLOUD_MAX_SCRIPT", "1MiB", "bound of a script's source, checked at deploy (413) and before compiling", sizeSetter(func(c *Config) *int64 { return &c.MaxScriptBytes })},
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
	{"max-queued-bytes", "PICLOUD_MAX_QUEUED_BYTES", "64MiB", "default bound of the stored requests of an app's pending async jobs", sizeSetter(func(c *Config) *int64 { return &c.MaxQueuedBytes })},
	{"max-recorded-bytes", "PICLOUD_MAX_RECORDED_BYTES", "256MiB", "default bound of the requests and responses recorded with an app's invocation logs; past it the oldest logs go", sizeSetter(func(c *Config) *int64 { return &c.MaxRecordedBytes })},
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
	{"max-running-jobs", "PICLOUD_MAX_RUNNING_JOBS", "2", "default bound of one app's background jobs running at once (of the server's 4 workers)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("must be a positive integer")
		}
		c.MaxRunningJobs = n
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
	{"login-max-failures", "PICLOUD_LOGIN_MAX_FAILURES", "5", "failed password checks of a user from one client address before each further one waits", positiveInt(func(c *Config) *int { return &c.LoginMaxFailures })},
	{"login-max-failures-per-address", "PICLOUD_LOGIN_MAX_FAILURES_PER_ADDRESS", "30", "failed password checks from one client address, any user, before each further one waits", positiveInt(func(c *Config) *int { return &c.LoginMaxAddressFailures })},
	{"login-max-failures-per-user", "PICLOUD_LOGIN_MAX_FAILURES_PER_USER", "100", "failed password checks of a user from all addresses before each further one waits (at most a minute)", positiveInt(func(c *Config) *int { return &c.LoginMaxUserFailures })},
	{"trusted-proxies", "PICLOUD_TRUSTED_PROXIES", "127.0.0.0/8,::1", "comma-separated addresses and CIDRs of reverse proxies whose X-Forwarded-For names the client; empty trusts none", func(c *Config, v string) error {
		p, err := httpx.ParsePrefixes(v)
		c.TrustedProxies = p
		return err
	}},
	{"metrics-listen", "PICLOUD_METRICS_LISTEN", "", "a separate host:port that serves /metrics without a token (keep it private); empty: /metrics on the main address, with a token", func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("not a host:port address: %w", err)
			}
		}
		c.MetricsListen = v
		return nil
	}},
	{"metrics-token-file", "PICLOUD_METRICS_TOKEN_FILE", "", "file holding the bearer token that reads /metrics (besides an administrator's session or API key)", func(c *Config, v string) error {
		c.MetricsTokenFile = v
		return nil
	}},
	{"", "PICLOUD_METRICS_TOKEN", "", "the bearer token that reads /metrics; wins over the token file", func(c *Config, v string) error {
		c.MetricsToken = v
		return nil
	}},
	{"max-inflight", "PICLOUD_MAX_INFLIGHT", "auto", "script runs in flight at once; auto: 8 × the processors", autoIntSetter(func(c *Config) *int { return &c.MaxInflight })},
	{"max-inflight-per-app", "PICLOUD_MAX_INFLIGHT_PER_APP", "auto", "script runs of one app in flight at once (an app's limits may change it); auto: a quarter of --max-inflight", autoIntSetter(func(c *Config) *int { return &c.MaxInflightPerApp })},
	{"max-inflight-heavy", "PICLOUD_MAX_INFLIGHT_HEAVY", "1", "script runs in flight at once of an app whose runs hit a limit, timed out or ran past a million operations in the last 10 s (unless an administrator set the app's max_inflight)", func(c *Config, v string) error {
		return ParseCount(v, &c.MaxInflightHeavy, false)
	}},
	{"admission-wait", "PICLOUD_ADMISSION_WAIT", "200ms", "longest wait of a run for a slot before it is refused with 503 or 429", durationSetter(func(c *Config) *time.Duration { return &c.AdmissionWait })},
	{"max-conns", "PICLOUD_MAX_CONNS", "1024", "HTTP connections open at once (lowered to the file descriptor limit); the last eighth serve only the control plane and /healthz", func(c *Config, v string) error {
		return ParseCount(v, &c.MaxConns, false)
	}},
	{"max-conns-per-client", "PICLOUD_MAX_CONNS_PER_CLIENT", "256", "HTTP connections of one client address; 0: no cap (set 0 behind a reverse proxy)", func(c *Config, v string) error {
		return ParseCount(v, &c.MaxConnsPerClient, true)
	}},
	{"min-body-rate", "PICLOUD_MIN_BODY_RATE", "4KiB", "slowest rate, per second, of a request body once --body-grace has passed", sizeSetter(func(c *Config) *int64 { return &c.MinBodyRate })},
	{"body-grace", "PICLOUD_BODY_GRACE", "5s", "time a request body has before --min-body-rate counts", durationSetter(func(c *Config) *time.Duration { return &c.BodyGrace })},
	{"read-header-timeout", "PICLOUD_READ_HEADER_TIMEOUT", "10s", "longest time to receive a request's headers", durationSetter(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
	{"idle-timeout", "PICLOUD_IDLE_TIMEOUT", "120s", "longest a kept-alive connection waits for its next request", durationSetter(func(c *Config) *time.Duration { return &c.IdleTimeout })},
}

func positiveInt(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("must be a positive integer")
		}
		*field(c) = n
		return nil
	}
}

// autoIntSetter reads a positive integer, or "auto" for 0: the default
// the service computes.
func autoIntSetter(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v == "auto" {
			*field(c) = 0
			return nil
		}
		return ParseCount(v, field(c), false)
	}
}

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
