package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/store"
)

// The groups of settings that several binaries share, declared once each
// so that a setting has the same name, default and meaning everywhere.

// Common are the settings of every server binary.
type Common struct {
	Listen          string
	LogLevel        slog.Level
	LogFormat       string
	ShutdownTimeout time.Duration
}

// common declares Common; listen is the default address, unix whether a
// unix socket is allowed.
func (s *Set) common(c *Common, listen string, unix bool) {
	help := "address to listen on"
	if unix {
		help = "address to listen on: host:port or unix:/path/to.sock"
	}
	s.Address(&c.Listen, "listen", listen, help, unix, false)
	s.Var("log-level", "info", "log level: debug, info, warn, error", func(v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	})
	s.Var("log-format", "text", "log format: text or json", func(v string) error {
		if v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	})
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", "30s", "how long in-flight requests may take at shutdown")
}

// Logger builds the process's structured logger.
func (c Common) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// database declares --db, a PostgreSQL URL: required in a cluster,
// optional (SQLite otherwise) for the all-in-one server.
func (s *Set) database(p *string, required bool, help string) {
	s.Var("db", "", help, func(v string) error {
		if v == "" {
			if required {
				return errors.New("is required: give --db or set PICLOUD_DB")
			}
			*p = ""
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return errors.New("must be a URL postgres://user:password@host:port/database")
		}
		*p = v
		return nil
	})
}

// admin declares the first administrator's name and password.
func (s *Set) admin(user, password *string) {
	s.Var("admin-user", "admin", "name of the first admin user", func(v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		*user = v
		return nil
	})
	s.Secret("admin-password", "password of the first admin (generated and printed once when empty)", func(v string) error {
		*password = v
		return nil
	})
}

// limits declares the default invocation limits.
func (s *Set) limits(l *executor.Limits) {
	s.Duration(&l.Timeout, "timeout", "5s", "default time limit of one invocation")
	s.Var("max-operations", "50000000", "default operation limit of one invocation", func(v string) error {
		n, err := parseUint(v)
		l.MaxOperations = n
		return err
	})
	s.Size(&l.MaxBodyBytes, "max-body", "1MiB", "default request body limit of the data plane")
	s.Size(&l.MaxMemoryBytes, "max-memory", "16MiB", "default bound of the data one run holds at once (and of each value)")
	s.Size(&l.MaxScriptBytes, "max-script", "1MiB", "bound of a script's source, checked at deploy (413) and before compiling")
	s.Size(&l.KV.MaxValueBytes, "kv-max-value", "64KiB", "default bound of one value of an app's key-value store, as JSON")
	s.Size(&l.KV.MaxBytes, "kv-max-bytes", "10MiB", "default bound of the keys and values of an app's key-value store")
	s.Var("kv-max-keys", "10000", "default bound of the number of keys of an app's key-value store", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errors.New("must be a positive integer")
		}
		l.KV.MaxKeys = n
		return nil
	})
}

// storage declares the default storage quotas of each app.
func (s *Set) storage(q *store.StorageQuotas) {
	s.Size(&q.MaxQueuedBytes, "max-queued-bytes", "64MiB", "default bound of the stored requests of an app's pending async jobs")
	s.Size(&q.MaxRecordedBytes, "max-recorded-bytes", "256MiB", "default bound of the requests and responses recorded with an app's invocation logs; past it the oldest logs go")
}

// outbound declares the limits of scripts' outbound HTTP requests.
func (s *Set) outbound(l *executor.OutboundLimits) {
	s.Duration(&l.Timeout, "outbound-timeout", "10s", "longest time one outbound HTTP request of a script may take")
	s.Size(&l.MaxResponseBytes, "outbound-max-response", "1MiB", "bound of the body of one outbound HTTP response")
	s.Size(&l.MaxRequestBytes, "outbound-max-request-body", "1MiB", "bound of the body of one outbound HTTP request")
	s.Int(&l.MaxRequests, "outbound-max-requests", "20", "outbound HTTP requests one invocation may make")
}

// Logs are the settings of the invocation log. NoJournal turns the
// effect journals of the records off.
type Logs struct {
	Retention, Flush time.Duration
	NoJournal        bool
}

