package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// DefaultJobLimit is the number of jobs ListJobs returns when the filter
// sets no limit.
const DefaultJobLimit = 100

// jobColumns are read by scanJob; jobListColumns leave the request out.
const (
	jobColumns = `j.id, j.app_id, a.slug, j.script, j.trigger_type, j.state, j.attempts, j.max_attempts,
	j.run_at, j.owner, j.request, j.schedule_id, j.scheduled_at, j.payload, j.last_invocation,
	j.created_at, j.updated_at`
	jobListColumns = `j.id, j.app_id, a.slug, j.script, j.trigger_type, j.state, j.attempts, j.max_attempts,
	j.run_at, j.owner, NULL, j.schedule_id, j.scheduled_at, j.payload, j.last_invocation,
	j.created_at, j.updated_at`
)

// pendingStates are the states of a job that still has to run; the SQL
// text matches the jobs_due index's condition, so that SQLite uses it.
const pendingStates = `('queued', 'error', 'running')`

func scanJob(row scanner) (store.Job, error) {
	var (
		j                                    store.Job
		runAt, scheduledAt, created, updated int64
	)
	err := row.Scan(&j.ID, &j.AppID, &j.AppSlug, &j.Script, &j.Trigger, &j.State, &j.Attempts, &j.MaxAttempts,
		&runAt, &j.Owner, &j.Request, &j.ScheduleID, &scheduledAt, &j.Payload, &j.LastInvocation,
		&created, &updated)
	if err != nil {
		return store.Job{}, err
	}
	j.RunAt = fromUnixNano(runAt)
	j.ScheduledAt = fromUnixNano(scheduledAt)
	j.CreatedAt = fromUnixNano(created)
	j.UpdatedAt = fromUnixNano(updated)
	return j, nil
}

// EnqueueJob stores j as queued unless its app's queue is full.
func (s *Store) EnqueueJob(ctx context.Context, j *store.Job, maxPending int) error {
	return s.EnqueueJobWithin(ctx, j, maxPending, 0)
}

// EnqueueJobWithin stores j as queued unless its app's queue is full or
// its pending requests would pass maxBytes. The check (quotas.go) and the
// insert share the write transaction, so the bounds hold under concurrent
// enqueues.
func (s *Store) EnqueueJobWithin(ctx context.Context, j *store.Job, maxPending int, maxBytes int64) error {
	what := fmt.Sprintf("enqueue job %q", j.ID)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := checkQueue(ctx, tx, j, maxPending, maxBytes); err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	at := now()
	if j.CreatedAt.IsZero() {
		j.CreatedAt = at
	}
	j.CreatedAt = j.CreatedAt.UTC()
	j.UpdatedAt = j.CreatedAt
	j.State = store.JobQueued
	j.RunAt = j.RunAt.UTC()
	j.ScheduledAt = j.ScheduledAt.UTC()
	_, err = tx.ExecContext(ctx,
		`INSERT INTO jobs (id, app_id, script, trigger_type, state, attempts, max_attempts, run_at, owner,
			request, schedule_id, scheduled_at, payload, last_invocation, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, '', ?, ?)`,
		j.ID, j.AppID, j.Script, j.Trigger, j.State, j.Attempts, j.MaxAttempts, unixNano(j.RunAt),
		j.Request, j.ScheduleID, unixNano(j.ScheduledAt), j.Payload, unixNano(j.CreatedAt), unixNano(j.UpdatedAt))
	if err != nil {
		return writeError(what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return nil
}

// ClaimJob takes a due job, fairly between apps (see store.Store). With a
// single writer the transaction cannot interleave with another claim, so
// the count of an app's running jobs holds until the claim is written.
// A running job whose lease expired keeps its attempt number: the attempt
// that was cut short left no record and is run again.
func (s *Store) ClaimJob(ctx context.Context, owner string, at, leaseUntil time.Time, maxRunning int) (store.Job, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to claim a job: %w", err)
	}
	defer tx.Rollback()
	turns, err := s.jobTurns(ctx, tx, at)
	if err != nil {
		return store.Job{}, err
	}
	atCap := false
	for _, t := range turns {
		if t.full(maxRunning) {
			atCap = true
			continue
		}
		j, err := s.claimAppJob(ctx, tx, t.appID, owner, at, leaseUntil)
		if err != nil {
			return store.Job{}, err
		}
		if err := tx.Commit(); err != nil {
			return store.Job{}, fmt.Errorf("sqlite: unable to claim job %q: %w", j.ID, err)
		}
		return j, nil
	}
	if atCap {
		return store.Job{}, fmt.Errorf("sqlite: no job can be claimed: %w: %w", store.ErrNotFound, store.ErrAppsAtCap)
	}
	return store.Job{}, fmt.Errorf("sqlite: no job is due: %w", store.ErrNotFound)
}

// jobTurn is an app with due jobs, in the order ClaimJob serves them.
type jobTurn struct {
	appID   int64
	cap     int64 // the app's own cap, 0 for the server's
	running int64 // its running jobs whose lease holds
}

// full reports whether the app runs as many jobs as its cap allows, or
// maxRunning when it has none of its own.
func (t jobTurn) full(maxRunning int) bool {
	c := t.cap
	if c <= 0 {
		c = int64(maxRunning)
	}
	return c > 0 && t.running >= c
}

// jobTurnsSQL lists the apps with jobs due at ?1, in the order ClaimJob
// serves them, with their caps and running jobs. The running jobs are
// counted with the pending states too, so that SQLite counts them in
// jobs_app_due.
const jobTurnsSQL = `SELECT a.id, coalesce(json_extract(a.limits, '$.max_running_jobs'), 0),
	(SELECT count(*) FROM jobs r WHERE r.app_id = a.id AND r.state IN ` + pendingStates + `
		AND r.state = 'running' AND r.run_at > ?1)
FROM apps a LEFT JOIN job_turns t ON t.app_id = a.id
WHERE EXISTS (SELECT 1 FROM jobs d WHERE d.app_id = a.id AND d.state IN ` + pendingStates + ` AND d.run_at <= ?1)
ORDER BY t.claimed_at NULLS FIRST,
	(SELECT min(d.run_at) FROM jobs d WHERE d.app_id = a.id AND d.state IN ` + pendingStates + `), a.id`

// jobTurns lists the apps with jobs due at at: least recently served
// first, then the one whose oldest job is due first. Each app costs a few
// probes of jobs_app_due, never a scan of its queue.
func (s *Store) jobTurns(ctx context.Context, tx *sql.Tx, at time.Time) ([]jobTurn, error) {
	rows, err := tx.QueryContext(ctx, jobTurnsSQL, unixNano(at))
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to find the apps with due jobs: %w", err)
	}
	return collect(rows, func(r scanner) (jobTurn, error) {
		var t jobTurn
		return t, r.Scan(&t.appID, &t.cap, &t.running)
	}, "find the apps with due jobs")
}

