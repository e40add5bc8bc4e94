package sqlstore

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

func scanKVEntry(row scanner) (store.KVEntry, error) {
	var e store.KVEntry
	if err := row.Scan(&e.Key, &e.Size, tm(&e.ExpiresAt), tm(&e.UpdatedAt)); err != nil {
		return store.KVEntry{}, err
	}
	return e, nil
}

// KVGet returns a key that has not expired.
func (s *Store) KVGet(ctx context.Context, appID int64, key string, now time.Time) (store.KVEntry, error) {
	e := store.KVEntry{Key: key}
	err := s.readRow(ctx, `SELECT value, size, expires_at, updated_at FROM kv
		WHERE app_id = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`,
		appID, key, s.d.t(now)).Scan(&e.Value, &e.Size, tm(&e.ExpiresAt), tm(&e.UpdatedAt))
	if err != nil {
		return store.KVEntry{}, s.readError(fmt.Sprintf("key %q of app %d", key, appID), err)
	}
	return e, nil
}

// KVList lists the live keys of f in byte order (SQLite's BINARY
// collation, PostgreSQL's "C").
func (s *Store) KVList(ctx context.Context, appID int64, f store.KVFilter, now time.Time) ([]store.KVEntry, error) {
	if !utf8.ValidString(f.Prefix) {
		return []store.KVEntry{}, nil // no key is invalid UTF-8
	}
	limit := f.Limit
	if limit <= 0 || limit > store.MaxKVList {
		limit = store.MaxKVList
	}
	q := `SELECT key, size, expires_at, updated_at FROM kv
		WHERE app_id = ? AND key >= ? AND key > ? AND (expires_at IS NULL OR expires_at > ?)`
	args := []any{appID, f.Prefix, f.After, s.d.t(now)}
	if end, ok := store.KVPrefixEnd(f.Prefix); ok {
		q += ` AND key < ?`
		args = append(args, end)
	}
	q += ` ORDER BY key LIMIT ?`
	return list(ctx, s, s.read, scanKVEntry, fmt.Sprintf("list the keys of app %d", appID), q, append(args, limit)...)
}

// KVUsage returns the app's totals.
func (s *Store) KVUsage(ctx context.Context, appID int64) (store.KVUsage, error) {
	var u store.KVUsage
	err := s.readRow(ctx, `SELECT keys, bytes FROM kv_usage WHERE app_id = ?`, appID).Scan(&u.Keys, &u.Bytes)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return u, s.fail(fmt.Sprintf("get the key-value usage of app %d", appID), err)
	}
	return u, nil
}

// KVSet stores a value, within the app's quota.
func (s *Store) KVSet(ctx context.Context, appID int64, key string, value []byte, expiresAt time.Time, lim store.KVLimits, now time.Time) error {
	what := fmt.Sprintf("set key %q of app %d", key, appID)
	if err := store.CheckKVValue(int64(len(value)), lim); err != nil {
		return s.fail(what, err)
	}
	return s.kvWrite(ctx, what, appID, now, true, kvPurgeBatch, func(k *kvTx) error {
		return store.SetKV(k, key, value, expiresAt, lim)
	})
}

// KVIncr adds n to an integer value in one write transaction, which holds
// the app's keys from its first statement (SQLite's single writer,
// PostgreSQL's lock of the app's usage row): increments of one app follow
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
		if _, err := k.tx.exec(k.ctx, `DELETE FROM kv WHERE app_id = ? AND key = ?`, k.appID, key); err != nil {
			return err
		}
		k.usage.Keys--
		k.usage.Bytes -= int64(len(key)) + old.Size
		return nil
	})
	return existed, err
}

