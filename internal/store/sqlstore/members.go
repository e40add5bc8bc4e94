package sqlstore

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const memberColumns = "m.app_id, m.user_id, u.username, m.role, m.created_at"

func scanMember(row scanner) (store.Member, error) {
	var m store.Member
	if err := row.Scan(&m.AppID, &m.UserID, &m.Username, &m.Role, tm(&m.CreatedAt)); err != nil {
		return store.Member{}, err
	}
	return m, nil
}

// PutMember gives m.UserID the role m.Role in m.AppID, adding the member or
// changing the role of an existing one (whose CreatedAt stays). An unknown
// app or user is store.ErrNotFound.
func (s *Store) PutMember(ctx context.Context, m store.Member) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	_, err := s.exec(ctx,
		`INSERT INTO members (app_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (app_id, user_id) DO UPDATE SET role = excluded.role`,
		m.AppID, m.UserID, m.Role, s.d.t(m.CreatedAt))
	if err != nil {
		return s.writeError(fmt.Sprintf("put member %d of app %d", m.UserID, m.AppID), err)
	}
	return nil
}

// GetMember returns the membership of a user in an app.
func (s *Store) GetMember(ctx context.Context, appID, userID int64) (store.Member, error) {
	m, err := scanMember(s.readRow(ctx,
		`SELECT `+memberColumns+` FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.app_id = ? AND m.user_id = ?`, appID, userID))
	if err != nil {
		return store.Member{}, s.readError(fmt.Sprintf("member %d of app %d", userID, appID), err)
	}
	return m, nil
}

// ListMembers returns the members of an app, by user name.
func (s *Store) ListMembers(ctx context.Context, appID int64) ([]store.Member, error) {
	return list(ctx, s, s.read, scanMember, fmt.Sprintf("list the members of app %d", appID),
		`SELECT `+memberColumns+` FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.app_id = ? ORDER BY u.username`, appID)
}

// DeleteMember removes a user from an app.
func (s *Store) DeleteMember(ctx context.Context, appID, userID int64) error {
	what := fmt.Sprintf("delete member %d of app %d", userID, appID)
	res, err := s.exec(ctx, `DELETE FROM members WHERE app_id = ? AND user_id = ?`, appID, userID)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}