// claimAppJob claims the app's job due first and records the app's turn.
func (s *Store) claimAppJob(ctx context.Context, tx *sql.Tx, appID int64, owner string, at, leaseUntil time.Time) (store.Job, error) {
	var id string
	err := tx.QueryRowContext(ctx,
		`UPDATE jobs SET
			attempts = CASE WHEN state = 'running' THEN attempts ELSE attempts + 1 END,
			state = 'running', owner = ?, run_at = ?, updated_at = ?
		WHERE id = (SELECT id FROM jobs WHERE app_id = ? AND state IN `+pendingStates+` AND run_at <= ?
			ORDER BY run_at, id LIMIT 1)
		RETURNING id`,
		owner, unixNano(leaseUntil), unixNano(now()), appID, unixNano(at)).Scan(&id)
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to claim a job of app %d: %w", appID, err)
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO job_turns (app_id, claimed_at) VALUES (?, ?)
		ON CONFLICT (app_id) DO UPDATE SET claimed_at = excluded.claimed_at`,
		appID, unixNano(at))
	if err != nil {
		return store.Job{}, writeError(fmt.Sprintf("record the turn of app %d", appID), err)
	}
	j, err := scanJob(tx.QueryRowContext(ctx,
		`SELECT `+jobColumns+` FROM jobs j JOIN apps a ON a.id = j.app_id WHERE j.id = ?`, id))
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to claim job %q: %w", id, err)
	}
	return j, nil
}

// FinishJob records an attempt and moves the job on, if the claim still
// holds; a job that ended loses its stored request.
func (s *Store) FinishJob(ctx context.Context, j store.Job, state string, runAt time.Time, inv store.Invocation) (bool, error) {
	what := fmt.Sprintf("finish job %q", j.ID)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := s.insertInvocations(ctx, tx, []store.Invocation{inv}); err != nil {
		return false, writeError(what, err)
	}
	if state != store.JobError {
		runAt = time.Time{}
	}
	// A job that ended drops its stored request: it may hold credentials,
	// and nothing runs it again (a retry uses the attempt's record).
	res, err := tx.ExecContext(ctx,
		`UPDATE jobs SET state = ?, run_at = ?, owner = '', last_invocation = ?, updated_at = ?,
			request = CASE WHEN ? THEN NULL ELSE request END
		WHERE id = ? AND state = 'running' AND owner = ? AND attempts = ? AND run_at = ?`,
		state, unixNano(runAt), inv.ID, unixNano(now()), state != store.JobError,
		j.ID, j.Owner, j.Attempts, unixNano(j.RunAt))
	if err != nil {
		return false, writeError(what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return n == 1, nil
}

// RequeueJobs puts owner's running jobs back, due at once.
func (s *Store) RequeueJobs(ctx context.Context, owner string, at time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE jobs SET state = 'queued', attempts = max(attempts - 1, 0), owner = '', run_at = ?, updated_at = ?
		WHERE state = 'running' AND owner = ?`,
		unixNano(at), unixNano(now()), owner)
	if err != nil {
		return 0, writeError(fmt.Sprintf("requeue the jobs of %q", owner), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: unable to requeue the jobs of %q: %w", owner, err)
	}
	return n, nil
}

