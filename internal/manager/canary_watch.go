package manager

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
)

// CanaryCheckInterval is how often the manager applies the rule
// (decideCanary) to the running canaries, with the counts the nodes
// flushed (each once a second).
const CanaryCheckInterval = time.Second

// canaryWatch runs the manager's canary checks until stopped.
type canaryWatch struct {
	stop, done chan struct{}
	// pending is set while a canary may be running: at the start, and
	// at every AppChanged event (a deploy, here or through another
	// manager); a check that finds none clears it. So an idle server
	// reads nothing.
	pending atomic.Bool
}

// StartCanaries starts checking the running canaries every
// CanaryCheckInterval: rolling back those that fail, promoting those
// whose window ended. Their state is in the database, so a restarted
// manager goes on where it stopped; each decision is taken once
// (store.EndCanary), whatever runs at the same time.
func (m *Manager) StartCanaries() {
	w := &canaryWatch{stop: make(chan struct{}), done: make(chan struct{})}
	w.pending.Store(true)
	m.bus.Subscribe(func(e events.Event) {
		if e.Kind == events.AppChanged {
			w.pending.Store(true)
		}
	})
	m.canaries = w
	go func() {
		defer close(w.done)
		t := time.NewTicker(CanaryCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				if w.pending.Swap(false) {
					m.checkCanariesLogged(w)
				}
			}
		}
	}()
}

// StopCanaries stops the checks StartCanaries started, waiting for the
// one under way (bounded by ctx).
func (m *Manager) StopCanaries(ctx context.Context) error {
	w := m.canaries
	if w == nil {
		return nil
	}
	m.canaries = nil
	close(w.stop)
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkCanariesLogged checks the canaries, and keeps w pending while
// some still run or the check failed.
func (m *Manager) checkCanariesLogged(w *canaryWatch) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*CanaryCheckInterval)
	defer cancel()
	left, err := m.checkCanaries(ctx)
	if err != nil {
		m.log.Error("manager: unable to check the canaries", "err", err)
	}
	if left > 0 || err != nil {
		w.pending.Store(true)
	}
}

// CheckCanaries applies the rule to every running canary once, as the
// loop of StartCanaries does.
func (m *Manager) CheckCanaries(ctx context.Context) error {
	_, err := m.checkCanaries(ctx)
	return err
}

// checkCanaries is CheckCanaries that also says how many canaries were
// running before it decided.
func (m *Manager) checkCanaries(ctx context.Context) (int, error) {
	running, err := m.store.ListCanaries(ctx, 0, true)
	if err != nil || len(running) == 0 {
		return 0, err
	}
	apps, err := m.store.ListApps(ctx)
	if err != nil {
		return len(running), fmt.Errorf("manager: unable to list the apps: %w", err)
	}
	byID := map[int64]store.App{}
	for _, a := range apps {
		byID[a.ID] = a
	}
	now := m.now()
	var errs []error
	for _, c := range running {
		verdict, reason := decideCanary(c, now)
		app, ok := byID[c.AppID]
		if verdict == keepCanary || !ok {
			continue
		}
		state := store.CanaryPromoted
		if verdict == rollBackCanary {
			state = store.CanaryRolledBack
			m.log.Warn("manager: a canary fails; rolling it back", "app", app.Slug, "release", c.ReleaseID, "reason", reason)
		}
		if _, err := m.endCanary(ctx, app, c, state, reason, &caller{}); err != nil {
			errs = append(errs, fmt.Errorf("release %d of app %q: %w", c.ReleaseID, app.Slug, err))
		}
	}
	if len(errs) > 0 {
		return len(running), fmt.Errorf("manager: unable to decide every canary: %w", errors.Join(errs...))
	}
	return len(running), nil
}
