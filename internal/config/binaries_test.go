package config

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
)

type testSettings = Orchestrator

func parse(args []string, env map[string]string) (testSettings, error) {
	return LoadOrchestrator(args, func(k string) string { return env[k] }, io.Discard)
}

func TestOrchestratorSettings(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(testSettings) bool
		usage string // part of the usage error; "" for none
	}{
		{name: "defaults", args: []string{"--db", "postgres://x"},
			check: func(s testSettings) bool {
				return s.Listen == "127.0.0.1:8081" && s.DB == "postgres://x" && s.Workers == 4 && s.LogLevel == slog.LevelInfo &&
					s.ShutdownTimeout == 30*time.Second && s.Limits == executor.DefaultLimits()
			}},
		{name: "environment over default", env: map[string]string{"PICLOUD_DB": "postgres://env", "PICLOUD_MAX_MEMORY": "4MiB", "PICLOUD_LISTEN": "127.0.0.2:9"},
			check: func(s testSettings) bool {
				return s.DB == "postgres://env" && s.Limits.MaxMemoryBytes == 4<<20 && s.Listen == "127.0.0.2:9"
			}},
		{name: "flag over environment", args: []string{"--db", "postgres://flag", "--timeout", "2s", "--log-level", "debug"},
			env: map[string]string{"PICLOUD_DB": "postgres://env", "PICLOUD_TIMEOUT": "9s"},
			check: func(s testSettings) bool {
				return s.DB == "postgres://flag" && s.Limits.Timeout == 2*time.Second && s.LogLevel == slog.LevelDebug
			}},
		{name: "required", usage: "(default=\"\"): is required: give --db or set PICLOUD_DB"},
		{name: "not a postgres URL", args: []string{"--db", "mysql://x"}, usage: "must be a URL postgres://"},
		{name: "bad duration", args: []string{"--db", "postgres://x", "--timeout", "soon"}, usage: `(--timeout="soon"): must be a positive duration`},
		{name: "bad size from env", args: []string{"--db", "postgres://x"}, env: map[string]string{"PICLOUD_MAX_BODY": "lots"}, usage: `PICLOUD_MAX_BODY="lots"`},
		{name: "bad address", args: []string{"--db", "postgres://x", "--listen", "8080"}, usage: "not a host:port address"},
		{name: "no socket for an orchestrator", args: []string{"--db", "postgres://x", "--listen", "unix:/run/x.sock"}, usage: "does not listen on a unix socket"},
		{name: "zero workers", args: []string{"--db", "postgres://x", "--workers", "0"}, usage: "must be a positive integer"},
		{name: "kv limits", args: []string{"--db", "postgres://x", "--kv-max-keys", "5"}, env: map[string]string{"PICLOUD_KV_MAX_VALUE": "1KiB"},
			check: func(s testSettings) bool {
				return s.Limits.KV == store.KVLimits{MaxValueBytes: 1 << 10, MaxBytes: 10 << 20, MaxKeys: 5}
			}},
		{name: "zero kv keys", args: []string{"--db", "postgres://x", "--kv-max-keys", "0"}, usage: "(--kv-max-keys=\"0\"): must be a positive integer"},
		{name: "protection defaults", args: []string{"--db", "postgres://x"},
			check: func(s testSettings) bool {
				p := s.Protection
				return p.MaxInflight == 0 && p.MaxInflightPerApp == 0 && p.AdmissionWait == 200*time.Millisecond &&
					p.Guard.MaxConns == 1024 && p.Guard.MaxConnsPerClient == 256 && p.Guard.MinBodyRate == 4<<10 &&
					p.Guard.BodyGrace == 5*time.Second && p.ReadHeaderTimeout == 10*time.Second && p.IdleTimeout == 120*time.Second
			}},
		{name: "protection settings", args: []string{"--db", "postgres://x", "--max-inflight", "6", "--max-conns-per-client", "0"},
			env: map[string]string{"PICLOUD_MAX_INFLIGHT_PER_APP": "2", "PICLOUD_MIN_BODY_RATE": "1KiB"},
			check: func(s testSettings) bool {
				p := s.Protection
				return p.MaxInflight == 6 && p.MaxInflightPerApp == 2 && p.Guard.MaxConnsPerClient == 0 && p.Guard.MinBodyRate == 1<<10
			}},
		{name: "zero max inflight", args: []string{"--db", "postgres://x", "--max-inflight", "0"}, usage: `(--max-inflight="0"): must be a positive integer`},
		{name: "unknown flag", args: []string{"--nope"}, usage: "flag provided but not defined"},
		{name: "argument", args: []string{"--db", "postgres://x", "serve"}, usage: `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parse(tt.args, tt.env)
			var ue *UsageError
			switch {
			case tt.usage != "":
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.usage) {
					t.Fatalf("error %v; want a usage error with %q", err, tt.usage)
				}
				if code := Exit("test", err, io.Discard); code != ExitUsage {
					t.Fatalf("exit code %d", code)
				}
			case err != nil:
				t.Fatal(err)
			case !tt.check(s):
				t.Fatalf("settings %+v", s)
			}
		})
	}
	if _, err := parse([]string{"--help"}, nil); !errors.Is(err, flag.ErrHelp) || Exit("test", err, io.Discard) != 0 {
		t.Fatalf("--help: %v", err)
	}
	if code := Exit("test", errors.New("boom"), io.Discard); code != ExitFail {
		t.Fatalf("exit code %d", code)
	}
}

// LimitArgs gives another binary the same limits.
func TestLimitArgs(t *testing.T) {
	want := executor.Limits{Timeout: 1500 * time.Millisecond, MaxOperations: 7, MaxBodyBytes: 1000, MaxMemoryBytes: 3 << 20,
		KV: store.KVLimits{MaxValueBytes: 100, MaxBytes: 5000, MaxKeys: 9}, MaxScriptBytes: 4096}
	s, err := parse(append([]string{"--db", "postgres://x"}, LimitArgs(want)...), nil)
	if err != nil || s.Limits != want {
		t.Fatalf("%+v %v", s.Limits, err)
	}
}

func TestOutboundSettings(t *testing.T) {
	parse := func(args []string, env map[string]string) (executor.OutboundLimits, error) {
		c, err := LoadOrchestrator(append([]string{"--db", "postgres://x"}, args...), func(k string) string { return env[k] }, io.Discard)
		return c.Outbound, err
	}
	l, err := parse(nil, nil)
	if err != nil || l != executor.DefaultOutboundLimits() {
		t.Errorf("defaults: %+v, %v; want %+v", l, err, executor.DefaultOutboundLimits())
	}
	l, err = parse([]string{"--outbound-max-requests", "3"}, map[string]string{"PICLOUD_OUTBOUND_TIMEOUT": "2s", "PICLOUD_OUTBOUND_MAX_RESPONSE": "64KiB"})
	if err != nil || l.Timeout != 2*time.Second || l.MaxResponseBytes != 64<<10 || l.MaxRequests != 3 || l.MaxRequestBytes != 1<<20 {
		t.Errorf("set: %+v, %v", l, err)
	}
	var ue *UsageError
	if _, err := parse(nil, map[string]string{"PICLOUD_OUTBOUND_MAX_REQUEST_BODY": "huge"}); !errors.As(err, &ue) {
		t.Errorf("a bad size: %v, want a usage error", err)
	}
}
