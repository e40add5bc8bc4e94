package manager

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/store"
)

// ReplayConfig configures Replays. Store and Replayer are required.
type ReplayConfig struct {
	Store    store.Store
	Replayer Replayer
	Logger   *slog.Logger     // default: slog.Default()
	Metrics  *metrics.Metrics // may be nil: no request metrics
}

// Replays serves POST /api/v1/logs/{id}/replay and nothing else of the
// API: the endpoint of the control plane that runs scripts. An
// orchestrator node of a cluster serves it (the proxy sends replays
// there), without the rest of a manager: no live logs fed by the bus, no
// sign-in and its throttle, no compiler. It authenticates the caller and
// checks their role in the database exactly as the manager does, through
// the same code.
type Replays struct {
	m *Manager
}

// NewReplays returns the replay endpoint alone.
func NewReplays(cfg ReplayConfig) *Replays {
	m := &Manager{
		store:    cfg.Store,
		log:      cfg.Logger,
		metrics:  cfg.Metrics,
		replayer: cfg.Replayer,
		now:      time.Now,
		mux:      http.NewServeMux(),
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.handle("POST /api/v1/logs/{id}/replay", m.replayLog)
	return &Replays{m: m}
}

// Handler serves the replay route with the API's headers and JSON errors;
// any other path under /api/ answers 404 as the manager's unknown routes
// do.
func (r *Replays) Handler() http.Handler { return r.m.Handler() }

// ProtectMetrics guards /metrics as Manager.ProtectMetrics does.
func (r *Replays) ProtectMetrics(h http.Handler, token string) http.Handler {
	return r.m.ProtectMetrics(h, token)
}
