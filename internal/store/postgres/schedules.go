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

const scheduleColumns = `c.id, c.app_id, a.slug, c.script_id, s.name, c.cron, c.timezone, c.payload,
	c.enabled, c.next_run, c.last_run, c.created_at, c.updated_at`

const scheduleFrom = ` FROM schedules c JOIN apps a ON a.id = c.app_id JOIN scripts s ON s.id = c.script_id`

func scanSchedule(row scanner) (store.Schedule, error) {
	var (
		sc         store.Schedule
		next, last pgtype.Timestamptz
	)
	err := row.Scan(&sc.ID, &sc.AppID, &sc.AppSlug, &sc.ScriptID, &sc.Script, &sc.Cron, &sc.Timezone, &sc.Payload,
		&sc.Enabled, &next, &last, &sc.CreatedAt, &sc.UpdatedAt)
	if err != nil {
		return store.Schedule{}, err
	}
	sc.NextRun = fromTime(next)
	sc.LastRun = fromTime(last)
	sc.CreatedAt = sc.CreatedAt.UTC()
	sc.UpdatedAt = sc.UpdatedAt.UTC()
	return sc, nil
}

// CreateSchedule stores sc, setting its ID and, when zero, its CreatedAt;
// UpdatedAt is CreatedAt.
func (s *Store) CreateSchedule(ctx context.Context, sc *store.Schedule) error {
	what := fmt.Sprintf("create a schedule of script %d", sc.ScriptID)
	if sc.CreatedAt.IsZero() {
		sc.CreatedAt = now()
	}
	sc.CreatedAt = ts(sc.CreatedAt)
	sc.UpdatedAt = sc.CreatedAt
	sc.NextRun = ts(sc.NextRun)
	sc.LastRun = ts(sc.LastRun)
	// The script must belong to the app: the INSERT … SELECT inserts
	// nothing otherwise.
	err := s.pool.QueryRow(ctx,
		`INSERT INTO schedules (app_id, script_id, cron, timezone, payload, enabled, next_run, last_run, created_at, updated_at)
		SELECT s.app_id, s.id, $1, $2, $3, $4, $5, $6, $7, $8 FROM scripts s WHERE s.id = $9 AND s.app_id = $10
		RETURNING id`,
		sc.Cron, sc.Timezone, sc.Payload, sc.Enabled, nullTime(sc.NextRun), nullTime(sc.LastRun),
		sc.CreatedAt, sc.UpdatedAt, sc.ScriptID, sc.AppID,
	).Scan(&sc.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: unable to %s: no such script in app %d: %w", what, sc.AppID, store.ErrNotFound)
	}
	if err != nil {
		return writeError(what, err)
	}
	return nil
}

// GetSchedule returns the schedule with the given ID.
func (s *Store) GetSchedule(ctx context.Context, id int64) (store.Schedule, error) {
	sc, err := scanSchedule(s.pool.QueryRow(ctx, `SELECT `+scheduleColumns+scheduleFrom+` WHERE c.id = $1`, id))
	if err != nil {
		return store.Schedule{}, readError(fmt.Sprintf("schedule %d", id), err)
	}
	return sc, nil
}

// ListSchedules returns the schedules of an app, or of every app when
// appID is 0, by ID.
func (s *Store) ListSchedules(ctx context.Context, appID int64) ([]store.Schedule, error) {
	return query(ctx, s.pool, scanSchedule, fmt.Sprintf("list the schedules of app %d", appID),
		`SELECT `+scheduleColumns+scheduleFrom+` WHERE $1::bigint = 0 OR c.app_id = $1 ORDER BY c.id`, appID)
}

// UpdateSchedule changes what a schedule runs and when.
func (s *Store) UpdateSchedule(ctx context.Context, sc *store.Schedule) error {
	what := fmt.Sprintf("update schedule %d", sc.ID)
	at := now()
	sc.NextRun = ts(sc.NextRun)
	tag, err := s.pool.Exec(ctx,
		`UPDATE schedules SET cron = $1, timezone = $2, payload = $3, enabled = $4, next_run = $5, updated_at = $6
		WHERE id = $7`,
		sc.Cron, sc.Timezone, sc.Payload, sc.Enabled, nullTime(sc.NextRun), at, sc.ID)
	if err != nil {
		return writeError(what, err)
	}
	if err := mustAffect(tag, what); err != nil {
		return err
	}
	sc.UpdatedAt = at
	return nil
}

// DeleteSchedule removes a schedule. Jobs it fired stay.
func (s *Store) DeleteSchedule(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete schedule %d", id)
	tag, err := s.pool.Exec(ctx, `DELETE FROM schedules WHERE id = $1`, id)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}

// DueSchedules returns the enabled schedules due at now, earliest first.
func (s *Store) DueSchedules(ctx context.Context, at time.Time, limit int) ([]store.Schedule, error) {
	return query(ctx, s.pool, scanSchedule, "list due schedules",
		`SELECT `+scheduleColumns+scheduleFrom+`
		WHERE c.enabled AND c.next_run IS NOT NULL AND c.next_run <= $1 ORDER BY c.next_run, c.id LIMIT $2`,
		ts(at), limit)
}

// NextScheduleRun returns the earliest due time of an enabled schedule.
func (s *Store) NextScheduleRun(ctx context.Context) (time.Time, error) {
	var next pgtype.Timestamptz
	err := s.pool.QueryRow(ctx,
		`SELECT min(next_run) FROM schedules WHERE enabled AND next_run IS NOT NULL`).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: unable to find the next schedule run: %w", err)
	}
	return fromTime(next), nil
}

// FireSchedule claims a due time with a compare-and-set on next_run and
// enqueues its job in the same transaction: a firing is never claimed
// without its job, nor run twice. Concurrent firers queue on the
// schedule's row lock; once the first commits, PostgreSQL evaluates the
// others' WHERE again on the new row, where next_run has moved on, and
// they update nothing.
func (s *Store) FireSchedule(ctx context.Context, f store.ScheduleFiring) (bool, error) {
	what := fmt.Sprintf("fire schedule %d", f.ScheduleID)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	var (
		scriptID int64
		payload  string
	)
	err = tx.QueryRow(ctx,
		`UPDATE schedules SET next_run = $1, last_run = $2
		WHERE id = $3 AND enabled AND next_run = $4
		RETURNING script_id, payload`,
		nullTime(f.Next), nullTime(f.FireAt), f.ScheduleID, nullTime(f.Due),
	).Scan(&scriptID, &payload)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, writeError(what, err)
	}
	at := now()
	_, err = tx.Exec(ctx,
		`INSERT INTO jobs (id, app_id, script, trigger_type, state, attempts, max_attempts, run_at,
			schedule_id, scheduled_at, payload, created_at, updated_at)
		SELECT $1, s.app_id, s.name, $2, $3, 0, CASE WHEN s.max_attempts > 0 THEN s.max_attempts ELSE $4 END, $5,
			$6, $7, $8, $9, $9
		FROM scripts s WHERE s.id = $10`,
		f.JobID, store.TriggerSchedule, store.JobQueued, store.DefaultMaxAttempts, runAt(f.RunAt),
		f.ScheduleID, nullTime(f.FireAt), payload, at, scriptID)
	if err != nil {
		return false, writeError(what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return true, nil
}
