package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

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
		expires sql.NullInt64
		updated int64
	)
	err := s.read.QueryRowContext(ctx,
		`SELECT value, size, expires_at, updated_at FROM kv
		WHERE app_id = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`,
		appID, key, unixNano(now)).Scan(&value, &e.Size, &expires, &updated)
	if err != nil {
		return store.KVEntry{}, readError(fmt.Sprintf("key %q of app %d", key, appID), err)
	}
	e.Value = []byte(value)
	e.ExpiresAt = fromUnixNano(expires.Int64)
	e.UpdatedAt = fromUnixNano(updated)
	return e, nil
}

// KVList lists the live keys of f in byte order.
func (s *Store) KVList(ctx context.Context, appID int64, f store.KVFilter, now time.Time) ([]store.KVEntry, error) {
	out := []store.KVEntry{}
	if !utf8.ValidString(f.Prefix) {
		return out, nil // no key is invalid UTF-8
	}
	limit := f.Limit
	if limit <= 0 || limit > store.MaxKVList {
		limit = store.MaxKVList
	}
	q := `SELECT key, size, expires_at, updated_at FROM kv
		WHERE app_id = ? AND key >= ? AND key > ? AND (expires_at IS NULL OR expires_at > ?)`
	args := []any{appID, f.Prefix, f.After, unixNano(now)}
	if end, ok := store.KVPrefixEnd(f.Prefix); ok {
		q += ` AND key < ?`
		args = append(args, end)
	}
	q += ` ORDER BY key LIMIT ?`
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list the keys of app %d: %w", appID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e       store.KVEntry
			expires sql.NullInt64
			updated int64
		)
		if err := rows.Scan(&e.Key, &e.Size, &expires, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: unable to list the keys of app %d: %w", appID, err)
		}
		e.ExpiresAt = fromUnixNano(expires.Int64)
		e.UpdatedAt = fromUnixNano(updated)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: unable to list the keys of app %d: %w", appID, err)
	}
	return out, nil
}

// KVUsage returns the app's totals.
func (s *Store) KVUsage(ctx context.Context, appID int64) (store.KVUsage, error) {
	var u store.KVUsage
	err := s.read.QueryRowContext(ctx, `SELECT keys, bytes FROM kv_usage WHERE app_id = ?`, appID).Scan(&u.Keys, &u.Bytes)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("sqlite: unable to get the key-value usage of app %d: %w", appID, err)
	}
	return u, nil
}

// KVSet stores a value, within the app's quota.
func (s *Store) KVSet(ctx context.Context, appID int64, key string, value []byte, expiresAt time.Time, lim store.KVLimits, now time.Time) error {
	what := fmt.Sprintf("set key %q of app %d", key, appID)
	if err := store.CheckKVValue(int64(len(value)), lim); err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return s.kvWrite(ctx, what, appID, now, true, kvPurgeBatch, func(k *kvTx) error {
		return store.SetKV(k, key, value, expiresAt, lim)
	})
}

// KVIncr adds n to an integer value in one write transaction: the single
// writer makes it atomic.
func (s *Store) KVIncr(ctx context.Context, appID int64, key string, n int64, lim store.KVLimits, now time.Time) (int64, error) {
	what := fmt.Sprintf("increment key %q of app %d", key, appID)
	var sum int64
	err := s.kvWrite(ctx, what, appID, now, true, kvPurgeBatch, func(k *kvTx) (err error) {
		sum, err = store.IncrKV(k, key, n, lim, now)
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
		existed = old.Live(now)
		if _, err := k.tx.ExecContext(k.ctx, `DELETE FROM kv WHERE app_id = ? AND key = ?`, k.appID, key); err != nil {
			return err
		}
		k.usage.Keys--
		k.usage.Bytes -= int64(len(key)) + old.Size
		return nil
	})
	return existed, err
}

