package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/picloud/picloud/internal/metrics"
)

// MetricsAccess says how /metrics is reached: on its own private address
// (Listen), or on the main one with the token (Token, else the content of
// TokenFile) or an administrator's credentials.
type MetricsAccess struct {
	Listen, Token, TokenFile string
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
