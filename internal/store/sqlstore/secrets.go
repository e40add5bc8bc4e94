package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// PutSecret creates or replaces the secret s.Name of app s.AppID. The
// writes of one app's secrets take turns, so that the count and the write
// see no concurrent change and the bound on their number holds: in SQLite
// the transaction begins IMMEDIATE (see inTx), in PostgreSQL it locks the
// app's row first.
func (s *Store) PutSecret(ctx context.Context, sec *store.Secret, max int) (created bool, err error) {
	what := fmt.Sprintf("put secret %q of app %d", sec.Name, sec.AppID)
	err = s.inTx(ctx, func(tx *Store) error {
		var n int
		err := tx.writeRow(ctx, `SELECT 1 FROM apps WHERE id = ?`+s.d.pick("", ` FOR NO KEY UPDATE`), sec.AppID).Scan(&n)
		if err != nil {
			return tx.readError(fmt.Sprintf("app %d", sec.AppID), err)
		}
		if sec.UpdatedAt.IsZero() {
			sec.UpdatedAt = tx.now()
		}
		sec.UpdatedAt = tx.d.ts(sec.UpdatedAt)
		var createdAt time.Time
		err = tx.readRow(ctx, `SELECT created_at FROM app_secrets WHERE app_id = ? AND name = ?`,
			sec.AppID, sec.Name).Scan(tm(&createdAt))
		switch {
		case err == nil:
			_, err = tx.exec(ctx, `UPDATE app_secrets SET sealed = ?, updated_at = ? WHERE app_id = ? AND name = ?`,
				sec.Sealed, tx.d.t(sec.UpdatedAt), sec.AppID, sec.Name)
			if err != nil {
				return tx.writeError(what, err)
			}
			sec.CreatedAt = createdAt
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return tx.fail(what, err)
		}
		if max > 0 {
			if err := tx.readRow(ctx, `SELECT count(*) FROM app_secrets WHERE app_id = ?`, sec.AppID).Scan(&n); err != nil {
				return tx.fail(what, err)
			}
			if n >= max {
				return tx.fail(what, fmt.Errorf("the app has %d secrets: %w", n, store.ErrTooMany))
			}
		}
		if sec.CreatedAt.IsZero() {
			sec.CreatedAt = sec.UpdatedAt
		}
		sec.CreatedAt = tx.d.ts(sec.CreatedAt)
		_, err = tx.exec(ctx,
			`INSERT INTO app_secrets (app_id, name, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			sec.AppID, sec.Name, sec.Sealed, tx.d.t(sec.CreatedAt), tx.d.t(sec.UpdatedAt))
		if err != nil {
			return tx.writeError(what, err)
		}
		created = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// ListSecrets lists an app's secrets by name, without their values.
func (s *Store) ListSecrets(ctx context.Context, appID int64) ([]store.Secret, error) {
	return s.listSecrets(ctx, appID, false)
}

// ListSecretValues lists an app's secrets by name, with their sealed
// values.
func (s *Store) ListSecretValues(ctx context.Context, appID int64) ([]store.Secret, error) {
	return s.listSecrets(ctx, appID, true)
}

func (s *Store) listSecrets(ctx context.Context, appID int64, values bool) ([]store.Secret, error) {
	// The value column is read only when asked for, so that a list
	// never holds ciphertexts it does not need.
	sealed := s.d.pick("NULL", "NULL::bytea")
	if values {
		sealed = "sealed"
	}
	return list(ctx, s, s.read, func(row scanner) (store.Secret, error) {
		var sec store.Secret
		if err := row.Scan(&sec.AppID, &sec.Name, &sec.Sealed, tm(&sec.CreatedAt), tm(&sec.UpdatedAt)); err != nil {
			return store.Secret{}, err
		}
		return sec, nil
	}, fmt.Sprintf("list the secrets of app %d", appID),
		`SELECT app_id, name, `+sealed+`, created_at, updated_at FROM app_secrets WHERE app_id = ? ORDER BY name`, appID)
}

// DeleteSecret removes a secret of an app.
func (s *Store) DeleteSecret(ctx context.Context, appID int64, name string) error {
	what := fmt.Sprintf("delete secret %q of app %d", name, appID)
	res, err := s.exec(ctx, `DELETE FROM app_secrets WHERE app_id = ? AND name = ?`, appID, name)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}
