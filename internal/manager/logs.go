package manager

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// Bounds of the logs list.
const (
	defaultLogLimit = 100
	maxLogLimit     = 1000
)

// listLogs lists an app's invocation records, newest first, filtered by
// ?script=, ?status=, ?http_status= and ?limit=. The statuses queued,
// running and dead list jobs instead, as records of the same shape.
func (m *Manager) listLogs(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.InvocationFilter{AppID: app.ID, Script: q.Get("script"), Status: q.Get("status"), Limit: defaultLogLimit}
	if f.Script != "" {
		if err := validScriptName(f.Script); err != nil {
			return err
		}
	}
	jobs := false
	switch f.Status {
	case "", store.StatusOK, store.StatusError, store.StatusTimeout, store.StatusLimit:
	case store.JobQueued, store.JobRunning, store.JobDead:
		jobs = true
	default:
		return httpx.Invalid("invalid status %q: use ok, error, timeout, limit, queued, running or dead", f.Status)
	}
	if err := httpStatusFilter(q.Get("http_status"), &f); err != nil {
		return err
	}
	if jobs && f.HTTPStatusMin != 0 {
		return httpx.Invalid("http_status filters invocation records, not jobs (status %s)", f.Status)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLogLimit {
			return httpx.Invalid("limit must be an integer from 1 to %d, not %q", maxLogLimit, v)
		}
		f.Limit = n
	}
	if jobs {
		list, err := m.store.ListJobs(r.Context(), store.JobFilter{AppID: app.ID, Script: f.Script, State: f.Status, Limit: f.Limit})
		if err != nil {
			return fmt.Errorf("manager: unable to list the jobs of app %q: %w", app.Slug, err)
		}
		out := make([]api.Job, 0, len(list))
		for _, j := range list {
			jr, err := m.jobView(r, j, false)
			if err != nil {
				return err
			}
			out = append(out, jr)
		}
		httpx.WriteJSON(w, http.StatusOK, out)
		return nil
	}
	invs, err := m.store.ListInvocations(r.Context(), f)
	if err != nil {
		return fmt.Errorf("manager: unable to list the logs of app %q: %w", app.Slug, err)
	}
	out := make([]api.Invocation, 0, len(invs))
	for _, inv := range invs {
		out = append(out, toInvocation(inv, false))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// showLog shows one invocation record with its captured output, or, for
// the id of a job (what an async request or a schedule's firing gets), the
// job's state with its attempts. An unknown id is 404; a record of an app
// the caller may not read is 403.
func (m *Manager) showLog(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	j, err := m.store.GetJob(r.Context(), id)
	switch {
	case err == nil:
		if err := m.checkAppAccess(r, c, j.AppID, j.AppSlug, canRead, fmt.Sprintf("log %q", id)); err != nil {
			return err
		}
		jr, err := m.jobView(r, j, true)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, jr)
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("manager: unable to read job %q: %w", id, err)
	}
	inv, err := m.store.GetInvocation(r.Context(), id)
	if err != nil {
		return storeErr(err, fmt.Sprintf("log %q not found", id), "")
	}
	if err := m.checkAppAccess(r, c, inv.AppID, inv.AppSlug, canRead, fmt.Sprintf("log %q", id)); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toInvocationDetail(inv))
	return nil
}

// retryLog re-queues a dead job: 202 with the job. The id may be the
// job's or that of one of its attempts. Anything but a dead job is 409:
// a job still queued or running, one that ended ok, and a plain HTTP
// invocation, which is not a job (it can be replayed instead). Editors
// may retry.
func (m *Manager) retryLog(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	j, err := m.store.GetJob(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		inv, ierr := m.store.GetInvocation(r.Context(), id)
		if ierr != nil {
			return storeErr(ierr, fmt.Sprintf("log %q not found", id), "")
		}
		if err := m.checkAppAccess(r, c, inv.AppID, inv.AppSlug, canEdit, fmt.Sprintf("log %q", id)); err != nil {
			return err
		}
		if inv.JobID == "" {
			return httpx.Conflict("invocation %q answered an HTTP request, which is not a job; only dead jobs (async invocations and schedule firings) can be retried; to run its request again, replay it (POST /api/v1/logs/%s/replay)", id, id)
		}
		j, err = m.store.GetJob(r.Context(), inv.JobID)
	}
	if err != nil {
		return storeErr(err, fmt.Sprintf("the job of log %q no longer exists", id), "")
	}
	if err := m.checkAppAccess(r, c, j.AppID, j.AppSlug, canEdit, fmt.Sprintf("log %q", id)); err != nil {
		return err
	}
	queued, err := m.store.RetryJob(r.Context(), j.ID, m.now())
	switch {
	case errors.Is(err, store.ErrConflict):
		state := "not dead"
		if cur, gerr := m.store.GetJob(r.Context(), j.ID); gerr == nil {
			state = cur.State
		}
		return httpx.Conflict("job %q is %s; only a dead job can be retried", j.ID, state)
	case err != nil:
		return storeErr(err, fmt.Sprintf("log %q not found", id), "")
	}
	j = queued
	m.publish(events.JobQueued, j.ID)
	m.log.InfoContext(r.Context(), "manager: job re-queued", "app", j.AppSlug, "script", j.Script, "job", j.ID, "user", c.user.Username)
	jr, err := m.jobView(r, j, false)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusAccepted, jr)
	return nil
}

// jobView describes a job as a log record: the fields of its latest
// attempt, with its own id, status (its state) and start (when it was
// queued), and, when shown alone, the records of its attempts.
func (m *Manager) jobView(r *http.Request, j store.Job, withAttempts bool) (api.Job, error) {
	jr := api.Job{
		Invocation: api.Invocation{ID: j.ID, App: j.AppSlug, Script: j.Script, Trigger: j.Trigger,
			StartedAt: utc(j.CreatedAt), Status: j.State},
		Attempts:         j.Attempts,
		MaxAttempts:      j.MaxAttempts,
		LastInvocationID: nil,
	}
	if j.State == store.JobQueued || j.State == store.JobError {
		jr.NextAttemptAt = optionalTime(j.RunAt)
	}
	if j.Trigger == store.TriggerSchedule {
		id := j.ScheduleID
		jr.ScheduleID = &id
		jr.ScheduledAt = optionalTime(j.ScheduledAt)
	}
	if j.LastInvocation != "" {
		id := j.LastInvocation
		jr.LastInvocationID = &id
		last, err := m.store.GetInvocation(r.Context(), j.LastInvocation)
		switch {
		case err == nil:
			jr.Version, jr.DurationMS, jr.HTTPStatus = last.Version, float64(last.Duration.Microseconds())/1000, last.HTTPStatus
			jr.Operations, jr.Summary = last.Operations, last.Summary
		case !errors.Is(err, store.ErrNotFound): // pruned records are fine
			return jr, fmt.Errorf("manager: unable to read the last attempt of job %q: %w", j.ID, err)
		}
	}
	if withAttempts {
		invs, err := m.store.ListInvocations(r.Context(), store.InvocationFilter{JobID: j.ID, Limit: maxLogLimit})
		if err != nil {
			return jr, fmt.Errorf("manager: unable to list the attempts of job %q: %w", j.ID, err)
		}
		list := make([]api.Invocation, 0, len(invs))
		for _, inv := range invs {
			list = append(list, toInvocation(inv, false))
		}
		jr.Invocations = &list
	}
	return jr, nil
}
