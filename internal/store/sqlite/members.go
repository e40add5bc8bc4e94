package sqlite

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const memberColumns = "m.app_id, m.user_id, u.username, m.role, m.created_at"

func scanMember(row scanner) (store.Member, error) {
	var (
		m       store.Member
		created int64
	)
	if err := row.Scan(&m.AppID, &m.UserID, &m.Username, &m.Role, &created); err != nil {
		return store.Member{}, err
	}
	m.CreatedAt = fromUnixNano(created)
	return m, nil
}

// PutMember gives m.UserID the role m.Role in m.AppID, adding the member or
// changing the role of an existing one (whose CreatedAt stays). An unknown
// app or user is store.ErrNotFound.
func (s *Store) PutMember(ctx context.Context, m store.Member) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now()
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO members (app_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (app_id, user_id) DO UPDATE SET role = excluded.role`,
		m.AppID, m.UserID, m.Role, unixNano(m.CreatedAt))
	if err != nil {
		return writeError(fmt.Sprintf("put member %d of app %d", m.UserID, m.AppID), err)
	}
	return nil
}

// GetMember returns the membership of a user in an app.
func (s *Store) GetMember(ctx context.Context, appID, userID int64) (store.Member, error) {
	m, err := scanMember(s.read.QueryRowContext(ctx,
		`SELECT `+memberColumns+` FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.app_id = ? AND m.user_id = ?`, appID, userID))
	if err != nil {
		return store.Member{}, readError(fmt.Sprintf("member %d of app %d", userID, appID), err)
	}
	return m, nil
}

// ListMembers returns the members of an app, by user name.
func (s *Store) ListMembers(ctx context.Context, appID int64) ([]store.Member, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+memberColumns+` FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.app_id = ? ORDER BY u.username`, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list the members of app %d: %w", appID, err)
	}
	return collect(rows, scanMember, fmt.Sprintf("list the members of app %d", appID))
}

// DeleteMember removes a user from an app.
func (s *Store) DeleteMember(ctx context.Context, appID, userID int64) error {
	what := fmt.Sprintf("delete member %d of app %d", userID, appID)
	res, err := s.db.ExecContext(ctx, `DELETE FROM members WHERE app_id = ? AND user_id = ?`, appID, userID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(res, what)
}
