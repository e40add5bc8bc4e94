package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// pendingUsageSQL reads an app's pending jobs and the bytes of their
// stored requests from the row that triggers keep (migration 14): summing
// them over the app's pending jobs cost a row lookup per job, in SQLite
// 49 ms for 10,000 jobs with the writer held (BenchmarkPendingUsage).
const pendingUsageSQL = `SELECT jobs, bytes FROM queue_usage WHERE app_id = ?`

// AppUsage returns what the app keeps under its storage quotas.
func (s *Store) AppUsage(ctx context.Context, appID int64) (store.AppUsage, error) {
	var u store.AppUsage
	err := s.readRow(ctx, pendingUsageSQL, appID).Scan(&u.QueuedJobs, &u.QueuedBytes)
	if err != nil && !errors.Is(err, sql.ErrNoRows) { // no row: no such app
		return store.AppUsage{}, s.fail(fmt.Sprintf("read the queue usage of app %d", appID), err)
	}
	err = s.readRow(ctx, `SELECT bytes FROM recording_usage WHERE app_id = ?`, appID).Scan(&u.RecordedBytes)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.AppUsage{}, s.fail(fmt.Sprintf("read the recording usage of app %d", appID), err)
	}
	return u, nil
}

// exchangeSize is the stored size of a record's exchange and journal, as
// encodeExchange returned them.
func exchangeSize(cols ...any) int64 {
	n := 0
	for _, c := range cols {
		if b, ok := c.([]byte); ok {
			n += len(b)
		}
	}
	return int64(n)
}

// addRecorded adds the bytes of the exchanges just inserted to their
// apps' recording usage, one statement per app of the batch, in the order
// of apps (sorted), so that two PostgreSQL transactions lock the usage
// rows in the same order. A record skipped because its ID was taken is
// counted all the same: it can only make TrimRecordings prune earlier,
// never let the app keep more.
func addRecorded(ctx context.Context, tx *Store, apps []int64, added map[int64]int64) error {
	for _, app := range apps {
		n := added[app]
		if n == 0 {
			continue
		}
		_, err := tx.exec(ctx, `INSERT INTO recording_usage (app_id, bytes) VALUES (?, ?)
			ON CONFLICT (app_id) DO UPDATE SET bytes = recording_usage.bytes + excluded.bytes`, app, n)
		if err != nil {
			return err
		}
	}
	return nil
}

// pruneRecorded takes the exchanges of the records started before the
// given time, which PruneInvocations is about to delete, off their apps'
// usage; in SQLite through the (app_id, started_at) index. s is in a
// transaction.
func (s *Store) pruneRecorded(ctx context.Context, before time.Time) error {
	if s.d.postgres {
		// Lock the usage rows first, in order, so that the sums read next
		// see every trim committed before.
		if _, err := s.exec(ctx, `SELECT app_id FROM recording_usage ORDER BY app_id FOR UPDATE`); err != nil {
			return err
		}
	}
	_, err := s.exec(ctx, `UPDATE recording_usage SET bytes = `+s.d.pick("max", "greatest")+`(0, bytes - coalesce((
		SELECT sum(coalesce(octet_length(i.request), 0) + coalesce(octet_length(i.response), 0)
			+ coalesce(octet_length(i.journal), 0)) FROM invocations i
		WHERE i.app_id = recording_usage.app_id AND i.started_at < ?), 0))`, s.d.t(before))
	return err
}

// trimChunk is how many of an app's oldest records TrimRecordings reads
// at a time.
const trimChunk = 256

// TrimRecordings deletes the oldest records of the given apps that are
// over their recording quota. Which apps are over is read first, without
// taking the writer or a lock, since a log write usually finds none; each
// app is then trimmed in its own transaction, which in PostgreSQL locks
// the app's usage row, so that two nodes do not both trim it. The trims
// made before an error are returned with it: they are committed.
func (s *Store) TrimRecordings(ctx context.Context, appIDs []int64, defaultMax int64) ([]store.RecordingTrim, error) {
	if len(appIDs) == 0 {
		return nil, nil
	}
	type usage struct {
		app, bytes int64
		limits     []byte
	}
	usages, err := list(ctx, s, s.read, func(row scanner) (u usage, err error) {
		err = row.Scan(&u.app, &u.bytes, &u.limits)
		return u, err
	}, "read recording usage", `SELECT u.app_id, u.bytes, a.limits FROM recording_usage u
		JOIN apps a ON a.id = u.app_id WHERE u.app_id `+inSet(s.d)+` ORDER BY u.app_id`, setParam(s.d, appIDs))
	if err != nil {
		return nil, err
	}
	var trims []store.RecordingTrim
	for _, u := range usages {
		var limits store.AppLimits
		if err := json.Unmarshal(u.limits, &limits); err != nil {
			return trims, fmt.Errorf("%s: app %d: limits: %w", s.d.name, u.app, err)
		}
		quota := store.StorageQuotas{MaxRecordedBytes: defaultMax}.Merge(limits).MaxRecordedBytes
		if quota <= 0 || u.bytes <= quota {
			continue
		}
		t, err := s.trimApp(ctx, u.app, quota)
		if err != nil {
			return trims, fmt.Errorf("%s: unable to trim the recordings of app %d: %w", s.d.name, u.app, err)
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
	err := s.inTx(ctx, func(tx *Store) error {
		var bytes int64
		err := tx.writeRow(ctx, `SELECT bytes FROM recording_usage WHERE app_id = ?`+s.d.pick("", " FOR UPDATE"), app).Scan(&bytes)
		if err != nil {
			return err
		}
		for bytes > quota {
			ids, freed, err := tx.oldestRecords(ctx, app, bytes-quota)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				freed = bytes
			} else if _, err := tx.exec(ctx, `DELETE FROM invocations WHERE id `+inSet(s.d), setParam(s.d, ids)); err != nil {
				return err
			}
			bytes -= freed
			t.Records += int64(len(ids))
			t.Bytes += freed
		}
		_, err = tx.exec(ctx, `UPDATE recording_usage SET bytes = ? WHERE app_id = ?`, max(bytes, 0), app)
		return err
	})
	if err != nil {
		return store.RecordingTrim{AppID: app}, err
	}
	return t, nil
}

// oldestRecordsSQL reads the oldest records of an app, a chunk at most,
// with the bytes of their exchanges and journals.
const oldestRecordsSQL = `SELECT id, coalesce(octet_length(request), 0) + coalesce(octet_length(response), 0)
	+ coalesce(octet_length(journal), 0) FROM invocations WHERE app_id = ? ORDER BY started_at, id LIMIT ?`

// oldestRecords returns the ids of the app's oldest records, at most a
// chunk, whose exchanges add up to excess bytes, and their bytes.
func (s *Store) oldestRecords(ctx context.Context, app, excess int64) (ids []string, freed int64, err error) {
	type record struct {
		id   string
		size int64
	}
	records, err := list(ctx, s, s.db, func(row scanner) (r record, err error) {
		err = row.Scan(&r.id, &r.size)
		return r, err
	}, "read the oldest records", oldestRecordsSQL, app, trimChunk)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range records {
		if freed >= excess {
			break
		}
		ids = append(ids, r.id)
		freed += r.size
	}
	return ids, freed, nil
}
