package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

// PutSecret creates or replaces the secret s.Name of app s.AppID. The
// transaction begins IMMEDIATE (see dsn), so the count and the write see
// no concurrent change.
func (s *Store) PutSecret(ctx context.Context, sec *store.Secret, max int) (bool, error) {
	what := fmt.Sprintf("put secret %q of app %d", sec.Name, sec.AppID)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM apps WHERE id = ?`, sec.AppID).Scan(&n); err != nil {
		return false, readError(fmt.Sprintf("app %d", sec.AppID), err)
	}
	if sec.UpdatedAt.IsZero() {
		sec.UpdatedAt = now()
	}
	sec.UpdatedAt = sec.UpdatedAt.UTC()
	var created int64
	err = tx.QueryRowContext(ctx, `SELECT created_at FROM app_secrets WHERE app_id = ? AND name = ?`,
		sec.AppID, sec.Name).Scan(&created)
	switch {
	case err == nil:
		_, err = tx.ExecContext(ctx, `UPDATE app_secrets SET sealed = ?, updated_at = ? WHERE app_id = ? AND name = ?`,
			sec.Sealed, unixNano(sec.UpdatedAt), sec.AppID, sec.Name)
		if err != nil {
			return false, writeError(what, err)
		}
		sec.CreatedAt = fromUnixNano(created)
		return false, commitSecret(tx, what)
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	if max > 0 {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM app_secrets WHERE app_id = ?`, sec.AppID).Scan(&n); err != nil {
			return false, fmt.Errorf("sqlite: unable to %s: %w", what, err)
		}
		if n >= max {
			return false, fmt.Errorf("sqlite: unable to %s: the app has %d secrets: %w", what, n, store.ErrTooMany)
		}
	}
	if sec.CreatedAt.IsZero() {
		sec.CreatedAt = sec.UpdatedAt
	}
	sec.CreatedAt = sec.CreatedAt.UTC()
	_, err = tx.ExecContext(ctx,
		`INSERT INTO app_secrets (app_id, name, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		sec.AppID, sec.Name, sec.Sealed, unixNano(sec.CreatedAt), unixNano(sec.UpdatedAt))
	if err != nil {
		return false, writeError(what, err)
	}
	return true, commitSecret(tx, what)
}

// commitSecret commits a PutSecret.
func commitSecret(tx *sql.Tx, what string) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return nil
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
	what := fmt.Sprintf("list the secrets of app %d", appID)
	// The value column is read only when asked for, so that a list
	// never holds ciphertexts it does not need.
	sealed := "NULL"
	if values {
		sealed = "sealed"
	}
	rows, err := s.read.QueryContext(ctx,
		`SELECT app_id, name, `+sealed+`, created_at, updated_at FROM app_secrets WHERE app_id = ? ORDER BY name`, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return collect(rows, func(row scanner) (store.Secret, error) {
		var (
			sec              store.Secret
			created, updated int64
		)
		if err := row.Scan(&sec.AppID, &sec.Name, &sec.Sealed, &created, &updated); err != nil {
			return store.Secret{}, err
		}
		sec.CreatedAt, sec.UpdatedAt = fromUnixNano(created), fromUnixNano(updated)
		return sec, nil
	}, what)
}

// DeleteSecret removes a secret of an app.
func (s *Store) DeleteSecret(ctx context.Context, appID int64, name string) error {
	what := fmt.Sprintf("delete secret %q of app %d", name, appID)
	res, err := s.db.ExecContext(ctx, `DELETE FROM app_secrets WHERE app_id = ? AND name = ?`, appID, name)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(res, what)
}
