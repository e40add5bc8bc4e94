package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/picloud/picloud/internal/executor"
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
	app, err := o.store.GetApp(ctx, inv.AppSlug)
	if err != nil {
		return store.Invocation{}, fmt.Errorf("orchestrator: replay: app %q: %w", inv.AppSlug, err)
	}
	sc, err := o.store.GetScript(ctx, app.ID, inv.Script)
	if err != nil {
		return store.Invocation{}, fmt.Errorf("orchestrator: replay: script %q: %w", inv.Script, err)
	}
	if version == 0 {
		version = sc.LiveVersion
	}
	v, err := o.store.GetVersion(ctx, sc.ID, version)
	if err != nil {
		return store.Invocation{}, fmt.Errorf("orchestrator: replay: version %d of script %q: %w", version, inv.Script, err)
	}

	// The version runs as the live one would: with its app's secrets,
	// outbound policy, key-value store and modules.
	c, err := o.prepare(ctx, store.LiveScript{App: app, Script: sc, Version: v})
	if err != nil {
		return store.Invocation{}, fmt.Errorf("orchestrator: replay: version %d of script %q: %w", version, inv.Script, err)
	}
	started := time.Now()
	id := o.ids.Next(started)
	query, _ := url.ParseQuery(req.Query) // what could be parsed, as net/http does
	res := c.run(ctx, executor.Event{
		App:    app.Slug,
		Script: sc.Name,
		Method: req.Method,
		Path:   req.Path,
		Query:  query,
		Header: req.Header,
		Host:   req.Host,
		Body:   req.Body,
	}, o.defaults.Merge(app.Limits))
	rec := withResult(store.Invocation{
		ID:       id,
		AppID:    app.ID,
		AppSlug:  app.Slug,
		Script:   sc.Name,
		Version:  v.Version,
		Trigger:  store.TriggerReplay,
		Request:  req,
		Response: recordResponse(res),
	}, started, res)
	o.logs.add(rec)
	o.metrics.ObserveInvocation(app.Slug, res.Status, res.Duration)
	o.metrics.LimitReached(app.Slug, res.Limit)
	return rec, nil
}