func (s *Set) logs(l *Logs) {
	s.Duration(&l.Retention, "log-retention", "168h", "how long invocation logs are kept")
	s.Duration(&l.Flush, "log-flush", "500ms", "longest delay before an invocation log record is written")
	s.Var("log-journal", "on", "record each invocation's effect journal with its log record: on or off", func(v string) error {
		switch v {
		case "on", "off":
			l.NoJournal = v == "off"
			return nil
		}
		return fmt.Errorf("want on or off, not %q", v)
	})
}

// SecretKey is where the key that seals apps' secrets comes from: Key
// (never a flag, never logged) wins over the file KeyFile.
type SecretKey struct {
	Key, KeyFile string
}

func (s *Set) secretKey(k *SecretKey, fileHelp string) {
	s.String(&k.KeyFile, "secret-key-file", "", fileHelp)
	s.Secret("secret-key", "the key that encrypts apps' secrets, 32 bytes as base64 or hex; wins over the key file", func(v string) error {
		k.Key = v
		return nil
	})
}

// metrics declares how /metrics is reached.
func (s *Set) metrics(a *cluster.MetricsAccess) {
	s.Address(&a.Listen, "metrics-listen", "", "a separate host:port that serves /metrics without a token (keep it private); empty: /metrics on the main address, with a token", false, true)
	s.String(&a.TokenFile, "metrics-token-file", "", "file holding the bearer token that reads /metrics (besides an administrator's session or API key)")
	s.Secret("metrics-token", "the bearer token that reads /metrics; wins over the token file", func(v string) error {
		a.Token = v
		return nil
	})
}

// login declares the sign-in throttle.
func (s *Set) login(l *manager.LoginLimits) {
	s.Int(&l.MaxFailures, "login-max-failures", "5", "failed password checks of a user from one client address before each further one waits")
	s.Int(&l.MaxAddressFailures, "login-max-failures-per-address", "30", "failed password checks from one client address, any user, before each further one waits")
	s.Int(&l.MaxUserFailures, "login-max-failures-per-user", "100", "failed password checks of a user from all addresses before each further one waits (at most a minute)")
	s.Var("trusted-proxies", "127.0.0.0/8,::1", "comma-separated addresses and CIDRs of reverse proxies whose X-Forwarded-For names the client; empty trusts none", func(v string) error {
		p, err := httpx.ParsePrefixes(v)
		l.TrustedProxies = p
		return err
	})
}

// admission declares the admission gate of script runs.
func (s *Set) admission(p *cluster.Protection) {
	s.Auto(&p.MaxInflight, "max-inflight", "script runs in flight at once; auto: 8 × the processors")
	s.Auto(&p.MaxInflightPerApp, "max-inflight-per-app", "script runs of one app in flight at once (an app's limits may change it); auto: a quarter of --max-inflight")
	s.Int(&p.MaxInflightHeavy, "max-inflight-heavy", "1", "script runs in flight at once of an app whose runs hit a limit, timed out or ran past a million operations in the last 10 s (unless an administrator set the app's max_inflight)")
	s.Duration(&p.AdmissionWait, "admission-wait", "200ms", "longest wait of a run for a slot before it is refused with 503 or 429")
}

// connections declares the HTTP connection guard and timeouts.
func (s *Set) connections(p *cluster.Protection) {
	s.Int(&p.Guard.MaxConns, "max-conns", "1024", "HTTP connections open at once (lowered to the file descriptor limit); the last eighth serve only the control plane and /healthz")
	s.Count(&p.Guard.MaxConnsPerClient, "max-conns-per-client", "256", "HTTP connections of one client address; 0: no cap (set 0 behind a reverse proxy)")
	s.Size(&p.Guard.MinBodyRate, "min-body-rate", "4KiB", "slowest rate, per second, of a request body once --body-grace has passed")
	s.Duration(&p.Guard.BodyGrace, "body-grace", "5s", "time a request body has before --min-body-rate counts")
	s.Duration(&p.ReadHeaderTimeout, "read-header-timeout", "10s", "longest time to receive a request's headers")
	s.Duration(&p.IdleTimeout, "idle-timeout", "120s", "longest a kept-alive connection waits for its next request")
}

func parseUint(v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		return 0, errors.New("must be a positive integer")
	}
	return n, nil
}
