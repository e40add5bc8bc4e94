// Package cluster holds what the cluster-mode binaries (picloud-manager,
// picloud-orchestrator, picloud-executor) share: settings read from flags
// and environment variables, and the life cycle of their HTTP servers.
// The all-in-one picloud reads its settings with package config; the
// variables mean the same in both.
package cluster

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/netguard"
	"github.com/picloud/picloud/internal/store"
)

// Flags reads settings from a command line and the environment: a flag
// given on the command line wins over its environment variable, which
// wins over the default. Declare the settings, then call Parse.
type Flags struct {
	fs       *flag.FlagSet
	getenv   func(string) string
	settings []setting
}

type setting struct {
	flag, env, def, help string
	value                *string
	set                  func(v string) error
}

// Exit codes of the cluster binaries.
const (
	ExitFail  = 1
	ExitUsage = 2
)

// Exit prints err for the command name and returns its exit code: 0 for
// nil and for flag.ErrHelp (the usage is printed already), ExitUsage for a
// *UsageError, ExitFail otherwise.
func Exit(name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitFail
}

// NewFlags returns an empty set of settings for the command name; usage
// and errors go to stderr.
func NewFlags(name string, getenv func(string) string, stderr io.Writer) *Flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &Flags{fs: fs, getenv: getenv}
}

// Var declares a setting: flag --name (none when name is ""), variable env,
// default def; set parses and stores a value.
func (f *Flags) Var(name, env, def, help string, set func(v string) error) {
	s := setting{flag: name, env: env, def: def, help: help, set: set}
	if name != "" {
		s.value = f.fs.String(name, "", fmt.Sprintf("%s (env %s, default %q)", help, env, def))
	}
	f.settings = append(f.settings, s)
}

// String declares a string setting; required ones refuse "".
func (f *Flags) String(p *string, name, env, def, help string, required bool) {
	f.Var(name, env, def, help, func(v string) error {
		if required && v == "" {
			if name == "" {
				return fmt.Errorf("is required: set %s", env)
			}
			return fmt.Errorf("is required: give --%s or set %s", name, env)
		}
		*p = v
		return nil
	})
}

// Duration declares a positive duration.
func (f *Flags) Duration(p *time.Duration, name, env, def, help string) {
	f.Var(name, env, def, help, func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 5s or 24h")
		}
		*p = d
		return nil
	})
}

// Int declares a positive integer.
func (f *Flags) Int(p *int, name, env, def, help string) {
	f.Var(name, env, def, help, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("must be a positive integer")
		}
		*p = n
		return nil
	})
}

// Address declares a listening address: host:port, or unix:/path when
// unix is true.
func (f *Flags) Address(p *string, name, env, def, help string, unix bool) {
	f.Var(name, env, def, help, func(v string) error {
		if unix && strings.HasPrefix(v, "unix:") {
			if strings.TrimPrefix(v, "unix:") == "" {
				return errors.New("names no socket")
			}
			*p = v
			return nil
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("not a host:port address: %w", err)
		}
		*p = v
		return nil
	})
}

// UsageError is a mistake on the command line or in the environment
// (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Parse parses args (without the program name), then the environment. It
// returns flag.ErrHelp for -h and --help, and a *UsageError for a bad
// value.
func (f *Flags) Parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{err}
	}
	if f.fs.NArg() > 0 {
		return &UsageError{fmt.Errorf("unexpected argument %q", f.fs.Arg(0))}
	}
	for _, s := range f.settings {
		v, from := s.def, "default"
		if e := f.getenv(s.env); e != "" {
			v, from = e, s.env
		}
		if s.value != nil && *s.value != "" {
			v, from = *s.value, "--"+s.flag
		}
		if err := s.set(v); err != nil {
			return &UsageError{fmt.Errorf("%s (%s=%q): %w", s.help, from, v, err)}
		}
	}
	return nil
}

// Common are the settings of every cluster binary.
type Common struct {
	Listen          string
	LogLevel        slog.Level
	LogFormat       string
	ShutdownTimeout time.Duration
}

