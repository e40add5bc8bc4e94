package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/metrics"
)

// MetricsAccess says how /metrics is reached: on its own private address
// (Listen), or on the main one with the token (Token, else the content of
// TokenFile) or an administrator's credentials.
type MetricsAccess struct {
	Listen, Token, TokenFile string
}

// Metrics declares the settings of MetricsAccess, as picloud serve has
// them.
func (f *Flags) Metrics(a *MetricsAccess) {
	f.Var("metrics-listen", "PICLOUD_METRICS_LISTEN", "", "a separate host:port that serves /metrics without a token (keep it private); empty: /metrics on the main address, with a token", func(v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("not a host:port address: %w", err)
			}
		}
		a.Listen = v
		return nil
	})
	f.String(&a.TokenFile, "metrics-token-file", "PICLOUD_METRICS_TOKEN_FILE", "", "file holding the bearer token that reads /metrics (besides an administrator's session or API key)", false)
	f.String(&a.Token, "", "PICLOUD_METRICS_TOKEN", "", "the bearer token that reads /metrics; wins over the token file", false)
}

// Login declares the settings of the sign-in throttle, as picloud serve
// has them.
func (f *Flags) Login(l *manager.LoginLimits) {
	f.Int(&l.MaxFailures, "login-max-failures", "PICLOUD_LOGIN_MAX_FAILURES", "5", "failed password checks of a user from one client address before each further one waits")
	f.Int(&l.MaxAddressFailures, "login-max-failures-per-address", "PICLOUD_LOGIN_MAX_FAILURES_PER_ADDRESS", "30", "failed password checks from one client address, any user, before each further one waits")
	f.Int(&l.MaxUserFailures, "login-max-failures-per-user", "PICLOUD_LOGIN_MAX_FAILURES_PER_USER", "100", "failed password checks of a user from all addresses before each further one waits (at most a minute)")
	f.Var("trusted-proxies", "PICLOUD_TRUSTED_PROXIES", "127.0.0.0/8,::1", "comma-separated addresses and CIDRs of reverse proxies whose X-Forwarded-For names the client; empty trusts none", func(v string) error {
		p, err := httpx.ParsePrefixes(v)
		l.TrustedProxies = p
		return err
	})
}

// MetricsGuard lets administrators and the metrics token holder read
// /metrics: *manager.Manager, or *manager.Replays on an orchestrator node.
type MetricsGuard interface {
	ProtectMetrics(h http.Handler, token string) http.Handler
}

// MountMetrics serves /metrics as a says: on mux, guarded by mgr, or on its
// own listener, which stop closes.
func MountMetrics(mux *http.ServeMux, met *metrics.Metrics, mgr MetricsGuard, a MetricsAccess, log *slog.Logger) (stop func(), err error) {
	if a.Listen == "" {
		token, err := metrics.ReadToken(a.Token, a.TokenFile)
		if err != nil {
			return nil, err
		}
		mux.Handle("GET /metrics", mgr.ProtectMetrics(met.Handler(), token))
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.Listen)
	if err != nil {
		return nil, fmt.Errorf("cluster: unable to listen for /metrics: %w", err)
	}
	own := http.NewServeMux()
	own.Handle("GET /metrics", met.Handler())
	srv := &http.Server{Handler: own, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving /metrics", "address", "http://"+ln.Addr().String()+"/metrics")
	return func() { srv.Close() }, nil
}
