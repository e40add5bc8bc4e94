package cluster

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
)

type testSettings struct {
	Common
	db      string
	limits  executor.Limits
	n       int
	protect Protection
}

func parse(args []string, env map[string]string) (testSettings, error) {
	var s testSettings
	f := NewFlags("test", func(k string) string { return env[k] }, io.Discard)
	f.Common(&s.Common, "127.0.0.1:8080", true)
	f.String(&s.db, "db", "PICLOUD_DB", "", "database", true)
	f.Limits(&s.limits)
	f.Int(&s.n, "workers", "PICLOUD_WORKERS", "4", "workers")
	f.Admission(&s.protect)
	f.Connections(&s.protect)
	return s, f.Parse(args)
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(testSettings) bool
		usage string // part of the usage error; "" for none
	}{
		{name: "defaults", args: []string{"--db", "postgres://x"},
			check: func(s testSettings) bool {
				return s.Listen == "127.0.0.1:8080" && s.db == "postgres://x" && s.n == 4 && s.LogLevel == slog.LevelInfo &&
					s.ShutdownTimeout == 30*time.Second && s.limits == executor.DefaultLimits()
			}},
		{name: "environment over default", env: map[string]string{"PICLOUD_DB": "postgres://env", "PICLOUD_MAX_MEMORY": "4MiB", "PICLOUD_LISTEN": "unix:/run/x.sock"},
			check: func(s testSettings) bool {
				return s.db == "postgres://env" && s.limits.MaxMemoryBytes == 4<<20 && s.Listen == "unix:/run/x.sock"
			}},
		{name: "flag over environment", args: []string{"--db", "postgres://flag", "--timeout", "2s", "--log-level", "debug"},
			env: map[string]string{"PICLOUD_DB": "postgres://env", "PICLOUD_TIMEOUT": "9s"},
			check: func(s testSettings) bool {
				return s.db == "postgres://flag" && s.limits.Timeout == 2*time.Second && s.LogLevel == slog.LevelDebug
			}},
		{name: "required", usage: "database (default=\"\"): is required: give --db or set PICLOUD_DB"},
		{name: "bad duration", args: []string{"--db", "x", "--timeout", "soon"}, usage: `(--timeout="soon"): must be a positive duration`},
		{name: "bad size from env", args: []string{"--db", "x"}, env: map[string]string{"PICLOUD_MAX_BODY": "lots"}, usage: `PICLOUD_MAX_BODY="lots"`},
		{name: "bad address", args: []string{"--db", "x", "--listen", "8080"}, usage: "not a host:port address"},
		{name: "empty socket", args: []string{"--db", "x", "--listen", "unix:"}, usage: "names no socket"},
		{name: "zero workers", args: []string{"--db", "x", "--workers", "0"}, usage: "must be a positive integer"},
		{name: "kv limits", args: []string{"--db", "x", "--kv-max-keys", "5"}, env: map[string]string{"PICLOUD_KV_MAX_VALUE": "1KiB"},
			check: func(s testSettings) bool {
				return s.limits.KV == store.KVLimits{MaxValueBytes: 1 << 10, MaxBytes: 10 << 20, MaxKeys: 5}
			}},
		{name: "zero kv keys", args: []string{"--db", "x", "--kv-max-keys", "0"}, usage: "(--kv-max-keys=\"0\"): must be a positive integer"},
		{name: "protection defaults", args: []string{"--db", "x"},
			check: func(s testSettings) bool {
				p := s.protect
				return p.MaxInflight == 0 && p.MaxInflightPerApp == 0 && p.AdmissionWait == 200*time.Millisecond &&
					p.Guard.MaxConns == 1024 && p.Guard.MaxConnsPerClient == 256 && p.Guard.MinBodyRate == 4<<10 &&
					p.Guard.BodyGrace == 5*time.Second && p.ReadHeaderTimeout == 10*time.Second && p.IdleTimeout == 120*time.Second
			}},
		{name: "protection settings", args: []string{"--db", "x", "--max-inflight", "6", "--max-conns-per-client", "0"},
			env: map[string]string{"PICLOUD_MAX_INFLIGHT_PER_APP": "2", "PICLOUD_MIN_BODY_RATE": "1KiB"},
			check: func(s testSettings) bool {
				p := s.protect
				return p.MaxInflight == 6 && p.MaxInflightPerApp == 2 && p.Guard.MaxConnsPerClient == 0 && p.Guard.MinBodyRate == 1<<10
			}},
		{name: "zero max inflight", args: []string{"--db", "x", "--max-inflight", "0"}, usage: `(--max-inflight="0"): must be a positive integer`},
		{name: "unknown flag", args: []string{"--nope"}, usage: "flag provided but not defined"},
		{name: "argument", args: []string{"--db", "x", "serve"}, usage: `unexpected argument "serve"`},
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
	s, err := parse(append([]string{"--db", "x"}, LimitArgs(want)...), nil)
	if err != nil || s.limits != want {
		t.Fatalf("%+v %v", s.limits, err)
	}
}

// A unix socket left by a killed process is replaced, and only its owner
// may connect.
func TestListenUnix(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "x.sock")
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	ln, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi.Mode(), err)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()

	// Anything but a socket is left alone.
	file := filepath.Join(dir, "data")
	if err := os.WriteFile(file, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("unix:" + file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("listening on a file: %v", err)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep" {
		t.Fatalf("the file was touched: %q %v", b, err)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inside := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inside)
		time.Sleep(100 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, slog.New(slog.DiscardHandler), ln, h, 5*time.Second, nil) }()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-inside
	cancel()
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request: %q", body)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

func TestHealth(t *testing.T) {
	for _, tt := range []struct {
		check func(context.Context) error
		code  int
		body  string
	}{
		{nil, 200, `{"status":"ok"}`},
		{func(context.Context) error { return nil }, 200, `{"status":"ok"}`},
		{func(context.Context) error { return errors.New("executor down") }, 503, `{"error":"executor down","status":"unavailable"}`},
	} {
		rec := httptest.NewRecorder()
		Health(tt.check)(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != tt.code || strings.TrimSpace(rec.Body.String()) != tt.body || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%d %q %v", rec.Code, rec.Body, rec.Header())
		}
	}
}

func TestOutboundFlags(t *testing.T) {
	parse := func(args []string, env map[string]string) (executor.OutboundLimits, error) {
		var l executor.OutboundLimits
		f := NewFlags("test", func(k string) string { return env[k] }, io.Discard)
		f.Outbound(&l)
		return l, f.Parse(args)
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
