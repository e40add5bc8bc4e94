package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/picloud/picloud/internal/store"
)

const apiKeyColumns = "id, user_id, name, token_hash, prefix, created_at, last_used"

func scanAPIKey(row scanner) (store.APIKey, error) {
	var (
		k        store.APIKey
		lastUsed pgtype.Timestamptz
	)
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.TokenHash, &k.Prefix, &k.CreatedAt, &lastUsed); err != nil {
		return store.APIKey{}, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.LastUsed = fromTime(lastUsed)
	return k, nil
}

// CreateAPIKey stores k, setting its ID and, when zero, its CreatedAt.
func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now()
	}
	k.CreatedAt = ts(k.CreatedAt)
	k.LastUsed = ts(k.LastUsed)
	err := s.pool.QueryRow(ctx,
		`INSERT INTO api_keys (user_id, name, token_hash, prefix, created_at, last_used)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		k.UserID, k.Name, k.TokenHash, k.Prefix, k.CreatedAt, nullTime(k.LastUsed),
	).Scan(&k.ID)
	if err != nil {
		return writeError(fmt.Sprintf("create API key %q", k.Name), err)
	}
	return nil
}

// GetAPIKeyByHash returns the API key with the given token hash.
func (s *Store) GetAPIKeyByHash(ctx context.Context, tokenHash string) (store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return store.APIKey{}, readError("API key", err)
	}
	return k, nil
}

// ListAPIKeys returns the API keys of a user, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, userID int64) ([]store.APIKey, error) {
	return query(ctx, s.pool, scanAPIKey, fmt.Sprintf("list the API keys of user %d", userID),
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE user_id = $1 ORDER BY id`, userID)
}

// DeleteAPIKey removes the API key id if userID owns it.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id int64) error {
	what := fmt.Sprintf("delete API key %d of user %d", id, userID)
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_keys WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}

// TouchAPIKey records that the API key id was used at the given time.
func (s *Store) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	what := fmt.Sprintf("touch API key %d", id)
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used = $1 WHERE id = $2`, nullTime(at), id)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}
