package sqlstore

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

// scheduleArmed is the condition of an enabled schedule with a next run,
// of schedules as c: next_run is 0 when there is none in SQLite, NULL in
// PostgreSQL. The text is the schedules_due index's condition, so that
// both backends use it.
func (s *Store) scheduleArmed() string {
	return s.d.pick(`c.enabled = 1 AND c.next_run > 0`, `c.enabled AND c.next_run IS NOT NULL`)
}

func scanSchedule(row scanner) (store.Schedule, error) {
	var sc store.Schedule
	err := row.Scan(&sc.ID, &sc.AppID, &sc.AppSlug, &sc.ScriptID, &sc.Script, &sc.Cron, &sc.Timezone, &sc.Payload,
		&sc.Enabled, tm(&sc.NextRun), tm(&sc.LastRun), tm(&sc.CreatedAt), tm(&sc.UpdatedAt))
	if err != nil {
		return store.Schedule{}, err
	}
	return sc, nil
}

// CreateSchedule stores sc, setting its ID and, when zero, its CreatedAt;
// UpdatedAt is CreatedAt.
func (s *Store) CreateSchedule(ctx context.Context, sc *store.Schedule) error {
	what := fmt.Sprintf("create a schedule of script %d", sc.ScriptID)
	if sc.CreatedAt.IsZero() {
		sc.CreatedAt = s.now()
	}
	sc.CreatedAt = s.d.ts(sc.CreatedAt)
	sc.UpdatedAt = sc.CreatedAt
	sc.NextRun = s.d.ts(sc.NextRun)
	sc.LastRun = s.d.ts(sc.LastRun)
	// The script must belong to the app: the INSERT … SELECT inserts
	// nothing otherwise.
	err := s.writeRow(ctx,
		`INSERT INTO schedules (app_id, script_id, cron, timezone, payload, enabled, next_run, last_run, created_at, updated_at)
		SELECT s.app_id, s.id, ?, ?, ?, ?, ?, ?, ?, ? FROM scripts s WHERE s.id = ? AND s.app_id = ?
		RETURNING id`,
		sc.Cron, sc.Timezone, sc.Payload, sc.Enabled, s.d.t(sc.NextRun), s.d.t(sc.LastRun),
		s.d.t(sc.CreatedAt), s.d.t(sc.UpdatedAt), sc.ScriptID, sc.AppID,
	).Scan(&sc.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: unable to %s: no such script in app %d: %w", s.d.name, what, sc.AppID, store.ErrNotFound)
	}
	if err != nil {
		return s.writeError(what, err)
	}
	return nil
}

// GetSchedule returns the schedule with the given ID.
func (s *Store) GetSchedule(ctx context.Context, id int64) (store.Schedule, error) {
	sc, err := scanSchedule(s.readRow(ctx, `SELECT `+scheduleColumns+scheduleFrom+` WHERE c.id = ?`, id))
	if err != nil {
		return store.Schedule{}, s.readError(fmt.Sprintf("schedule %d", id), err)
	}
	return sc, nil
}

// ListSchedules returns the schedules of an app, or of every app when
// appID is 0, by ID.
func (s *Store) ListSchedules(ctx context.Context, appID int64) ([]store.Schedule, error) {
	return list(ctx, s, s.read, scanSchedule, fmt.Sprintf("list the schedules of app %d", appID),
		`SELECT `+scheduleColumns+scheduleFrom+` WHERE `+s.d.pick("?", "?::bigint")+` = 0 OR c.app_id = ? ORDER BY c.id`,
		appID, appID)
}

// UpdateSchedule changes what a schedule runs and when.
func (s *Store) UpdateSchedule(ctx context.Context, sc *store.Schedule) error {
	what := fmt.Sprintf("update schedule %d", sc.ID)
	at := s.now()
	sc.NextRun = s.d.ts(sc.NextRun)
	res, err := s.exec(ctx,
		`UPDATE schedules SET cron = ?, timezone = ?, payload = ?, enabled = ?, next_run = ?, updated_at = ? WHERE id = ?`,
		sc.Cron, sc.Timezone, sc.Payload, sc.Enabled, s.d.t(sc.NextRun), s.d.t(at), sc.ID)
	if err != nil {
		return s.writeError(what, err)
	}
	if err := s.mustAffect(res, what); err != nil {
		return err
	}
	sc.UpdatedAt = at
	return nil
}

// DeleteSchedule removes a schedule. Jobs it fired stay.
func (s *Store) DeleteSchedule(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete schedule %d", id)
	res, err := s.exec(ctx, `DELETE FROM schedules WHERE id = ?`, id)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}

// DueSchedules returns the enabled schedules due at now, earliest first.
func (s *Store) DueSchedules(ctx context.Context, at time.Time, limit int) ([]store.Schedule, error) {
	return list(ctx, s, s.read, scanSchedule, "list due schedules",
		`SELECT `+scheduleColumns+scheduleFrom+`
		WHERE `+s.scheduleArmed()+` AND c.next_run <= ? ORDER BY c.next_run, c.id LIMIT ?`,
		s.d.t(at), limit)
}

// NextScheduleRun returns the earliest due time of an enabled schedule.
func (s *Store) NextScheduleRun(ctx context.Context) (time.Time, error) {
	var next time.Time
	err := s.readRow(ctx, `SELECT min(c.next_run) FROM schedules c WHERE `+s.scheduleArmed()).Scan(tm(&next))
	if err != nil {
		return time.Time{}, s.fail("find the next schedule run", err)
	}
	return next, nil
}

// FireSchedule claims a due time with a compare-and-set on next_run and
// enqueues its job in the same transaction: a firing is never claimed
// without its job, nor run twice. In SQLite the write transaction runs
// alone. In PostgreSQL concurrent firers queue on the schedule's row
// lock; once the first commits, PostgreSQL evaluates the others' WHERE
// again on the new row, where next_run has moved on, and they update
// nothing.
func (s *Store) FireSchedule(ctx context.Context, f store.ScheduleFiring) (fired bool, err error) {
	what := fmt.Sprintf("fire schedule %d", f.ScheduleID)
	err = s.inTx(ctx, func(tx *Store) error {
		var (
			scriptID int64
			payload  string
		)
		err := tx.writeRow(ctx,
			`UPDATE schedules AS c SET next_run = ?, last_run = ?
			WHERE c.id = ? AND `+tx.scheduleArmed()+` AND c.next_run = ?
			RETURNING script_id, payload`,
			tx.d.t(f.Next), tx.d.t(f.FireAt), f.ScheduleID, tx.d.t(f.Due),
		).Scan(&scriptID, &payload)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return tx.writeError(what, err)
		}
		at := tx.now()
		_, err = tx.exec(ctx,
			`INSERT INTO jobs (id, app_id, script, trigger_type, state, attempts, max_attempts, run_at,
				schedule_id, scheduled_at, payload, created_at, updated_at)
			SELECT ?, s.app_id, s.name, ?, ?, 0, CASE WHEN s.max_attempts > 0 THEN s.max_attempts ELSE ? END, ?,
				?, ?, ?, ?, ?
			FROM scripts s WHERE s.id = ?`,
			f.JobID, store.TriggerSchedule, store.JobQueued, store.DefaultMaxAttempts, tx.jobRunAt(f.RunAt),
			f.ScheduleID, tx.d.t(f.FireAt), payload, tx.d.t(at), tx.d.t(at), scriptID)
		if err != nil {
			return tx.writeError(what, err)
		}
		fired = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return fired, nil
}
