package manager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// Replayer runs the recorded request of an invocation again, against a
// version of its script (0: the live one), and logs the run as an
// invocation of the trigger "replay"; it returns that record, whose
// Response is the replay's. A script or version that does not exist is
// store.ErrNotFound. The orchestrator implements it.
type Replayer interface {
	Replay(ctx context.Context, inv store.Invocation, version int) (store.Invocation, error)
}

func toReplaySide(inv store.Invocation) api.ReplaySide {
	side := api.ReplaySide{InvocationID: inv.ID, Version: inv.Version, Outcome: inv.Status, Summary: inv.Summary,
		DurationMS: float64(inv.Duration.Microseconds()) / 1000}
	if v := toResponseView(inv.Response); v != nil {
		side.RecordedResponse = *v
	} else {
		side.RecordedResponse = api.RecordedResponse{Status: inv.HTTPStatus, Headers: http.Header{}, RecordedBody: toBody(nil, 0, false)}
	}
	return side
}

// replayLog serves POST /api/v1/logs/{id}/replay: it runs the request
// recorded with an invocation again, against the live version or the
// version given, and answers both responses. The id may be a job's (an
// async invocation): its latest attempt is replayed. Editors may replay,
// since the run is real (the script's writes and requests happen again).
func (m *Manager) replayLog(w http.ResponseWriter, r *http.Request, c *caller) error {
	if m.replayer == nil {
		return &httpx.Error{Status: http.StatusNotImplemented, Code: "not_implemented",
			Message: "this server does not run scripts, so it cannot replay them: send replays to an all-in-one picloud server, or in a cluster to an orchestrator node (docs/cluster.md)"}
	}
	// Access first: someone who may not replay learns 403 whatever the
	// body, and their body is never read.
	inv, err := m.replayedInvocation(r, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	var in api.ReplayRequest
	if r.ContentLength != 0 {
		if err := httpx.DecodeJSON(r, &in, MaxBodyBytes); err != nil {
			return err
		}
	}
	if in.Version < 0 {
		return httpx.Invalid("version must be 0 (the live version) or a version number, not %d", in.Version)
	}
	req := inv.Request
	switch {
	case req == nil && inv.Trigger == store.TriggerSchedule:
		return httpx.Conflict("invocation %q is a schedule's run, which has no HTTP request to replay", inv.ID)
	case req == nil:
		return httpx.Conflict("invocation %q has no recorded request to replay: it was logged before requests were recorded", inv.ID)
	case req.BodyTruncated && !in.Force:
		e := httpx.Conflict("the request body of invocation %q (%d bytes) was cut when it was recorded, so a replay would not send the same body; "+
			"replay with {\"force\": true} to send the %d bytes that were kept", inv.ID, req.BodySize, len(req.Body))
		// The sizes let a client say the rest in its own words (pic: --force).
		e.Details = map[string]any{"body_size": req.BodySize, "body_kept": len(req.Body)}
		return e
	}
	sc, err := m.store.GetScript(r.Context(), inv.AppID, inv.Script)
	if err != nil {
		return storeErr(err, fmt.Sprintf("script %q of app %q no longer exists", inv.Script, inv.AppSlug), "")
	}
	if in.Version != 0 {
		if _, err := m.store.GetVersion(r.Context(), sc.ID, in.Version); err != nil {
			return storeErr(err, fmt.Sprintf("script %q of app %q has no version %d (the live version is %d)", inv.Script, inv.AppSlug, in.Version, sc.LiveVersion), "")
		}
	}
	rep, err := m.replayer.Replay(r.Context(), inv, in.Version)
	if errors.Is(err, store.ErrNotFound) { // deleted meanwhile
		return httpx.NotFound("script %q of app %q or its version %d no longer exists", inv.Script, inv.AppSlug, in.Version)
	}
	if err != nil {
		return fmt.Errorf("manager: unable to replay invocation %q: %w", inv.ID, err)
	}
	m.log.InfoContext(r.Context(), "manager: invocation replayed", "app", inv.AppSlug, "script", inv.Script,
		"invocation", inv.ID, "replay", rep.ID, "version", rep.Version, "user", c.user.Username)
	out := api.Replay{Original: toReplaySide(inv), Replay: toReplaySide(rep)}
	out.Identical = sameResponse(inv.Response, rep.Response)
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// replayedInvocation finds the record of id, or of the latest attempt of
// the job id names, and checks that c may replay it: 404 when there is
// neither, 403 unless c is an editor of its app.
func (m *Manager) replayedInvocation(r *http.Request, c *caller, id string) (store.Invocation, error) {
	what := fmt.Sprintf("log %q", id)
	inv, err := m.store.GetInvocation(r.Context(), id)
	if err == nil {
		return inv, m.checkAppAccess(r, c, inv.AppID, inv.AppSlug, canEdit, what)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return inv, fmt.Errorf("manager: unable to read invocation %q: %w", id, err)
	}
	j, jerr := m.store.GetJob(r.Context(), id)
	switch {
	case errors.Is(jerr, store.ErrNotFound):
		// Records go after the log retention, and an app's oldest go
		// when its recorded requests pass their quota.
		return inv, httpx.NotFound("log %q not found: it does not exist, or it was deleted after the log retention or to keep its app within its quota of recorded requests", id)
	case jerr != nil:
		return inv, fmt.Errorf("manager: unable to read job %q: %w", id, jerr)
	}
	if err := m.checkAppAccess(r, c, j.AppID, j.AppSlug, canEdit, what); err != nil {
		return inv, err
	}
	if j.LastInvocation == "" {
		return inv, httpx.Conflict("job %q has not run yet; replay one of its attempts once it has", id)
	}
	inv, err = m.store.GetInvocation(r.Context(), j.LastInvocation)
	if err != nil {
		return inv, storeErr(err, fmt.Sprintf("the latest attempt of job %q is no longer logged", id), "")
	}
	return inv, nil
}

// sameResponse reports whether two recorded responses have the same
// status, headers and body.
func sameResponse(a, b *store.HTTPResponse) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Status == b.Status && a.BodySize == b.BodySize && bytes.Equal(a.Body, b.Body) &&
		maps.EqualFunc(a.Header, b.Header, slices.Equal[[]string])
}
