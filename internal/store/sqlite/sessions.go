package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// CreateSession stores s; its CreatedAt is set when zero.
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now()
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		sess.TokenHash, sess.UserID, unixNano(sess.CreatedAt), unixNano(sess.ExpiresAt))
	if err != nil {
		return writeError(fmt.Sprintf("create a session for user %d", sess.UserID), err)
	}
	return nil
}

// GetSession returns the session with the given token hash. An expired
// session, one whose ExpiresAt is not after now, is not found.
func (s *Store) GetSession(ctx context.Context, tokenHash string) (store.Session, error) {
	var (
		sess             store.Session
		created, expires int64
	)
	err := s.read.QueryRowContext(ctx,
		`SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, now().UnixNano(),
	).Scan(&sess.TokenHash, &sess.UserID, &created, &expires)
	if err != nil {
		return store.Session{}, readError("session", err)
	}
	sess.CreatedAt = fromUnixNano(created)
	sess.ExpiresAt = fromUnixNano(expires)
	return sess, nil
}

// DeleteSession removes the session with the given token hash.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	if err != nil {
		return writeError("delete a session", err)
	}
	return mustAffect(res, "delete a session")
}

// DeleteExpiredSessions removes the sessions whose ExpiresAt is not after
// at.
func (s *Store) DeleteExpiredSessions(ctx context.Context, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, unixNano(at)); err != nil {
		return writeError("delete expired sessions", err)
	}
	return nil
}

// DeleteUserSessions removes every session of a user but the one whose
// hash is keep.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, keep); err != nil {
		return writeError(fmt.Sprintf("delete the sessions of user %d", userID), err)
	}
	return nil
}