// Common declares the settings of every cluster binary; listen is the
// default address, unix whether a unix socket is allowed.
func (f *Flags) Common(c *Common, listen string, unix bool) {
	help := "address to listen on"
	if unix {
		help = "address to listen on: host:port or unix:/path/to.sock"
	}
	f.Address(&c.Listen, "listen", "PICLOUD_LISTEN", listen, help, unix)
	f.Var("log-level", "PICLOUD_LOG_LEVEL", "info", "log level: debug, info, warn, error", func(v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	})
	f.Var("log-format", "PICLOUD_LOG_FORMAT", "text", "log format: text or json", func(v string) error {
		if v != "text" && v != "json" {
			return errors.New("must be text or json")
		}
		c.LogFormat = v
		return nil
	})
	f.Duration(&c.ShutdownTimeout, "shutdown-timeout", "PICLOUD_SHUTDOWN_TIMEOUT", "30s", "how long in-flight requests may take at shutdown")
}

// Logger builds the process's structured logger.
func (c Common) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Limits declares the default invocation limits, as picloud serve has them.
func (f *Flags) Limits(l *executor.Limits) {
	f.Duration(&l.Timeout, "timeout", "PICLOUD_TIMEOUT", "5s", "default time limit of one invocation")
	f.Var("max-operations", "PICLOUD_MAX_OPERATIONS", "50000000", "default operation limit of one invocation", func(v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return errors.New("must be a positive integer")
		}
		l.MaxOperations = n
		return nil
	})
	size := func(p *int64) func(string) error {
		return func(v string) error {
			n, err := config.ParseSize(v)
			*p = n
			return err
		}
	}
	f.Var("max-body", "PICLOUD_MAX_BODY", "1MiB", "default request body limit of the data plane", size(&l.MaxBodyBytes))
	f.Var("max-memory", "PICLOUD_MAX_MEMORY", "16MiB", "default bound of a script's strings, arrays and maps", size(&l.MaxMemoryBytes))
	f.Var("max-script", "PICLOUD_MAX_SCRIPT", "1MiB", "bound of a script's source, checked at deploy (413) and before compiling", size(&l.MaxScriptBytes))
	f.Var("kv-max-value", "PICLOUD_KV_MAX_VALUE", "64KiB", "default bound of one value of an app's key-value store, as JSON", size(&l.KV.MaxValueBytes))
	f.Var("kv-max-bytes", "PICLOUD_KV_MAX_BYTES", "10MiB", "default bound of the keys and values of an app's key-value store", size(&l.KV.MaxBytes))
	f.Var("kv-max-keys", "PICLOUD_KV_MAX_KEYS", "10000", "default bound of the number of keys of an app's key-value store", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return errors.New("must be a positive integer")
		}
		l.KV.MaxKeys = n
		return nil
	})
}

// Storage declares the default storage quotas of each app, as picloud
// serve has them.
func (f *Flags) Storage(q *store.StorageQuotas) {
	size := func(p *int64) func(string) error {
		return func(v string) error {
			n, err := config.ParseSize(v)
			*p = n
			return err
		}
	}
	f.Var("max-queued-bytes", "PICLOUD_MAX_QUEUED_BYTES", "64MiB", "default bound of the stored requests of an app's pending async jobs", size(&q.MaxQueuedBytes))
	f.Var("max-recorded-bytes", "PICLOUD_MAX_RECORDED_BYTES", "256MiB", "default bound of the requests and responses recorded with an app's invocation logs; past it the oldest logs go", size(&q.MaxRecordedBytes))
}

// Outbound declares the limits of scripts' outbound HTTP requests, as
// picloud serve has them.
func (f *Flags) Outbound(l *executor.OutboundLimits) {
	f.Duration(&l.Timeout, "outbound-timeout", "PICLOUD_OUTBOUND_TIMEOUT", "10s", "longest time one outbound HTTP request of a script may take")
	size := func(p *int64) func(string) error {
		return func(v string) error {
			n, err := config.ParseSize(v)
			*p = n
			return err
		}
	}
	f.Var("outbound-max-response", "PICLOUD_OUTBOUND_MAX_RESPONSE", "1MiB", "bound of the body of one outbound HTTP response", size(&l.MaxResponseBytes))
	f.Var("outbound-max-request-body", "PICLOUD_OUTBOUND_MAX_REQUEST_BODY", "1MiB", "bound of the body of one outbound HTTP request", size(&l.MaxRequestBytes))
	f.Int(&l.MaxRequests, "outbound-max-requests", "PICLOUD_OUTBOUND_MAX_REQUESTS", "20", "outbound HTTP requests one invocation may make")
}

