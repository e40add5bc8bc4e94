package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/picloud/picloud/internal/store"
)

const apiKeyColumns = "id, user_id, name, token_hash, prefix, created_at, last_used"

func scanAPIKey(row scanner) (store.APIKey, error) {
	var k store.APIKey
	if err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.TokenHash, &k.Prefix, tm(&k.CreatedAt), tm(&k.LastUsed)); err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

// CreateAPIKey stores k, setting its ID and, when zero, its CreatedAt.
func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	k.CreatedAt = s.d.ts(k.CreatedAt)
	k.LastUsed = s.d.ts(k.LastUsed)
	err := s.writeRow(ctx,
		`INSERT INTO api_keys (user_id, name, token_hash, prefix, created_at, last_used)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		k.UserID, k.Name, k.TokenHash, k.Prefix, s.d.t(k.CreatedAt), s.d.nt(k.LastUsed),
	).Scan(&k.ID)
	if err != nil {
		return s.writeError(fmt.Sprintf("create API key %q", k.Name), err)
	}
	return nil
}

// GetAPIKeyByHash returns the API key with the given token hash.
func (s *Store) GetAPIKeyByHash(ctx context.Context, tokenHash string) (store.APIKey, error) {
	k, err := scanAPIKey(s.readRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE token_hash = ?`, tokenHash))
	if err != nil {
		return store.APIKey{}, s.readError("API key", err)
	}
	return k, nil
}

// ListAPIKeys returns the API keys of a user, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, userID int64) ([]store.APIKey, error) {
	return list(ctx, s, s.read, scanAPIKey, fmt.Sprintf("list the API keys of user %d", userID),
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE user_id = ? ORDER BY id`, userID)
}

// DeleteAPIKey removes the API key id if userID owns it.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id int64) error {
	what := fmt.Sprintf("delete API key %d of user %d", id, userID)
	res, err := s.exec(ctx, `DELETE FROM api_keys WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}

// TouchAPIKey records that the API key id was used at the given time.
func (s *Store) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	what := fmt.Sprintf("touch API key %d", id)
	res, err := s.exec(ctx, `UPDATE api_keys SET last_used = ? WHERE id = ?`, s.d.nt(at), id)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}
