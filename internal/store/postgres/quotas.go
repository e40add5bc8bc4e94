package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/store"
)

// pendingUsageSQL reads an app's pending jobs and the bytes of their
// stored requests from the row that triggers keep (migration 8), instead
// of walking the app's pending jobs.
const pendingUsageSQL = `SELECT jobs, bytes FROM queue_usage WHERE app_id = $1`

// pendingUsage reads what pendingUsageSQL gives through q; zero for an app
// without a row (one that does not exist).
func pendingUsage(ctx context.Context, q querier, appID int64) (jobs, bytes int64, err error) {
	err = q.QueryRow(ctx, pendingUsageSQL, appID).Scan(&jobs, &bytes)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	return jobs, bytes, err
}

// checkQueue refuses j when its app already has maxPending pending jobs or
// when its request would take their bytes past maxBytes (0: no bound). It
// first locks the app's row, so that concurrent enqueues to one app check
// and insert one after the other: two cannot both pass the bound.
func checkQueue(ctx context.Context, tx pgx.Tx, j *store.Job, maxPending int, maxBytes int64) error {
	if maxPending <= 0 && maxBytes <= 0 {
		return nil
	}
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR NO KEY UPDATE`, j.AppID).Scan(&one); err != nil {
		return readError(fmt.Sprintf("app %d", j.AppID), err)
	}
	n, used, err := pendingUsage(ctx, tx, j.AppID)
	if err != nil {
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

// AppUsage returns what the app keeps under its storage quotas.
func (s *Store) AppUsage(ctx context.Context, appID int64) (store.AppUsage, error) {
	var u store.AppUsage
	var err error
	if u.QueuedJobs, u.QueuedBytes, err = pendingUsage(ctx, s.pool, appID); err != nil {
		return u, fmt.Errorf("postgres: unable to read the queue usage of app %d: %w", appID, err)
	}
	err = s.pool.QueryRow(ctx, `SELECT bytes FROM recording_usage WHERE app_id = $1`, appID).Scan(&u.RecordedBytes)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("postgres: unable to read the recording usage of app %d: %w", appID, err)
	}
	return u, nil
}

// addRecorded adds the bytes of the exchanges just inserted to their
// apps' recording usage, in the order of apps (sorted), so that two
// batches lock the usage rows in the same order. A record skipped because
// its ID was taken is counted all the same: it can only make
// TrimRecordings prune earlier, never let the app keep more.
func addRecorded(ctx context.Context, tx pgx.Tx, apps []int64, added map[int64]int64) error {
	for _, app := range apps {
		n := added[app]
		if n == 0 {
			continue
		}
		_, err := tx.Exec(ctx, `INSERT INTO recording_usage (app_id, bytes) VALUES ($1, $2)
			ON CONFLICT (app_id) DO UPDATE SET bytes = recording_usage.bytes + excluded.bytes`, app, n)
		if err != nil {
			return err
		}
	}
	return nil
}

// pruneRecorded takes the exchanges of the records started before the
// given time off their apps' usage. It locks the usage rows first, in
// order, so that the sums it reads next see every trim committed before.
func pruneRecorded(ctx context.Context, tx pgx.Tx, before time.Time) error {
	if _, err := tx.Exec(ctx, `SELECT app_id FROM recording_usage ORDER BY app_id FOR UPDATE`); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE recording_usage u SET bytes = greatest(0, u.bytes - coalesce((
		SELECT sum(coalesce(octet_length(i.request), 0) + coalesce(octet_length(i.response), 0)) FROM invocations i
		WHERE i.app_id = u.app_id AND i.started_at < $1), 0))`, before)
	return err
}

// trimChunk is how many of an app's oldest records TrimRecordings reads
// at a time.
const trimChunk = 256

// TrimRecordings deletes the oldest records of the given apps that are
// over their recording quota. Which apps are over is read first, without
// a lock, since a log write usually finds none; each app is then trimmed
// under the lock of its usage row, so that two nodes do not both trim it.
func (s *Store) TrimRecordings(ctx context.Context, appIDs []int64, defaultMax int64) ([]store.RecordingTrim, error) {
	if len(appIDs) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT u.app_id, u.bytes, a.limits FROM recording_usage u
		JOIN apps a ON a.id = u.app_id WHERE u.app_id = ANY($1) ORDER BY u.app_id`, appIDs)
	if err != nil {
		return nil, fmt.Errorf("postgres: unable to read recording usage: %w", err)
	}
	type overQuota struct{ app, quota int64 }
	var over []overQuota
	for rows.Next() {
		var (
			app, bytes int64
			limits     store.AppLimits
		)
		if err := rows.Scan(&app, &bytes, &limits); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: unable to read recording usage: %w", err)
		}
		quota := store.StorageQuotas{MaxRecordedBytes: defaultMax}.Merge(limits).MaxRecordedBytes
		if quota > 0 && bytes > quota {
			over = append(over, overQuota{app, quota})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: unable to read recording usage: %w", err)
	}
	var trims []store.RecordingTrim
	for _, o := range over {
		t, err := s.trimApp(ctx, o.app, o.quota)
		if err != nil {
			return trims, fmt.Errorf("postgres: unable to trim the recordings of app %d: %w", o.app, err)
		}
		if t.Records > 0 {
			trims = append(trims, t)
		}
	}
	return trims, nil
}

// trimApp deletes the app's oldest records until its recorded bytes are
// within quota, chunk by chunk, and takes them off its usage, in one
// transaction. When no record is left the usage is set to 0, whatever it
// said.
func (s *Store) trimApp(ctx context.Context, app, quota int64) (store.RecordingTrim, error) {
	t := store.RecordingTrim{AppID: app}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return t, err
	}
	defer tx.Rollback(ctx)
	var bytes int64
	err = tx.QueryRow(ctx, `SELECT bytes FROM recording_usage WHERE app_id = $1 FOR UPDATE`, app).Scan(&bytes)
	if err != nil {
		return t, err
	}
	for bytes > quota {
		ids, freed, err := oldestRecords(ctx, tx, app, bytes-quota)
		if err != nil {
			return t, err
		}
		if len(ids) == 0 {
			freed = bytes
		} else if _, err := tx.Exec(ctx, `DELETE FROM invocations WHERE id = ANY($1)`, ids); err != nil {
			return t, err
		}
		bytes -= freed
		t.Records += int64(len(ids))
		t.Bytes += freed
	}
	if _, err := tx.Exec(ctx, `UPDATE recording_usage SET bytes = $1 WHERE app_id = $2`, max(bytes, 0), app); err != nil {
		return t, err
	}
	return t, tx.Commit(ctx)
}

// oldestRecords returns the ids of the app's oldest records, at most a
// chunk, whose exchanges add up to excess bytes, and their bytes.
func oldestRecords(ctx context.Context, tx pgx.Tx, app, excess int64) (ids []string, freed int64, err error) {
	rows, err := tx.Query(ctx, `SELECT id, coalesce(octet_length(request), 0) + coalesce(octet_length(response), 0)
		FROM invocations WHERE app_id = $1 ORDER BY started_at, id LIMIT $2`, app, trimChunk)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for freed < excess && rows.Next() {
		var (
			id   string
			size int64
		)
		if err := rows.Scan(&id, &size); err != nil {
			return nil, 0, err
		}
		ids = append(ids, id)
		freed += size
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return slices.Clip(ids), freed, nil
}
