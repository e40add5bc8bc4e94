package sqlstore

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const userColumns = "id, username, password_hash, role, created_at"

func scanUser(row scanner) (store.User, error) {
	var u store.User
	if err := row.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, tm(&u.CreatedAt)); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// CreateUser stores u, setting its ID and, when zero, its CreatedAt.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	u.CreatedAt = s.d.ts(u.CreatedAt)
	err := s.writeRow(ctx,
		`INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		u.Username, u.PasswordHash, u.Role, s.d.t(u.CreatedAt),
	).Scan(&u.ID)
	if err != nil {
		return s.writeError(fmt.Sprintf("create user %q", u.Username), err)
	}
	return nil
}

// GetUser returns the user with the given id.
func (s *Store) GetUser(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(s.readRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return store.User{}, s.readError(fmt.Sprintf("user %d", id), err)
	}
	return u, nil
}

// GetUserByName returns the user with the given name.
func (s *Store) GetUserByName(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(s.readRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if err != nil {
		return store.User{}, s.readError(fmt.Sprintf("user %q", username), err)
	}
	return u, nil
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	return list(ctx, s, s.read, scanUser, "list users", `SELECT `+userColumns+` FROM users ORDER BY username`)
}

// UpdateUser changes the password hash and role of the user u.ID.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	what := fmt.Sprintf("update user %d", u.ID)
	res, err := s.exec(ctx, `UPDATE users SET password_hash = ?, role = ? WHERE id = ?`, u.PasswordHash, u.Role, u.ID)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}

// DeleteUser removes the user with its sessions, API keys and
// memberships (the foreign keys cascade, in the one statement); the
// versions it deployed stay, with no author.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete user %d", id)
	res, err := s.exec(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}

// CountAdmins returns the number of users with the admin role. In a
// transaction it holds their rows until the transaction ends (SQLite's
// transaction holds the whole database already), so that a check that one
// administrator remains stays true until the change it guards commits.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	q := `SELECT count(*) FROM users WHERE role = ?`
	if s.tx != nil && s.d.postgres {
		q = `SELECT count(*) FROM (SELECT 1 FROM users WHERE role = ? FOR UPDATE) admins`
	}
	var n int
	if err := s.readRow(ctx, q, store.RoleAdmin).Scan(&n); err != nil {
		return 0, s.fail("count admins", err)
	}
	return n, nil
}