// PurgeExpiredKV removes expired keys app by app, each app in its own
// write transaction.
func (s *Store) PurgeExpiredKV(ctx context.Context, now time.Time, limit int) (int64, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT u.app_id FROM kv_usage u
		WHERE EXISTS (SELECT 1 FROM kv k WHERE k.app_id = u.app_id AND k.expires_at <= ?)
		ORDER BY u.app_id LIMIT ?`, unixNano(now), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlite: unable to find expired keys: %w", err)
	}
	var apps []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite: unable to find expired keys: %w", err)
		}
		apps = append(apps, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: unable to find expired keys: %w", err)
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

// kvTx is a write transaction on the keys of one app, with the app's
// usage as it will be written back.
type kvTx struct {
	ctx   context.Context
	tx    *sql.Tx
	appID int64
	now   int64
	usage store.KVUsage
}

// kvWrite runs fn in a write transaction on the app's keys, after
// removing at most purge of its expired keys, and stores the usage fn
// leaves. Unless create is set, an app that never stored a key has none
// to change: fn is not called.
func (s *Store) kvWrite(ctx context.Context, what string, appID int64, now time.Time, create bool, purge int, fn func(k *kvTx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	defer tx.Rollback()
	k := &kvTx{ctx: ctx, tx: tx, appID: appID, now: unixNano(now)}
	// The read also tells whether the app has expired keys, to spare a
	// write the statement that removes them when it has none.
	expired := false
	err = tx.QueryRowContext(ctx, `SELECT keys, bytes,
			EXISTS (SELECT 1 FROM kv WHERE app_id = ? AND expires_at <= ?)
		FROM kv_usage WHERE app_id = ?`, appID, k.now, appID).Scan(&k.usage.Keys, &k.usage.Bytes, &expired)
	stored := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	if !stored && !create {
		return nil
	}
	before := k.usage
	if purge > 0 && expired {
		if _, err := k.purge(purge); err != nil {
			return writeError(what, err)
		}
	}
	if err := fn(k); err != nil {
		if errors.Is(err, store.ErrQuota) || errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("sqlite: unable to %s: %w", what, err)
		}
		return writeError(what, err)
	}
	if k.usage != before || !stored {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO kv_usage (app_id, keys, bytes) VALUES (?, ?, ?)
			ON CONFLICT (app_id) DO UPDATE SET keys = excluded.keys, bytes = excluded.bytes`,
			appID, k.usage.Keys, k.usage.Bytes)
		if err != nil {
			return writeError(what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return nil
}

// purge removes at most limit (-1: all) expired keys of the app and
// returns how many.
func (k *kvTx) purge(limit int) (int64, error) {
	rows, err := k.tx.QueryContext(k.ctx,
		`DELETE FROM kv WHERE app_id = ? AND key IN (
			SELECT key FROM kv WHERE app_id = ? AND expires_at <= ? LIMIT ?)
		RETURNING key, size`, k.appID, k.appID, k.now, limit)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var (
			key  string
			size int64
		)
		if err := rows.Scan(&key, &size); err != nil {
			return n, err
		}
		n++
		k.usage.Keys--
		k.usage.Bytes -= int64(len(key)) + size
	}
	return n, rows.Err()
}

// Row, Put, PurgeExpired and Usage make kvTx a store.KVWriter.

func (k *kvTx) Row(key string) (store.KVRow, error) {
	var (
		r       store.KVRow
		value   string
		expires sql.NullInt64
	)
	err := k.tx.QueryRowContext(k.ctx, `SELECT value, size, expires_at FROM kv WHERE app_id = ? AND key = ?`,
		k.appID, key).Scan(&value, &r.Size, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	r.Exists, r.Value, r.ExpiresAt = true, []byte(value), fromUnixNano(expires.Int64)
	return r, nil
}

func (k *kvTx) Put(key string, value []byte, expiresAt time.Time) error {
	_, err := k.tx.ExecContext(k.ctx,
		`INSERT INTO kv (app_id, key, value, size, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value, size = excluded.size,
			expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
		k.appID, key, string(value), len(value), nullUnixNano(expiresAt), k.now)
	return err
}

func (k *kvTx) PurgeExpired() (int64, error) { return k.purge(-1) }

func (k *kvTx) Usage() *store.KVUsage { return &k.usage }
