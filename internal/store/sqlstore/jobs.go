package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/picloud/picloud/internal/store"
)

// DefaultJobLimit is the number of jobs ListJobs returns when the filter
// sets no limit.
const DefaultJobLimit = 100

// jobColumns, of jobs j joined to apps a, are read by scanJob.
const jobColumns = `j.id, j.app_id, a.slug, j.script, j.trigger_type, j.state, j.attempts, j.max_attempts,
	j.run_at, j.owner, j.request, j.schedule_id, j.scheduled_at, j.payload, j.last_invocation,
	j.created_at, j.updated_at`

var (
	// jobListColumns leave the request out.
	jobListColumns = strings.Replace(jobColumns, "j.request", "NULL", 1)

	// claimedJobColumns and retriedJobColumns are jobColumns and
	// jobListColumns for the RETURNING clause of an UPDATE of jobs (see
	// jobReturning): the job is read in the statement that changes it.
	claimedJobColumns = jobReturning(jobColumns)
	retriedJobColumns = jobReturning(jobListColumns)
)

// jobReturning turns columns of jobs j joined to apps a into the
// RETURNING clause of an UPDATE of jobs, which joins no table: the
// columns of jobs by the table's name, since SQLite's RETURNING knows no
// alias, and the app's slug from a subquery, which both backends allow
// there.
func jobReturning(columns string) string {
	columns = strings.Replace(columns, "a.slug", "(SELECT a.slug FROM apps a WHERE a.id = j.app_id)", 1)
	return strings.ReplaceAll(columns, "j.", "jobs.")
}

// pendingStates are the states of a job that still has to run; the SQL
// text matches the condition of the jobs_due and jobs_app_due indexes, so
// that both backends use them.
const pendingStates = `('queued', 'error', 'running')`

func scanJob(row scanner) (store.Job, error) {
	var j store.Job
	err := row.Scan(&j.ID, &j.AppID, &j.AppSlug, &j.Script, &j.Trigger, &j.State, &j.Attempts, &j.MaxAttempts,
		tm(&j.RunAt), &j.Owner, &j.Request, &j.ScheduleID, tm(&j.ScheduledAt), &j.Payload, &j.LastInvocation,
		tm(&j.CreatedAt), tm(&j.UpdatedAt))
	if err != nil {
		return store.Job{}, err
	}
	return j, nil
}