// PurgeExpiredKV removes expired keys app by app, each app in its own
// write transaction, so that it holds one app's keys at a time.
func (s *Store) PurgeExpiredKV(ctx context.Context, now time.Time, limit int) (int64, error) {
	apps, err := list(ctx, s, s.read, func(row scanner) (id int64, err error) {
		err = row.Scan(&id)
		return id, err
	}, "find expired keys", `SELECT u.app_id FROM kv_usage u
		WHERE EXISTS (SELECT 1 FROM kv k WHERE k.app_id = u.app_id AND k.expires_at <= ?)
		ORDER BY u.app_id LIMIT ?`, s.d.t(now), limit)
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

// kvTx is a write transaction on the keys of one app, with the app's
// usage as it will be written back.
type kvTx struct {
	ctx   context.Context
	tx    *Store
	appID int64
	now   time.Time // as the backend keeps it
	usage store.KVUsage
}

// kvWrite runs fn in a write transaction on the app's keys, after
// removing at most purge of its expired keys, and stores the usage fn
// leaves. The transaction first reads the app's usage row, creating it
// when create is set (otherwise an app that never stored a key has none
// to change and fn is not called). That read holds the app's keys until
// the transaction ends: SQLite's transaction holds the single writer from
// its start, and PostgreSQL's locks the usage row FOR UPDATE, taking no
// other lock before it, so two writes to one app cannot deadlock.
func (s *Store) kvWrite(ctx context.Context, what string, appID int64, now time.Time, create bool, purge int, fn func(k *kvTx) error) error {
	return s.inTx(ctx, func(tx *Store) error {
		k := &kvTx{ctx: ctx, tx: tx, appID: appID, now: s.d.ts(now)}
		// The read also tells whether the app has expired keys, to spare
		// a write the statement that removes them when it has none.
		expired := false
		lock := func() error {
			return tx.writeRow(ctx, `SELECT keys, bytes,
					EXISTS (SELECT 1 FROM kv WHERE app_id = ? AND expires_at <= ?)
				FROM kv_usage WHERE app_id = ?`+s.d.pick("", " FOR UPDATE"), appID, s.d.t(k.now), appID).
				Scan(&k.usage.Keys, &k.usage.Bytes, &expired)
		}
		err := lock()
		if errors.Is(err, sql.ErrNoRows) {
			if !create {
				return nil
			}
			// In PostgreSQL two first writes may race here: one
			// inserts, the other waits for it and inserts nothing;
			// both then lock the row.
			_, err = tx.exec(ctx, `INSERT INTO kv_usage (app_id, keys, bytes) VALUES (?, 0, 0) ON CONFLICT (app_id) DO NOTHING`, appID)
			if err != nil {
				return s.writeError(what, err)
			}
			err = lock()
		}
		if err != nil {
			return s.fail(what, err)
		}
		before := k.usage
		if purge > 0 && expired {
			if _, err := k.purge(purge); err != nil {
				return s.writeError(what, err)
			}
		}
		if err := fn(k); err != nil {
			return s.writeError(what, err)
		}
		if k.usage != before {
			_, err := tx.exec(ctx, `UPDATE kv_usage SET keys = ?, bytes = ? WHERE app_id = ?`, k.usage.Keys, k.usage.Bytes, appID)
			if err != nil {
				return s.writeError(what, err)
			}
		}
		return nil
	})
}

// purge removes at most limit (-1: all) expired keys of the app and
// returns how many.
func (k *kvTx) purge(limit int) (int64, error) {
	var n any = limit
	if limit < 0 && k.tx.d.postgres {
		n = nil // PostgreSQL's LIMIT NULL is no limit, as SQLite's LIMIT -1
	}
	rows, err := k.tx.db.QueryContext(k.ctx, k.tx.d.bind(
		`DELETE FROM kv WHERE app_id = ? AND key IN (
			SELECT key FROM kv WHERE app_id = ? AND expires_at <= ? LIMIT ?)
		RETURNING key, size`), k.appID, k.appID, k.tx.d.t(k.now), n)
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
	var r store.KVRow
	err := k.tx.writeRow(k.ctx, `SELECT value, size, expires_at FROM kv WHERE app_id = ? AND key = ?`,
		k.appID, key).Scan(&r.Value, &r.Size, tm(&r.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return store.KVRow{}, nil
	}
	if err != nil {
		return store.KVRow{}, err
	}
	r.Exists = true
	return r, nil
}

func (k *kvTx) Put(key string, value []byte, expiresAt time.Time) error {
	// The value is JSON, bound as text: SQLite would keep a []byte as a
	// BLOB, whatever the column's type.
	_, err := k.tx.exec(k.ctx,
		`INSERT INTO kv (app_id, key, value, size, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value, size = excluded.size,
			expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
		k.appID, key, string(value), len(value), k.tx.d.nt(expiresAt), k.tx.d.t(k.now))
	return err
}

func (k *kvTx) PurgeExpired() (int64, error) { return k.purge(-1) }

func (k *kvTx) Usage() *store.KVUsage { return &k.usage }