// RetryJob re-queues a dead job.
func (s *Store) RetryJob(ctx context.Context, id string, at time.Time) (store.Job, error) {
	what := fmt.Sprintf("retry job %q", id)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	defer tx.Rollback()
	var state string
	err = tx.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = ?`, id).Scan(&state)
	if err != nil {
		return store.Job{}, readError(fmt.Sprintf("job %q", id), err)
	}
	if state != store.JobDead {
		return store.Job{}, fmt.Errorf("sqlite: unable to %s: it is %s, not dead: %w", what, state, store.ErrConflict)
	}
	_, err = tx.ExecContext(ctx,
		`UPDATE jobs SET state = 'queued', attempts = 0, owner = '', run_at = ?, updated_at = ? WHERE id = ?`,
		unixNano(at), unixNano(now()), id)
	if err != nil {
		return store.Job{}, writeError(what, err)
	}
	j, err := scanJob(tx.QueryRowContext(ctx,
		`SELECT `+jobListColumns+` FROM jobs j JOIN apps a ON a.id = j.app_id WHERE j.id = ?`, id))
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return j, nil
}

// GetJob returns the job with the given ID, with its request.
func (s *Store) GetJob(ctx context.Context, id string) (store.Job, error) {
	j, err := scanJob(s.read.QueryRowContext(ctx,
		`SELECT `+jobColumns+` FROM jobs j JOIN apps a ON a.id = j.app_id WHERE j.id = ?`, id))
	if err != nil {
		return store.Job{}, readError(fmt.Sprintf("job %q", id), err)
	}
	return j, nil
}

// ListJobs returns the jobs f selects, newest first, without their
// requests.
func (s *Store) ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var (
		where []string
		args  []any
	)
	if f.AppID != 0 {
		where = append(where, "j.app_id = ?")
		args = append(args, f.AppID)
	}
	if f.Script != "" {
		where = append(where, "j.script = ?")
		args = append(args, f.Script)
	}
	if f.State != "" {
		where = append(where, "j.state = ?")
		args = append(args, f.State)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultJobLimit
	}
	args = append(args, limit)
	var q strings.Builder
	q.WriteString(`SELECT ` + jobListColumns + ` FROM jobs j JOIN apps a ON a.id = j.app_id`)
	if len(where) > 0 {
		q.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	q.WriteString(" ORDER BY j.created_at DESC, j.id DESC LIMIT ?")
	rows, err := s.read.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list jobs: %w", err)
	}
	return collect(rows, scanJob, "list jobs")
}

// NextJobTime returns when the queue next needs attention from owner.
func (s *Store) NextJobTime(ctx context.Context, owner string) (time.Time, error) {
	var next sql.NullInt64
	err := s.read.QueryRowContext(ctx,
		`SELECT min(run_at) FROM jobs WHERE state IN `+pendingStates+` AND NOT (state = 'running' AND owner = ?)`,
		owner).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: unable to find the next job time: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	// A due time of 0 (the epoch) must not read as "none".
	return time.Unix(0, next.Int64).UTC(), nil
}

// PruneJobs removes the jobs that ended ok before the given time.
func (s *Store) PruneJobs(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM jobs WHERE state = 'ok' AND updated_at < ?`, unixNano(before))
	if err != nil {
		return 0, writeError("prune jobs", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: unable to prune jobs: %w", err)
	}
	return n, nil
}
