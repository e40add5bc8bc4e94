package sqlite

import (
	"context"
	"database/sql"
	"errors"
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

// ClaimJob takes the job due first. With a single writer the subquery and
// the update cannot interleave with another claim; PostgreSQL runs the
// same statement with FOR UPDATE SKIP LOCKED in the subquery. A running
// job whose lease expired keeps its attempt number: the attempt that was
// cut short left no record and is run again.
func (s *Store) ClaimJob(ctx context.Context, owner string, at, leaseUntil time.Time) (store.Job, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to claim a job: %w", err)
	}
	defer tx.Rollback()
	var id string
	err = tx.QueryRowContext(ctx,
		`UPDATE jobs SET
			attempts = CASE WHEN state = 'running' THEN attempts ELSE attempts + 1 END,
			state = 'running', owner = ?, run_at = ?, updated_at = ?
		WHERE id = (SELECT id FROM jobs WHERE state IN `+pendingStates+` AND run_at <= ?
			ORDER BY run_at, id LIMIT 1)
		RETURNING id`,
		owner, unixNano(leaseUntil), unixNano(now()), unixNano(at)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Job{}, fmt.Errorf("sqlite: no job is due: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to claim a job: %w", err)
	}
	j, err := scanJob(tx.QueryRowContext(ctx,
		`SELECT `+jobColumns+` FROM jobs j JOIN apps a ON a.id = j.app_id WHERE j.id = ?`, id))
	if err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to claim job %q: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Job{}, fmt.Errorf("sqlite: unable to claim job %q: %w", id, err)
	}
	return j, nil
}

// FinishJob records an attempt and moves the job on, if the claim still
// holds.
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
	res, err := tx.ExecContext(ctx,
		`UPDATE jobs SET state = ?, run_at = ?, owner = '', last_invocation = ?, updated_at = ?
		WHERE id = ? AND state = 'running' AND owner = ? AND attempts = ? AND run_at = ?`,
		state, unixNano(runAt), inv.ID, unixNano(now()), j.ID, j.Owner, j.Attempts, unixNano(j.RunAt))
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
