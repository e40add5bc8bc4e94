package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/picloud/picloud/internal/store"
)

// kvPurgeBatch bounds the expired keys of an app that a write removes on
// the way, so that a write never pays for a large backlog; a write that
// would otherwise exceed a quota removes them all.
const kvPurgeBatch = 16

// KVGet returns a key that has not expired.
func (s *Store) KVGet(ctx context.Context, appID int64, key string, now time.Time) (store.KVEntry, error) {
	e := store.KVEntry{Key: key}
	var (
		value   string
		expires pgtype.Timestamptz
	)
	err := s.pool.QueryRow(ctx,
		`SELECT value, size, expires_at, updated_at FROM kv
		WHERE app_id = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)`,
		appID, key, ts(now)).Scan(&value, &e.Size, &expires, &e.UpdatedAt)
	if err != nil {
		return store.KVEntry{}, readError(fmt.Sprintf("key %q of app %d", key, appID), err)
	}
	e.Value = []byte(value)
	e.ExpiresAt = fromTime(expires)
	e.UpdatedAt = e.UpdatedAt.UTC()
	return e, nil
}

// KVList lists the live keys of f in byte order (the "C" collation).
func (s *Store) KVList(ctx context.Context, appID int64, f store.KVFilter, now time.Time) ([]store.KVEntry, error) {
	if !utf8.ValidString(f.Prefix) {
		return []store.KVEntry{}, nil // no key is invalid UTF-8
	}
	limit := f.Limit
	if limit <= 0 || limit > store.MaxKVList {
		limit = store.MaxKVList
	}
	q := `SELECT key, size, expires_at, updated_at FROM kv
		WHERE app_id = $1 AND key >= $2 AND key > $3 AND (expires_at IS NULL OR expires_at > $4)`
	args := []any{appID, f.Prefix, f.After, ts(now)}
	if end, ok := store.KVPrefixEnd(f.Prefix); ok {
		q += ` AND key < $6`
		args = append(args, limit, end)
	} else {
		args = append(args, limit)
	}
	q += ` ORDER BY key LIMIT $5`
	return query(ctx, s.pool, scanKVEntry, fmt.Sprintf("list the keys of app %d", appID), q, args...)
}

func scanKVEntry(row scanner) (store.KVEntry, error) {
	var (
		e       store.KVEntry
		expires pgtype.Timestamptz
	)
	if err := row.Scan(&e.Key, &e.Size, &expires, &e.UpdatedAt); err != nil {
		return e, err
	}
	e.ExpiresAt = fromTime(expires)
	e.UpdatedAt = e.UpdatedAt.UTC()
	return e, nil
}

// KVUsage returns the app's totals.
func (s *Store) KVUsage(ctx context.Context, appID int64) (store.KVUsage, error) {
	var u store.KVUsage
	err := s.pool.QueryRow(ctx, `SELECT keys, bytes FROM kv_usage WHERE app_id = $1`, appID).Scan(&u.Keys, &u.Bytes)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("postgres: unable to get the key-value usage of app %d: %w", appID, err)
	}
	return u, nil
}

// KVSet stores a value, within the app's quota.
func (s *Store) KVSet(ctx context.Context, appID int64, key string, value []byte, expiresAt time.Time, lim store.KVLimits, now time.Time) error {
	what := fmt.Sprintf("set key %q of app %d", key, appID)
	if err := store.CheckKVValue(int64(len(value)), lim); err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return s.kvWrite(ctx, what, appID, now, true, kvPurgeBatch, func(k *kvTx) error {
		return store.SetKV(k, key, value, expiresAt, lim)
	})
}

// KVIncr adds n to an integer value. The transaction holds the app's
// usage row from its first statement, so increments of one app follow
// one another and none is lost.
func (s *Store) KVIncr(ctx context.Context, appID int64, key string, n int64, lim store.KVLimits, now time.Time) (int64, error) {
	what := fmt.Sprintf("increment key %q of app %d", key, appID)
	var sum int64
	err := s.kvWrite(ctx, what, appID, now, true, kvPurgeBatch, func(k *kvTx) (err error) {
		sum, err = store.IncrKV(k, key, n, lim, k.now)
		return err
	})
	return sum, err
}

// KVDelete removes a key.
func (s *Store) KVDelete(ctx context.Context, appID int64, key string, now time.Time) (bool, error) {
	what := fmt.Sprintf("delete key %q of app %d", key, appID)
	existed := false
	err := s.kvWrite(ctx, what, appID, now, false, kvPurgeBatch, func(k *kvTx) error {
		old, err := k.Row(key)
		if err != nil || !old.Exists {
			return err
		}
		existed = old.Live(k.now)
		if _, err := k.tx.Exec(k.ctx, `DELETE FROM kv WHERE app_id = $1 AND key = $2`, k.appID, key); err != nil {
			return err
		}
		k.usage.Keys--
		k.usage.Bytes -= int64(len(key)) + old.Size
		return nil
	})
	return existed, err
}