// jobRunAt encodes the run_at of a job that waits or runs. In SQLite the
// column is NOT NULL and the zero time, due at once, is 0, as for a job
// that ended. In PostgreSQL NULL marks a job that ended, so the zero time
// is -infinity, which reads back as the zero time (see tm).
func (s *Store) jobRunAt(t time.Time) any {
	if s.d.postgres && t.IsZero() {
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	return s.d.t(t)
}

// EnqueueJob stores j as queued unless its app's queue is full.
func (s *Store) EnqueueJob(ctx context.Context, j *store.Job, maxPending int) error {
	return s.EnqueueJobWithin(ctx, j, maxPending, 0)
}

// EnqueueJobWithin stores j as queued unless its app's queue is full or
// its pending requests would pass maxBytes. The check
// (enqueueCheckQueue) and the insert share the transaction, so the bounds
// hold under concurrent enqueues.
func (s *Store) EnqueueJobWithin(ctx context.Context, j *store.Job, maxPending int, maxBytes int64) error {
	what := fmt.Sprintf("enqueue job %q", j.ID)
	return s.inTx(ctx, func(tx *Store) error {
		if err := enqueueCheckQueue(ctx, tx, j, maxPending, maxBytes); err != nil {
			return tx.fail(what, err)
		}
		if j.CreatedAt.IsZero() {
			j.CreatedAt = tx.now()
		}
		j.CreatedAt = tx.d.ts(j.CreatedAt)
		j.UpdatedAt = j.CreatedAt
		j.State = store.JobQueued
		j.RunAt = tx.d.ts(j.RunAt)
		j.ScheduledAt = tx.d.ts(j.ScheduledAt)
		_, err := tx.exec(ctx,
			`INSERT INTO jobs (id, app_id, script, trigger_type, state, attempts, max_attempts, run_at, owner,
				request, schedule_id, scheduled_at, payload, last_invocation, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, '', ?, ?)`,
			j.ID, j.AppID, j.Script, j.Trigger, j.State, j.Attempts, j.MaxAttempts, tx.jobRunAt(j.RunAt),
			j.Request, j.ScheduleID, tx.d.t(j.ScheduledAt), j.Payload, tx.d.t(j.CreatedAt), tx.d.t(j.UpdatedAt))
		if err != nil {
			return tx.writeError(what, err)
		}
		return nil
	})
}

// enqueueCheckQueue refuses j when its app already has maxPending pending
// jobs or when its request would take their bytes past maxBytes (0: no
// bound), reading the app's row of queue_usage, which triggers keep. It
// runs in the enqueue's transaction, where two enqueues to one app cannot
// both pass the bound: SQLite's write transaction runs alone, and in
// PostgreSQL the app's row is locked first (FOR NO KEY UPDATE), so that
// concurrent enqueues to one app check and insert one after the other,
// while enqueues to other apps, deploys and logging are not held up.
func enqueueCheckQueue(ctx context.Context, tx *Store, j *store.Job, maxPending int, maxBytes int64) error {
	if maxPending <= 0 && maxBytes <= 0 {
		return nil
	}
	if tx.d.postgres {
		var one int
		err := tx.writeRow(ctx, `SELECT 1 FROM apps WHERE id = ? FOR NO KEY UPDATE`, j.AppID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("app %d: %w", j.AppID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
	}
	// No row: the app does not exist, and the insert fails on it.
	var n, used int64
	err := tx.readRow(ctx, `SELECT jobs, bytes FROM queue_usage WHERE app_id = ?`, j.AppID).Scan(&n, &used)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if maxPending > 0 && n >= int64(maxPending) {
		return fmt.Errorf("app %d has %d pending jobs: %w", j.AppID, n, store.ErrQueueFull)
	}
	if need := used + int64(len(j.Request)); maxBytes > 0 && need > maxBytes {
		return fmt.Errorf("app %d would queue %d bytes, over its %d: %w", j.AppID, need, maxBytes, store.ErrQueueBytes)
	}
	return nil
}

// jobClaimLock is the key of the PostgreSQL advisory lock that serialises
// claims across the nodes of a cluster: "jobs" in ASCII.
const jobClaimLock = 0x6a6f6273

// ClaimJob takes a due job, fairly between apps (see store.Store). Claims
// run one after the other, so that each counts the running jobs of an app
// after the previous claim committed and the apps' caps hold: in SQLite
// the write transaction runs alone; in PostgreSQL it first takes the
// claim lock, which serialises claims on every node of the cluster. A
// claim is a few index probes, so the lock is held briefly. In
// PostgreSQL the job's row is still locked FOR UPDATE SKIP LOCKED, as a
// finish or a retry may hold it. A running job whose lease expired keeps
// its attempt number: the attempt that was cut short left no record and
// is run again.
func (s *Store) ClaimJob(ctx context.Context, owner string, at, leaseUntil time.Time, maxRunning int) (j store.Job, err error) {
	err = s.inTx(ctx, func(tx *Store) error {
		if tx.d.postgres {
			if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(jobClaimLock)); err != nil {
				return tx.fail("take the claim lock", err)
			}
		}
		due := tx.jobRunAt(at)
		turns, err := list(ctx, tx, tx.db, scanJobTurn, "find the apps with due jobs", tx.jobTurnsSQL(), due, due)
		if err != nil {
			return err
		}
		atCap := false
		for _, t := range turns {
			if t.full(maxRunning) {
				atCap = true
				continue
			}
			j, err = tx.claimAppJob(ctx, t.appID, owner, at, leaseUntil)
			if errors.Is(err, sql.ErrNoRows) {
				continue // PostgreSQL: its due jobs are locked by a finish or a retry
			}
			if err != nil {
				return tx.fail(fmt.Sprintf("claim a job of app %d", t.appID), err)
			}
			return nil
		}
		if atCap {
			return fmt.Errorf("%s: no job can be claimed: %w: %w", tx.d.name, store.ErrNotFound, store.ErrAppsAtCap)
		}
		return fmt.Errorf("%s: no job is due: %w", tx.d.name, store.ErrNotFound)
	})
	if err != nil {
		return store.Job{}, err
	}
	return j, nil
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

// jobTurnsSQL lists the apps with jobs due at its two parameters (the
// same time), in the order ClaimJob serves them, with their caps and
// running jobs: least recently served first, then the one whose oldest
// job is due first. Each app costs a few probes of jobs_app_due, never a
// scan of its queue: the running jobs are counted with the pending states
// too, so that the backend counts them in that index.
func (s *Store) jobTurnsSQL() string {
	return `SELECT a.id, ` + s.d.pick(`coalesce(json_extract(a.limits, '$.max_running_jobs'), 0)`,
		`coalesce((a.limits->>'max_running_jobs')::bigint, 0)`) + `,
	(SELECT count(*) FROM jobs r WHERE r.app_id = a.id AND r.state IN ` + pendingStates + `
		AND r.state = 'running' AND r.run_at > ?)
FROM apps a LEFT JOIN job_turns t ON t.app_id = a.id
WHERE EXISTS (SELECT 1 FROM jobs d WHERE d.app_id = a.id AND d.state IN ` + pendingStates + ` AND d.run_at <= ?)
ORDER BY t.claimed_at NULLS FIRST,
	(SELECT min(d.run_at) FROM jobs d WHERE d.app_id = a.id AND d.state IN ` + pendingStates + `), a.id`
}

// claimJobSQL claims the app's job due first, in one statement that
// returns it; sql.ErrNoRows when PostgreSQL finds every due job of the
// app locked.
func (s *Store) claimJobSQL() string {
	return `UPDATE jobs SET
		attempts = CASE WHEN state = 'running' THEN attempts ELSE attempts + 1 END,
		state = 'running', owner = ?, run_at = ?, updated_at = ?
	WHERE id = (SELECT id FROM jobs WHERE app_id = ? AND state IN ` + pendingStates + ` AND run_at <= ?
		ORDER BY run_at, id LIMIT 1` + s.d.pick("", " FOR UPDATE SKIP LOCKED") + `)
	RETURNING ` + claimedJobColumns
}

// claimAppJob claims the app's job due first and records the app's turn.
func (s *Store) claimAppJob(ctx context.Context, appID int64, owner string, at, leaseUntil time.Time) (store.Job, error) {
	j, err := scanJob(s.writeRow(ctx, s.claimJobSQL(),
		owner, s.jobRunAt(leaseUntil), s.d.t(s.now()), appID, s.jobRunAt(at)))
	if err != nil {
		return store.Job{}, err
	}
	_, err = s.exec(ctx,
		`INSERT INTO job_turns (app_id, claimed_at) VALUES (?, ?)
		ON CONFLICT (app_id) DO UPDATE SET claimed_at = excluded.claimed_at`,
		appID, s.jobRunAt(at))
	if err != nil {
		return store.Job{}, fmt.Errorf("record the turn of app %d: %w", appID, s.d.classify(err))
	}
	return j, nil
}

// FinishJob records an attempt and moves the job on, if the claim still
// holds: the job is still running under the owner, attempt and lease
// that ClaimJob gave j. A job that ended loses its stored request.
func (s *Store) FinishJob(ctx context.Context, j store.Job, state string, retryAt time.Time, inv store.Invocation) (held bool, err error) {
	what := fmt.Sprintf("finish job %q", j.ID)
	err = s.inTx(ctx, func(tx *Store) error {
		if err := insertInvocations(ctx, tx, []store.Invocation{inv}); err != nil {
			return tx.writeError(what, err)
		}
		next := tx.d.t(time.Time{}) // the job ended: 0 in SQLite, NULL in PostgreSQL
		if state == store.JobError {
			next = tx.jobRunAt(retryAt)
		}
		// A job that ended drops its stored request: it may hold
		// credentials, and nothing runs it again (a retry uses the
		// attempt's record).
		res, err := tx.exec(ctx,
			`UPDATE jobs SET state = ?, run_at = ?, owner = '', last_invocation = ?, updated_at = ?,
				request = CASE WHEN ? THEN NULL ELSE request END
			WHERE id = ? AND state = 'running' AND owner = ? AND attempts = ? AND run_at = ?`,
			state, next, inv.ID, tx.d.t(tx.now()), state != store.JobError,
			j.ID, j.Owner, j.Attempts, tx.jobRunAt(j.RunAt))
		if err != nil {
			return tx.writeError(what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return tx.fail(what, err)
		}
		held = n == 1
		return nil
	})
	if err != nil {
		return false, err
	}
	return held, nil
}

// RequeueJobs puts owner's running jobs back, due at once.
func (s *Store) RequeueJobs(ctx context.Context, owner string, at time.Time) (int64, error) {
	res, err := s.exec(ctx,
		`UPDATE jobs SET state = 'queued', attempts = `+s.d.pick("max", "greatest")+`(attempts - 1, 0), owner = '',
			run_at = ?, updated_at = ?
		WHERE state = 'running' AND owner = ?`,
		s.jobRunAt(at), s.d.t(s.now()), owner)
	if err != nil {
		return 0, s.writeError(fmt.Sprintf("requeue the jobs of %q", owner), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail(fmt.Sprintf("requeue the jobs of %q", owner), err)
	}
	return n, nil
}

// RetryJob re-queues a dead job. In PostgreSQL the job's row is locked
// first, so that the state it checks holds until the update.
func (s *Store) RetryJob(ctx context.Context, id string, at time.Time) (j store.Job, err error) {
	what := fmt.Sprintf("retry job %q", id)
	err = s.inTx(ctx, func(tx *Store) error {
		var state string
		err := tx.readRow(ctx, `SELECT state FROM jobs WHERE id = ?`+tx.d.pick("", " FOR UPDATE"), id).Scan(&state)
		if err != nil {
			return tx.readError(fmt.Sprintf("job %q", id), err)
		}
		if state != store.JobDead {
			return fmt.Errorf("%s: unable to %s: it is %s, not dead: %w", tx.d.name, what, state, store.ErrConflict)
		}
		j, err = scanJob(tx.writeRow(ctx,
			`UPDATE jobs SET state = 'queued', attempts = 0, owner = '', run_at = ?, updated_at = ?
			WHERE id = ?
			RETURNING `+retriedJobColumns,
			tx.jobRunAt(at), tx.d.t(tx.now()), id))
		if err != nil {
			return tx.writeError(what, err)
		}
		return nil
	})
	if err != nil {
		return store.Job{}, err
	}
	return j, nil
}

// GetJob returns the job with the given ID, with its request.
func (s *Store) GetJob(ctx context.Context, id string) (store.Job, error) {
	j, err := scanJob(s.readRow(ctx, `SELECT `+jobColumns+` FROM jobs j JOIN apps a ON a.id = j.app_id WHERE j.id = ?`, id))
	if err != nil {
		return store.Job{}, s.readError(fmt.Sprintf("job %q", id), err)
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
	return list(ctx, s, s.read, scanJob, "list jobs", q.String(), args...)
}

// NextJobTime returns when the queue next needs attention from owner.
func (s *Store) NextJobTime(ctx context.Context, owner string) (time.Time, error) {
	var next any
	err := s.readRow(ctx,
		`SELECT min(run_at) FROM jobs WHERE state IN `+pendingStates+` AND NOT (state = 'running' AND owner = ?)`,
		owner).Scan(&next)
	if err != nil {
		return time.Time{}, s.fail("find the next job time", err)
	}
	if next == nil {
		return time.Time{}, nil
	}
	var t time.Time
	if err := tm(&t).Scan(next); err != nil {
		return time.Time{}, s.fail("find the next job time", err)
	}
	if t.IsZero() {
		// Due at once: a zero RunAt, 0 in SQLite, -infinity in
		// PostgreSQL. The Unix epoch, not the zero time, which would
		// read as "none".
		return time.Unix(0, 0).UTC(), nil
	}
	return t, nil
}

// PruneJobs removes the jobs that ended ok before the given time.
func (s *Store) PruneJobs(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM jobs WHERE state = 'ok' AND updated_at < ?`, s.d.t(before))
	if err != nil {
		return 0, s.writeError("prune jobs", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail("prune jobs", err)
	}
	return n, nil
}
