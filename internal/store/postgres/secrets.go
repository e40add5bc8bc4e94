package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/store"
)

// PutSecret creates or replaces the secret s.Name of app s.AppID. It
// locks the app's row first, so that the writes of one app's secrets take
// turns and the bound on their number holds.
func (s *Store) PutSecret(ctx context.Context, sec *store.Secret, max int) (bool, error) {
	what := fmt.Sprintf("put secret %q of app %d", sec.Name, sec.AppID)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	var n int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1 FOR NO KEY UPDATE`, sec.AppID).Scan(&n); err != nil {
		return false, readError(fmt.Sprintf("app %d", sec.AppID), err)
	}
	if sec.UpdatedAt.IsZero() {
		sec.UpdatedAt = now()
	}
	sec.UpdatedAt = ts(sec.UpdatedAt)
	var created time.Time
	err = tx.QueryRow(ctx, `SELECT created_at FROM app_secrets WHERE app_id = $1 AND name = $2`,
		sec.AppID, sec.Name).Scan(&created)
	switch {
	case err == nil:
		_, err = tx.Exec(ctx, `UPDATE app_secrets SET sealed = $1, updated_at = $2 WHERE app_id = $3 AND name = $4`,
			sec.Sealed, sec.UpdatedAt, sec.AppID, sec.Name)
		if err != nil {
			return false, writeError(what, err)
		}
		sec.CreatedAt = created.UTC()
		return false, commitSecret(ctx, tx, what)
	case !errors.Is(err, pgx.ErrNoRows):
		return false, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	if max > 0 {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM app_secrets WHERE app_id = $1`, sec.AppID).Scan(&n); err != nil {
			return false, fmt.Errorf("postgres: unable to %s: %w", what, err)
		}
		if n >= max {
			return false, fmt.Errorf("postgres: unable to %s: the app has %d secrets: %w", what, n, store.ErrTooMany)
		}
	}
	if sec.CreatedAt.IsZero() {
		sec.CreatedAt = sec.UpdatedAt
	}
	sec.CreatedAt = ts(sec.CreatedAt)
	_, err = tx.Exec(ctx,
		`INSERT INTO app_secrets (app_id, name, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
		sec.AppID, sec.Name, sec.Sealed, sec.CreatedAt, sec.UpdatedAt)
	if err != nil {
		return false, writeError(what, err)
	}
	return true, commitSecret(ctx, tx, what)
}

// commitSecret commits a PutSecret.
func commitSecret(ctx context.Context, tx pgx.Tx, what string) error {
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
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
	// The value column is read only when asked for, so that a list
	// never holds ciphertexts it does not need.
	sealed := "NULL::bytea"
	if values {
		sealed = "sealed"
	}
	return query(ctx, s.pool, func(row scanner) (store.Secret, error) {
		var sec store.Secret
		if err := row.Scan(&sec.AppID, &sec.Name, &sec.Sealed, &sec.CreatedAt, &sec.UpdatedAt); err != nil {
			return store.Secret{}, err
		}
		sec.CreatedAt, sec.UpdatedAt = sec.CreatedAt.UTC(), sec.UpdatedAt.UTC()
		return sec, nil
	}, fmt.Sprintf("list the secrets of app %d", appID),
		`SELECT app_id, name, `+sealed+`, created_at, updated_at FROM app_secrets WHERE app_id = $1 ORDER BY name`, appID)
}

// DeleteSecret removes a secret of an app.
func (s *Store) DeleteSecret(ctx context.Context, appID int64, name string) error {
	what := fmt.Sprintf("delete secret %q of app %d", name, appID)
	tag, err := s.pool.Exec(ctx, `DELETE FROM app_secrets WHERE app_id = $1 AND name = $2`, appID, name)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}
