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

// jobClaimLock is the key of the advisory lock that serialises claims
// across the nodes of a cluster: "jobs" in ASCII.
const jobClaimLock = 0x6a6f6273

// ClaimJob takes a due job, fairly between apps (see store.Store). The
// transaction first takes the claim lock, so that claims on every node
// happen one after the other and each counts the running jobs of an app
// after the previous claim committed: the apps' caps hold across the
// cluster. A claim is a few index probes, so the lock is held briefly.
// The job's row is still locked FOR UPDATE SKIP LOCKED, as a finish or a
// retry may hold it. A running job whose lease expired keeps its attempt
// number: the attempt that was cut short left no record and is run again.
func (s *Store) ClaimJob(ctx context.Context, owner string, at, leaseUntil time.Time, maxRunning int) (store.Job, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.Job{}, fmt.Errorf("postgres: unable to claim a job: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(jobClaimLock)); err != nil {
		return store.Job{}, fmt.Errorf("postgres: unable to take the claim lock: %w", err)
	}
	turns, err := query(ctx, tx, scanJobTurn, "find the apps with due jobs",
		`SELECT a.id, coalesce((a.limits->>'max_running_jobs')::bigint, 0),
			(SELECT count(*) FROM jobs r WHERE r.app_id = a.id AND r.state IN `+pendingStates+`
				AND r.state = 'running' AND r.run_at > $1)
		FROM apps a LEFT JOIN job_turns t ON t.app_id = a.id
		WHERE EXISTS (SELECT 1 FROM jobs d WHERE d.app_id = a.id AND d.state IN `+pendingStates+` AND d.run_at <= $1)
		ORDER BY t.claimed_at NULLS FIRST,
			(SELECT min(d.run_at) FROM jobs d WHERE d.app_id = a.id AND d.state IN `+pendingStates+`), a.id`,
		runAt(at))
	if err != nil {
		return store.Job{}, err
	}
	atCap := false
	for _, t := range turns {
		if t.full(maxRunning) {
			atCap = true
			continue
		}
		j, err := claimAppJob(ctx, tx, t.appID, owner, at, leaseUntil)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // its due jobs are locked by a finish or a retry
		}
		if err != nil {
			return store.Job{}, fmt.Errorf("postgres: unable to claim a job of app %d: %w", t.appID, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return store.Job{}, fmt.Errorf("postgres: unable to claim job %q: %w", j.ID, err)
		}
		return j, nil
	}
	if atCap {
		return store.Job{}, fmt.Errorf("postgres: no job can be claimed: %w: %w", store.ErrNotFound, store.ErrAppsAtCap)
	}
	return store.Job{}, fmt.Errorf("postgres: no job is due: %w", store.ErrNotFound)
}

// jobTurn is an app with due jobs, in the order ClaimJob serves them.
type jobTurn struct {
	appID   int64
	cap     int64 // the app's own cap, 0 for the server's
	running int64 // its running jobs whose lease holds
}

func scanJobTurn(r scanner) (jobTurn, error) {
	var t jobTurn
	return t, r.Scan(&t.appID, &t.cap, &t.running)
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

// claimAppJob claims the app's job due first and records the app's turn;
// pgx.ErrNoRows when every due job of the app is locked.
func claimAppJob(ctx context.Context, tx pgx.Tx, appID int64, owner string, at, leaseUntil time.Time) (store.Job, error) {
	j, err := scanJob(tx.QueryRow(ctx,
		`WITH next AS (
			SELECT id FROM jobs WHERE app_id = $1 AND state IN `+pendingStates+` AND run_at <= $2
			ORDER BY run_at, id LIMIT 1
			FOR UPDATE SKIP LOCKED
		), claimed AS (
			UPDATE jobs SET
				attempts = CASE WHEN state = 'running' THEN attempts ELSE attempts + 1 END,
				state = 'running', owner = $3, run_at = $4, updated_at = $5
			FROM next WHERE jobs.id = next.id
			RETURNING jobs.*
		)
		SELECT `+jobColumns+` FROM claimed j JOIN apps a ON a.id = j.app_id`,
		appID, runAt(at), owner, runAt(leaseUntil), now()))
	if err != nil {
		return store.Job{}, err
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO job_turns (app_id, claimed_at) VALUES ($1, $2)
		ON CONFLICT (app_id) DO UPDATE SET claimed_at = excluded.claimed_at`,
		appID, runAt(at))
	if err != nil {
		return store.Job{}, fmt.Errorf("record the turn of app %d: %w", appID, err)
	}
	return j, nil
}

// FinishJob records an attempt and moves the job on, if the claim still
// holds: the job is still running under the owner, attempt and lease
// that ClaimJob gave j. A job that ended loses its stored request.
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
	// A job that ended drops its stored request: it may hold credentials,
	// and nothing runs it again (a retry uses the attempt's record).
	tag, err := tx.Exec(ctx,
		`UPDATE jobs SET state = $1, run_at = $2, owner = '', last_invocation = $3, updated_at = $4,
			request = CASE WHEN $9 THEN NULL ELSE request END
		WHERE id = $5 AND state = 'running' AND owner = $6 AND attempts = $7 AND run_at = $8`,
		state, next, inv.ID, now(), j.ID, j.Owner, j.Attempts, runAt(j.RunAt), state != store.JobError)
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
