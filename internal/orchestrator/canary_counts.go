package orchestrator

import (
	"context"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// CanaryFlushInterval is how often a node adds the outcomes it counted
// for the running canaries to their counts in the database, in one
// transaction: the requests themselves write nothing.
const CanaryFlushInterval = time.Second

// canaryCounts holds the outcomes a node counted since its last flush.
type canaryCounts struct {
	mu     sync.Mutex
	deltas map[[2]int64]*store.CanaryDelta

	stop, done chan struct{}
}

func newCanaryCounts() *canaryCounts {
	return &canaryCounts{deltas: map[[2]int64]*store.CanaryDelta{}}
}

// add counts one run on side of the canary of (appID, releaseID).
func (k *canaryCounts) add(appID, releaseID int64, side string, failed bool) {
	n := store.CanaryCounts{Total: 1}
	if failed {
		n.Errors = 1
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.entry(appID, releaseID)
	if side == sideCanary {
		e.Candidate = e.Candidate.Add(n)
	} else {
		e.Base = e.Base.Add(n)
	}
}

// putBack adds ds again, after a flush that failed.
func (k *canaryCounts) putBack(ds []store.CanaryDelta) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, d := range ds {
		e := k.entry(d.AppID, d.ReleaseID)
		e.Base, e.Candidate = e.Base.Add(d.Base), e.Candidate.Add(d.Candidate)
	}
}

func (k *canaryCounts) entry(appID, releaseID int64) *store.CanaryDelta {
	key := [2]int64{appID, releaseID}
	e := k.deltas[key]
	if e == nil {
		e = &store.CanaryDelta{AppID: appID, ReleaseID: releaseID}
		k.deltas[key] = e
	}
	return e
}

// take empties the counts and returns them.
func (k *canaryCounts) take() []store.CanaryDelta {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]store.CanaryDelta, 0, len(k.deltas))
	for _, d := range k.deltas {
		out = append(out, *d)
	}
	clear(k.deltas)
	return out
}

// flushCanaryCounts writes the counts; those it could not write wait for the next
// flush.
func (o *Orchestrator) flushCanaryCounts(ctx context.Context) error {
	ds := o.canaryCounts.take()
	if len(ds) == 0 {
		return nil
	}
	if err := o.store.AddCanaryCounts(ctx, ds); err != nil {
		o.canaryCounts.putBack(ds)
		return err
	}
	return nil
}

// startCanaryFlush flushes the counts every CanaryFlushInterval until
// stopCanaryFlush.
func (o *Orchestrator) startCanaryFlush() {
	k := o.canaryCounts
	k.stop, k.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(k.done)
		t := time.NewTicker(CanaryFlushInterval)
		defer t.Stop()
		for {
			select {
			case <-k.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 10*CanaryFlushInterval)
				if err := o.flushCanaryCounts(ctx); err != nil {
					o.logger.Error("orchestrator: unable to write the counts of the canaries; they wait for the next flush", "err", err)
				}
				cancel()
			}
		}
	}()
}

// stopCanaryFlush stops the flushes and writes what is left.
func (o *Orchestrator) stopCanaryFlush(ctx context.Context) error {
	k := o.canaryCounts
	if k.stop != nil {
		close(k.stop)
		select {
		case <-k.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		k.stop = nil
	}
	return o.flushCanaryCounts(ctx)
}