// LimitArgs are the flags that give another cluster binary the limits l.
func LimitArgs(l executor.Limits) []string {
	return []string{
		"--timeout", l.Timeout.String(),
		"--max-operations", strconv.FormatUint(l.MaxOperations, 10),
		"--max-body", strconv.FormatInt(l.MaxBodyBytes, 10),
		"--max-memory", strconv.FormatInt(l.MaxMemoryBytes, 10),
		"--max-script", strconv.FormatInt(l.MaxScriptBytes, 10),
		"--kv-max-value", strconv.FormatInt(l.KV.MaxValueBytes, 10),
		"--kv-max-bytes", strconv.FormatInt(l.KV.MaxBytes, 10),
		"--kv-max-keys", strconv.FormatInt(l.KV.MaxKeys, 10),
	}
}

// Protection are the settings that protect a server from load it cannot
// carry: the admission gate of script runs (orchestrator) and the guard
// of HTTP connections (every binary that listens on TCP).
type Protection struct {
	MaxInflight, MaxInflightPerApp int
	MaxInflightHeavy               int
	AdmissionWait                  time.Duration
	Guard                          netguard.Config
	ReadHeaderTimeout, IdleTimeout time.Duration
}

// Admission declares the settings of the admission gate, as picloud
// serve has them.
func (f *Flags) Admission(p *Protection) {
	auto := func(q *int) func(string) error {
		return func(v string) error {
			if v == "auto" {
				*q = 0
				return nil
			}
			return config.ParseCount(v, q, false)
		}
	}
	f.Var("max-inflight", "PICLOUD_MAX_INFLIGHT", "auto", "script runs in flight at once; auto: 8 × the processors", auto(&p.MaxInflight))
	f.Var("max-inflight-per-app", "PICLOUD_MAX_INFLIGHT_PER_APP", "auto", "script runs of one app in flight at once (an app's limits may change it); auto: a quarter of --max-inflight", auto(&p.MaxInflightPerApp))
	f.Var("max-inflight-heavy", "PICLOUD_MAX_INFLIGHT_HEAVY", "1", "script runs in flight at once of an app whose runs hit a limit, timed out or ran past a million operations in the last 10 s (unless an administrator set the app's max_inflight)", func(v string) error {
		return config.ParseCount(v, &p.MaxInflightHeavy, false)
	})
	f.Duration(&p.AdmissionWait, "admission-wait", "PICLOUD_ADMISSION_WAIT", "200ms", "longest wait of a run for a slot before it is refused with 503 or 429")
}

// Connections declares the settings of the HTTP connection guard and
// timeouts, as picloud serve has them.
func (f *Flags) Connections(p *Protection) {
	f.Var("max-conns", "PICLOUD_MAX_CONNS", "1024", "HTTP connections open at once (lowered to the file descriptor limit); the last eighth serve only the control plane and /healthz", func(v string) error {
		return config.ParseCount(v, &p.Guard.MaxConns, false)
	})
	f.Var("max-conns-per-client", "PICLOUD_MAX_CONNS_PER_CLIENT", "256", "HTTP connections of one client address; 0: no cap (set 0 behind a reverse proxy)", func(v string) error {
		return config.ParseCount(v, &p.Guard.MaxConnsPerClient, true)
	})
	f.Var("min-body-rate", "PICLOUD_MIN_BODY_RATE", "4KiB", "slowest rate, per second, of a request body once --body-grace has passed", func(v string) error {
		n, err := config.ParseSize(v)
		p.Guard.MinBodyRate = n
		return err
	})
	f.Duration(&p.Guard.BodyGrace, "body-grace", "PICLOUD_BODY_GRACE", "5s", "time a request body has before --min-body-rate counts")
	f.Duration(&p.ReadHeaderTimeout, "read-header-timeout", "PICLOUD_READ_HEADER_TIMEOUT", "10s", "longest time to receive a request's headers")
	f.Duration(&p.IdleTimeout, "idle-timeout", "PICLOUD_IDLE_TIMEOUT", "120s", "longest a kept-alive connection waits for its next request")
}
