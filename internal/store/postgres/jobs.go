package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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
	j.run_at, j.owner, NULL::bytea, j.schedule_id, j.scheduled_at, j.payload, j.last_invocation,
	j.created_at, j.updated_at`
)

// pendingStates are the states of a job that still has to run; the SQL
// text matches the jobs_due index's condition, so that the planner uses
// it.
const pendingStates = `('queued', 'error', 'running')`

func scanJob(row scanner) (store.Job, error) {
	var (
		j                  store.Job
		runAt, scheduledAt pgtype.Timestamptz
	)
	err := row.Scan(&j.ID, &j.AppID, &j.AppSlug, &j.Script, &j.Trigger, &j.State, &j.Attempts, &j.MaxAttempts,
		&runAt, &j.Owner, &j.Request, &j.ScheduleID, &scheduledAt, &j.Payload, &j.LastInvocation,
		&j.CreatedAt, &j.UpdatedAt)
	if err != nil {
		return store.Job{}, err
	}
	j.RunAt = fromTime(runAt)
	j.ScheduledAt = fromTime(scheduledAt)
	j.CreatedAt = j.CreatedAt.UTC()
	j.UpdatedAt = j.UpdatedAt.UTC()
	return j, nil
}

// runAt encodes the run_at of a job that waits or runs. It is never NULL,
// which marks an ended job: a zero time, due at once, is -infinity, which
// reads back as the zero time.
func runAt(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	return pgtype.Timestamptz{Time: ts(t), Valid: true}
}

// EnqueueJob stores j as queued unless its app's queue is full.
func (s *Store) EnqueueJob(ctx context.Context, j *store.Job, maxPending int) error {
	return s.EnqueueJobWithin(ctx, j, maxPending, 0)
}

// EnqueueJobWithin stores j as queued unless its app's queue is full or
// its pending requests would pass maxBytes. With a bound, the transaction
// first locks the app's row (quotas.go), so that concurrent enqueues to
// one app count and insert one after the other and the bounds hold;
// enqueues to other apps, deploys and logging are not held up.
func (s *Store) EnqueueJobWithin(ctx context.Context, j *store.Job, maxPending int, maxBytes int64) error {
	what := fmt.Sprintf("enqueue job %q", j.ID)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	if err := checkQueue(ctx, tx, j, maxPending, maxBytes); err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now()
	}
	j.CreatedAt = ts(j.CreatedAt)
	j.UpdatedAt = j.CreatedAt
	j.State = store.JobQueued
	j.RunAt = ts(j.RunAt)
	j.ScheduledAt = ts(j.ScheduledAt)
	_, err = tx.Exec(ctx,
		`INSERT INTO jobs (id, app_id, script, trigger_type, state, attempts, max_attempts, run_at, owner,
			request, schedule_id, scheduled_at, payload, last_invocation, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9, $10, $11, $12, '', $13, $14)`,
		j.ID, j.AppID, j.Script, j.Trigger, j.State, j.Attempts, j.MaxAttempts, runAt(j.RunAt),
		j.Request, j.ScheduleID, nullTime(j.ScheduledAt), j.Payload, j.CreatedAt, j.UpdatedAt)
	if err != nil {
		return writeError(what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return nil
}

// ClaimJob takes the job due first, in one statement: the subquery locks
// it FOR UPDATE SKIP LOCKED, so concurrent claims on other nodes take the
// next jobs instead of waiting for this one, and two never take the same.
// A running job whose lease expired keeps its attempt number: the attempt
// that was cut short left no record and is run again.
func (s *Store) ClaimJob(ctx context.Context, owner string, at, leaseUntil time.Time) (store.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx,
		`WITH next AS (
			SELECT id FROM jobs WHERE state IN `+pendingStates+` AND run_at <= $1
			ORDER BY run_at, id LIMIT 1
			FOR UPDATE SKIP LOCKED
		), claimed AS (
			UPDATE jobs SET
				attempts = CASE WHEN state = 'running' THEN attempts ELSE attempts + 1 END,
				state = 'running', owner = $2, run_at = $3, updated_at = $4
			FROM next WHERE jobs.id = next.id
			RETURNING jobs.*
		)
		SELECT `+jobColumns+` FROM claimed j JOIN apps a ON a.id = j.app_id`,
		runAt(at), owner, runAt(leaseUntil), now()))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Job{}, fmt.Errorf("postgres: no job is due: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: unable to claim a job: %w", err)
	}
	return j, nil
}

// FinishJob records an attempt and moves the job on, if the claim still
// holds: the job is still running under the owner, attempt and lease
// that ClaimJob gave j.
func (s *Store) FinishJob(ctx context.Context, j store.Job, state string, retryAt time.Time, inv store.Invocation) (bool, error) {
	what := fmt.Sprintf("finish job %q", j.ID)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	if err := insertInvocations(ctx, tx, []store.Invocation{inv}); err != nil {
		return false, writeError(what, err)
	}
	next := pgtype.Timestamptz{} // NULL: the job ended
	if state == store.JobError {
		next = runAt(retryAt)
	}
	tag, err := tx.Exec(ctx,
		`UPDATE jobs SET state = $1, run_at = $2, owner = '', last_invocation = $3, updated_at = $4
		WHERE id = $5 AND state = 'running' AND owner = $6 AND attempts = $7 AND run_at = $8`,
		state, next, inv.ID, now(), j.ID, j.Owner, j.Attempts, runAt(j.RunAt))
	if err != nil {
		return false, writeError(what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RequeueJobs puts owner's running jobs back, due at once.
func (s *Store) RequeueJobs(ctx context.Context, owner string, at time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx,
		`UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), owner = '', run_at = $1, updated_at = $2
		WHERE state = 'running' AND owner = $3`,
		runAt(at), now(), owner)
	if err != nil {
		return 0, writeError(fmt.Sprintf("requeue the jobs of %q", owner), err)
	}
	return tag.RowsAffected(), nil
}

// RetryJob re-queues a dead job.
func (s *Store) RetryJob(ctx context.Context, id string, at time.Time) (store.Job, error) {
	what := fmt.Sprintf("retry job %q", id)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	var state string
	err = tx.QueryRow(ctx, `SELECT state FROM jobs WHERE id = $1 FOR UPDATE`, id).Scan(&state)
	if err != nil {
		return store.Job{}, readError(fmt.Sprintf("job %q", id), err)
	}
	if state != store.JobDead {
		return store.Job{}, fmt.Errorf("postgres: unable to %s: it is %s, not dead: %w", what, state, store.ErrConflict)
	}
	j, err := scanJob(tx.QueryRow(ctx,
		`WITH retried AS (
			UPDATE jobs SET state = 'queued', attempts = 0, owner = '', run_at = $1, updated_at = $2
			WHERE id = $3
			RETURNING *
		)
		SELECT `+jobListColumns+` FROM retried j JOIN apps a ON a.id = j.app_id`,
		runAt(at), now(), id))
	if err != nil {
		return store.Job{}, writeError(what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Job{}, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return j, nil
}

// GetJob returns the job with the given ID, with its request.
func (s *Store) GetJob(ctx context.Context, id string) (store.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx,
		`SELECT `+jobColumns+` FROM jobs j JOIN apps a ON a.id = j.app_id WHERE j.id = $1`, id))
	if err != nil {
		return store.Job{}, readError(fmt.Sprintf("job %q", id), err)
	}
	return j, nil
}

// ListJobs returns the jobs f selects, newest first, without their
// requests.
func (s *Store) ListJobs(ctx context.Context, f store.JobFilter) ([]store.Job, error) {
	var w where
	if f.AppID != 0 {
		w.add("j.app_id = ", f.AppID)
	}
	if f.Script != "" {
		w.add("j.script = ", f.Script)
	}
	if f.State != "" {
		w.add("j.state = ", f.State)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultJobLimit
	}
	q := `SELECT ` + jobListColumns + ` FROM jobs j JOIN apps a ON a.id = j.app_id` + w.String() +
		` ORDER BY j.created_at DESC, j.id DESC LIMIT ` + w.arg(limit)
	return query(ctx, s.pool, scanJob, "list jobs", q, w.args...)
}

// NextJobTime returns when the queue next needs attention from owner.
func (s *Store) NextJobTime(ctx context.Context, owner string) (time.Time, error) {
	var next pgtype.Timestamptz
	err := s.pool.QueryRow(ctx,
		`SELECT min(run_at) FROM jobs WHERE state IN `+pendingStates+` AND NOT (state = 'running' AND owner = $1)`,
		owner).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: unable to find the next job time: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	if next.InfinityModifier != pgtype.Finite {
		// Due at once: a zero RunAt. The Unix epoch, not the zero time,
		// which would read as "none".
		return time.Unix(0, 0).UTC(), nil
	}
	return next.Time.UTC(), nil
}

// PruneJobs removes the jobs that ended ok before the given time.
func (s *Store) PruneJobs(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM jobs WHERE state = 'ok' AND updated_at < $1`, ts(before))
	if err != nil {
		return 0, writeError("prune jobs", err)
	}
	return tag.RowsAffected(), nil
}
