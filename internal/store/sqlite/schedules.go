package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/picloud/picloud/internal/store"
)

const scheduleColumns = `c.id, c.app_id, a.slug, c.script_id, s.name, c.cron, c.timezone, c.payload,
	c.enabled, c.next_run, c.last_run, c.created_at, c.updated_at`

const scheduleFrom = ` FROM schedules c JOIN apps a ON a.id = c.app_id JOIN scripts s ON s.id = c.script_id`

func scanSchedule(row scanner) (store.Schedule, error) {
	var (
		sc                       store.Schedule
		next, last, created, upd int64
	)
	err := row.Scan(&sc.ID, &sc.AppID, &sc.AppSlug, &sc.ScriptID, &sc.Script, &sc.Cron, &sc.Timezone, &sc.Payload,
		&sc.Enabled, &next, &last, &created, &upd)
	if err != nil {
		return store.Schedule{}, err
	}
	sc.NextRun = fromUnixNano(next)
	sc.LastRun = fromUnixNano(last)
	sc.CreatedAt = fromUnixNano(created)
	sc.UpdatedAt = fromUnixNano(upd)
	return sc, nil
}

// CreateSchedule stores sc, setting its ID and, when zero, its CreatedAt;
// UpdatedAt is CreatedAt.
func (s *Store) CreateSchedule(ctx context.Context, sc *store.Schedule) error {
	what := fmt.Sprintf("create a schedule of script %d", sc.ScriptID)
	if sc.CreatedAt.IsZero() {
		sc.CreatedAt = now()
	}
	sc.CreatedAt = sc.CreatedAt.UTC()
	sc.UpdatedAt = sc.CreatedAt
	sc.NextRun = sc.NextRun.UTC()
	sc.LastRun = sc.LastRun.UTC()
	// The script must belong to the app: the INSERT … SELECT inserts
	// nothing otherwise.
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO schedules (app_id, script_id, cron, timezone, payload, enabled, next_run, last_run, created_at, updated_at)
		SELECT s.app_id, s.id, ?, ?, ?, ?, ?, ?, ?, ? FROM scripts s WHERE s.id = ? AND s.app_id = ?
		RETURNING id`,
		sc.Cron, sc.Timezone, sc.Payload, sc.Enabled, unixNano(sc.NextRun), unixNano(sc.LastRun),
		unixNano(sc.CreatedAt), unixNano(sc.UpdatedAt), sc.ScriptID, sc.AppID,
	).Scan(&sc.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: unable to %s: no such script in app %d: %w", what, sc.AppID, store.ErrNotFound)
	}
	if err != nil {
		return writeError(what, err)
	}
	return nil
}

// GetSchedule returns the schedule with the given ID.
func (s *Store) GetSchedule(ctx context.Context, id int64) (store.Schedule, error) {
	sc, err := scanSchedule(s.read.QueryRowContext(ctx, `SELECT `+scheduleColumns+scheduleFrom+` WHERE c.id = ?`, id))
	if err != nil {
		return store.Schedule{}, readError(fmt.Sprintf("schedule %d", id), err)
	}
	return sc, nil
}

// ListSchedules returns the schedules of an app, or of every app when
// appID is 0, by ID.
func (s *Store) ListSchedules(ctx context.Context, appID int64) ([]store.Schedule, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+scheduleColumns+scheduleFrom+` WHERE ? = 0 OR c.app_id = ? ORDER BY c.id`, appID, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list the schedules of app %d: %w", appID, err)
	}
	return collect(rows, scanSchedule, fmt.Sprintf("list the schedules of app %d", appID))
}

// UpdateSchedule changes what a schedule runs and when.
func (s *Store) UpdateSchedule(ctx context.Context, sc *store.Schedule) error {
	what := fmt.Sprintf("update schedule %d", sc.ID)
	at := now()
	sc.NextRun = sc.NextRun.UTC()
	res, err := s.db.ExecContext(ctx,
		`UPDATE schedules SET cron = ?, timezone = ?, payload = ?, enabled = ?, next_run = ?, updated_at = ? WHERE id = ?`,
		sc.Cron, sc.Timezone, sc.Payload, sc.Enabled, unixNano(sc.NextRun), unixNano(at), sc.ID)
	if err != nil {
		return writeError(what, err)
	}
	if err := mustAffect(res, what); err != nil {
		return err
	}
	sc.UpdatedAt = at
	return nil
}

// DeleteSchedule removes a schedule. Jobs it fired stay.
func (s *Store) DeleteSchedule(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete schedule %d", id)
	res, err := s.db.ExecContext(ctx, `DELETE FROM schedules WHERE id = ?`, id)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(res, what)
}

// DueSchedules returns the enabled schedules due at now, earliest first.
func (s *Store) DueSchedules(ctx context.Context, at time.Time, limit int) ([]store.Schedule, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+scheduleColumns+scheduleFrom+`
		WHERE c.enabled = 1 AND c.next_run > 0 AND c.next_run <= ? ORDER BY c.next_run, c.id LIMIT ?`,
		unixNano(at), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list due schedules: %w", err)
	}
	return collect(rows, scanSchedule, "list due schedules")
}

// NextScheduleRun returns the earliest due time of an enabled schedule.
func (s *Store) NextScheduleRun(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	err := s.read.QueryRowContext(ctx,
		`SELECT min(next_run) FROM schedules WHERE enabled = 1 AND next_run > 0`).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: unable to find the next schedule run: %w", err)
	}
	return fromUnixNano(next.Int64), nil
}

// FireSchedule claims a due time with a compare-and-set on next_run and
// enqueues its job in the same transaction: a firing is never claimed
// without its job, nor run twice.
func (s *Store) FireSchedule(ctx context.Context, f store.ScheduleFiring) (bool, error) {
	what := fmt.Sprintf("fire schedule %d", f.ScheduleID)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	defer tx.Rollback()
	var (
		appID, scriptID int64
		payload         string
	)
	err = tx.QueryRowContext(ctx,
		`UPDATE schedules SET next_run = ?, last_run = ?
		WHERE id = ? AND enabled = 1 AND next_run = ? AND next_run > 0
		RETURNING app_id, script_id, payload`,
		unixNano(f.Next), unixNano(f.FireAt), f.ScheduleID, unixNano(f.Due),
	).Scan(&appID, &scriptID, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, writeError(what, err)
	}
	at := now()
	_, err = tx.ExecContext(ctx,
		`INSERT INTO jobs (id, app_id, script, trigger_type, state, attempts, max_attempts, run_at,
			schedule_id, scheduled_at, payload, created_at, updated_at)
		SELECT ?, s.app_id, s.name, ?, ?, 0, CASE WHEN s.max_attempts > 0 THEN s.max_attempts ELSE ? END, ?,
			?, ?, ?, ?, ?
		FROM scripts s WHERE s.id = ?`,
		f.JobID, store.TriggerSchedule, store.JobQueued, store.DefaultMaxAttempts, unixNano(f.RunAt),
		f.ScheduleID, unixNano(f.FireAt), payload, unixNano(at), unixNano(at), scriptID)
	if err != nil {
		return false, writeError(what, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return true, nil
}
