package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// CreateSession stores s; its CreatedAt is set when zero.
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.now()
	}
	_, err := s.exec(ctx,
		`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		sess.TokenHash, sess.UserID, s.d.t(sess.CreatedAt), s.d.t(sess.ExpiresAt))
	if err != nil {
		return s.writeError(fmt.Sprintf("create a session for user %d", sess.UserID), err)
	}
	return nil
}

// GetSession returns the session with the given token hash. An expired
// session, one whose ExpiresAt is not after now, is not found.
func (s *Store) GetSession(ctx context.Context, tokenHash string) (store.Session, error) {
	var sess store.Session
	err := s.readRow(ctx,
		`SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, s.d.t(s.now()),
	).Scan(&sess.TokenHash, &sess.UserID, tm(&sess.CreatedAt), tm(&sess.ExpiresAt))
	if err != nil {
		return store.Session{}, s.readError("session", err)
	}
	return sess, nil
}

// DeleteSession removes the session with the given token hash.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	res, err := s.exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	if err != nil {
		return s.writeError("delete a session", err)
	}
	return s.mustAffect(res, "delete a session")
}

// DeleteExpiredSessions removes the sessions whose ExpiresAt is not after
// at.
func (s *Store) DeleteExpiredSessions(ctx context.Context, at time.Time) error {
	if _, err := s.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, s.d.t(at)); err != nil {
		return s.writeError("delete expired sessions", err)
	}
	return nil
}

// DeleteUserSessions removes every session of a user but the one whose
// hash is keep.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	if _, err := s.exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, keep); err != nil {
		return s.writeError(fmt.Sprintf("delete the sessions of user %d", userID), err)
	}
	return nil
}
