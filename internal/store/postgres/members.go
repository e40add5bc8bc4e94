package postgres

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const memberColumns = "m.app_id, m.user_id, u.username, m.role, m.created_at"

func scanMember(row scanner) (store.Member, error) {
	var m store.Member
	if err := row.Scan(&m.AppID, &m.UserID, &m.Username, &m.Role, &m.CreatedAt); err != nil {
		return store.Member{}, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}

// PutMember gives m.UserID the role m.Role in m.AppID, adding the member or
// changing the role of an existing one (whose CreatedAt stays). An unknown
// app or user is store.ErrNotFound.
func (s *Store) PutMember(ctx context.Context, m store.Member) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now()
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO members (app_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (app_id, user_id) DO UPDATE SET role = excluded.role`,
		m.AppID, m.UserID, m.Role, ts(m.CreatedAt))
	if err != nil {
		return writeError(fmt.Sprintf("put member %d of app %d", m.UserID, m.AppID), err)
	}
	return nil
}

// GetMember returns the membership of a user in an app.
func (s *Store) GetMember(ctx context.Context, appID, userID int64) (store.Member, error) {
	m, err := scanMember(s.pool.QueryRow(ctx,
		`SELECT `+memberColumns+` FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.app_id = $1 AND m.user_id = $2`, appID, userID))
	if err != nil {
		return store.Member{}, readError(fmt.Sprintf("member %d of app %d", userID, appID), err)
	}
	return m, nil
}

// ListMembers returns the members of an app, by user name.
func (s *Store) ListMembers(ctx context.Context, appID int64) ([]store.Member, error) {
	return query(ctx, s.pool, scanMember, fmt.Sprintf("list the members of app %d", appID),
		`SELECT `+memberColumns+` FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.app_id = $1 ORDER BY u.username`, appID)
}

// DeleteMember removes a user from an app.
func (s *Store) DeleteMember(ctx context.Context, appID, userID int64) error {
	what := fmt.Sprintf("delete member %d of app %d", userID, appID)
	tag, err := s.pool.Exec(ctx, `DELETE FROM members WHERE app_id = $1 AND user_id = $2`, appID, userID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}
