package orchestrator

import (
	"context"
	"fmt"
	"net/url"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
)

// recordJournal is a run's effect journal as kept with its record: the
// headers of its outbound exchanges without credentials, as the recorded
// exchange's, and the app's secrets redacted from everything it holds.
// nil when the run recorded none.
func recordJournal(res executor.Result) *store.Journal {
	j := res.Journal
	if j == nil {
		return nil
	}
	return &store.Journal{Truncated: j.Truncated, Entries: recordedEntries(j.Entries, res.Secrets)}
}

// recordedEntries are journal entries as kept: secrets redacted, and
// credential headers left out of outbound exchanges.
func recordedEntries(es []store.JournalEntry, red *executor.Redactor) []store.JournalEntry {
	if es == nil {
		return nil
	}
	out := make([]store.JournalEntry, len(es))
	for i, e := range es {
		e = red.RedactEntry(e)
		if e.HTTP != nil {
			x := *e.HTTP
			x.Header, x.RespHeader = recordedHeader(x.Header), recordedHeader(x.RespHeader)
			e.HTTP = &x
		}
		out[i] = e
	}
	return out
}

// SandboxRun is the outcome of a sandboxed replay (SandboxReplay): the
// run's result, whose Replay lists its captured writes and new effects,
// and the response as it would be recorded, comparable with the recorded
// invocation's Response. The report's entries are cleaned as the
// journal's are (recordJournal), so that they compare with its entries.
type SandboxRun struct {
	Version  int
	Result   executor.Result
	Response *store.HTTPResponse
}

// SandboxReplay runs the recorded request of inv against version of its
// script (0: the live one) in the sandbox: reads, clock and random values
// are answered from inv's journal, writes are captured, and nothing the
// journal has no answer for is performed (executor.Event.Replay). Nothing
// is logged. A record without a request is ErrNoRequest; one without a
// journal replays as a run that had no effect, so any effect is new.
func (o *Orchestrator) SandboxReplay(ctx context.Context, inv store.Invocation, version int) (SandboxRun, error) {
	if inv.Request == nil {
		return SandboxRun{}, ErrNoRequest
	}
	c, app, v, err := o.replayable(ctx, inv, version)
	if err != nil {
		return SandboxRun{}, err
	}
	ev := replayEvent(app, inv)
	ev.Replay, ev.ReplayStart = inv.Journal, inv.StartedAt
	if ev.Replay == nil {
		ev.Replay = &store.Journal{}
	}
	res := c.run(ctx, ev, o.defaults.Merge(app.Limits))
	if r := res.Replay; r != nil {
		// Comparable with the recorded journal's entries.
		res.Replay = &executor.ReplayReport{Writes: recordedEntries(r.Writes, res.Secrets),
			NewEffects: recordedEntries(r.NewEffects, res.Secrets)}
	}
	return SandboxRun{Version: v.Version, Result: res, Response: recordResponse(res)}, nil
}

// replayable loads and prepares version of inv's script (0: the live
// one) from the store, not from the cache of live scripts, so that trying
// an old version does not disturb the data plane. A script or version
// that does not exist is store.ErrNotFound.
func (o *Orchestrator) replayable(ctx context.Context, inv store.Invocation, version int) (*compiled, store.App, store.Version, error) {
	app, err := o.store.GetApp(ctx, inv.AppSlug)
	if err != nil {
		return nil, store.App{}, store.Version{}, fmt.Errorf("orchestrator: replay: app %q: %w", inv.AppSlug, err)
	}
	sc, err := o.store.GetScript(ctx, app.ID, inv.Script)
	if err != nil {
		return nil, store.App{}, store.Version{}, fmt.Errorf("orchestrator: replay: script %q: %w", inv.Script, err)
	}
	if version == 0 {
		version = sc.LiveVersion
	}
	v, err := o.store.GetVersion(ctx, sc.ID, version)
	if err != nil {
		return nil, store.App{}, store.Version{}, fmt.Errorf("orchestrator: replay: version %d of script %q: %w", version, inv.Script, err)
	}
	// The version runs as the live one would: with its app's secrets,
	// outbound policy, key-value store and modules.
	c, err := o.prepare(ctx, store.LiveScript{App: app, Script: sc, Version: v})
	if err != nil {
		return nil, store.App{}, store.Version{}, fmt.Errorf("orchestrator: replay: version %d of script %q: %w", version, inv.Script, err)
	}
	return c, app, v, nil
}

// replayEvent is the event of inv's recorded request.
func replayEvent(app store.App, inv store.Invocation) executor.Event {
	req := inv.Request
	query, _ := url.ParseQuery(req.Query) // what could be parsed, as net/http does
	return executor.Event{
		App:    app.Slug,
		Script: inv.Script,
		Method: req.Method,
		Path:   req.Path,
		Query:  query,
		Header: req.Header,
		Host:   req.Host,
		Body:   req.Body,
	}
}