// PurgeExpiredKV removes expired keys app by app, each app in its own
// transaction, so that it holds one app's usage row at a time.
func (s *Store) PurgeExpiredKV(ctx context.Context, now time.Time, limit int) (int64, error) {
	apps, err := query(ctx, s.pool, func(row scanner) (int64, error) {
		var id int64
		err := row.Scan(&id)
		return id, err
	}, "find expired keys",
		`SELECT u.app_id FROM kv_usage u
		WHERE EXISTS (SELECT 1 FROM kv k WHERE k.app_id = u.app_id AND k.expires_at <= $1)
		ORDER BY u.app_id LIMIT $2`, ts(now), limit)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, id := range apps {
		if total >= int64(limit) {
			break
		}
		var n int64
		err := s.kvWrite(ctx, fmt.Sprintf("purge the expired keys of app %d", id), id, now, false, 0, func(k *kvTx) error {
			var err error
			n, err = k.purge(limit - int(total))
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// kvTx is a write transaction on the keys of one app, holding the lock
// of its usage row, with the usage as it will be written back.
type kvTx struct {
	ctx   context.Context
	tx    pgx.Tx
	appID int64
	now   time.Time
	usage store.KVUsage
}

// kvWrite runs fn in a transaction on the app's keys, after removing at
// most purge of its expired keys, and stores the usage fn leaves. The
// transaction first locks the app's usage row (creating it when create is
// set; otherwise an app that never stored a key has none to change and fn
// is not called), and takes no other lock before it, so two writes to one
// app cannot deadlock.
func (s *Store) kvWrite(ctx context.Context, what string, appID int64, now time.Time, create bool, purge int, fn func(k *kvTx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	k := &kvTx{ctx: ctx, tx: tx, appID: appID, now: ts(now)}
	// The lock also tells whether the app has expired keys, to spare a
	// write the statement that removes them when it has none.
	expired := false
	lock := func() error {
		return tx.QueryRow(ctx, `SELECT keys, bytes,
				EXISTS (SELECT 1 FROM kv WHERE app_id = $1 AND expires_at <= $2)
			FROM kv_usage WHERE app_id = $1 FOR UPDATE`, appID, k.now).
			Scan(&k.usage.Keys, &k.usage.Bytes, &expired)
	}
	err = lock()
	if errors.Is(err, pgx.ErrNoRows) {
		if !create {
			return nil
		}
		// Two first writes may race here: one inserts, the other waits
		// for it and inserts nothing; both then lock the row.
		_, err = tx.Exec(ctx, `INSERT INTO kv_usage (app_id, keys, bytes) VALUES ($1, 0, 0) ON CONFLICT (app_id) DO NOTHING`, appID)
		if err != nil {
			return writeError(what, err)
		}
		err = lock()
	}
	if err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	before := k.usage
	if purge > 0 && expired {
		if _, err := k.purge(purge); err != nil {
			return writeError(what, err)
		}
	}
	if err := fn(k); err != nil {
		if errors.Is(err, store.ErrQuota) || errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("postgres: unable to %s: %w", what, err)
		}
		return writeError(what, err)
	}
	if k.usage != before {
		_, err := tx.Exec(ctx, `UPDATE kv_usage SET keys = $2, bytes = $3 WHERE app_id = $1`, appID, k.usage.Keys, k.usage.Bytes)
		if err != nil {
			return writeError(what, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return nil
}

// purge removes at most limit (-1: all) expired keys of the app and
// returns how many.
func (k *kvTx) purge(limit int) (int64, error) {
	n := pgtype.Int8{Int64: int64(limit), Valid: limit >= 0} // LIMIT NULL: no limit
	rows, err := k.tx.Query(k.ctx,
		`DELETE FROM kv WHERE app_id = $1 AND key IN (
			SELECT key FROM kv WHERE app_id = $1 AND expires_at <= $2 LIMIT $3)
		RETURNING key, size`, k.appID, k.now, n)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var count int64
	for rows.Next() {
		var (
			key  string
			size int64
		)
		if err := rows.Scan(&key, &size); err != nil {
			return count, err
		}
		count++
		k.usage.Keys--
		k.usage.Bytes -= int64(len(key)) + size
	}
	return count, rows.Err()
}

// Row, Put, PurgeExpired and Usage make kvTx a store.KVWriter.

func (k *kvTx) Row(key string) (store.KVRow, error) {
	var (
		r       store.KVRow
		value   string
		expires pgtype.Timestamptz
	)
	err := k.tx.QueryRow(k.ctx, `SELECT value, size, expires_at FROM kv WHERE app_id = $1 AND key = $2`,
		k.appID, key).Scan(&value, &r.Size, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	r.Exists, r.Value, r.ExpiresAt = true, []byte(value), fromTime(expires)
	return r, nil
}

func (k *kvTx) Put(key string, value []byte, expiresAt time.Time) error {
	_, err := k.tx.Exec(k.ctx,
		`INSERT INTO kv (app_id, key, value, size, expires_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value, size = excluded.size,
			expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
		k.appID, key, string(value), len(value), nullTime(expiresAt), k.now)
	return err
}

func (k *kvTx) PurgeExpired() (int64, error) { return k.purge(-1) }

func (k *kvTx) Usage() *store.KVUsage { return &k.usage }
