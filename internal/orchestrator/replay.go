package orchestrator

import (
	"context"
	"errors"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// ErrNoRequest: the record has no recorded request to replay (a
// schedule's run, or a record older than the recording).
var ErrNoRequest = errors.New("orchestrator: the invocation has no recorded request")

// Replay runs the recorded request of inv again, against version of its
// script (0: the live one), and logs the run as an invocation of the
// trigger "replay". It returns that record, whose Response is the
// replay's. The run is real: whatever the script does (kv writes,
// outbound requests) happens again.
//
// The version is loaded from the store, not from the cache of live
// scripts, so that trying an old version does not disturb the data
// plane. A script or version that does not exist is store.ErrNotFound.
// A version that no longer compiles, or a run that fails, is an error
// result in the returned record, not an error.
func (o *Orchestrator) Replay(ctx context.Context, inv store.Invocation, version int) (store.Invocation, error) {
	req := inv.Request
	if req == nil {
		return store.Invocation{}, ErrNoRequest
	}
	c, app, v, err := o.replayable(ctx, inv, version)
	if err != nil {
		return store.Invocation{}, err
	}
	started := time.Now()
	id := o.ids.Next(started)
	ev := replayEvent(app, inv)
	ev.Journal = o.journal
	res := c.run(ctx, ev, o.defaults.Merge(app.Limits))
	rec := withResult(store.Invocation{
		ID:       id,
		AppID:    app.ID,
		AppSlug:  app.Slug,
		Script:   inv.Script,
		Version:  v.Version,
		Trigger:  store.TriggerReplay,
		Request:  req,
		Response: recordResponse(res),
		Journal:  recordJournal(res),
	}, started, res)
	o.logs.add(rec)
	o.metrics.ObserveInvocation(app.Slug, res.Status, res.Duration)
	o.metrics.LimitReached(app.Slug, res.Limit)
	return rec, nil
}
