package postgres

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const userColumns = "id, username, password_hash, role, created_at"

func scanUser(row scanner) (store.User, error) {
	var u store.User
	if err := row.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, &u.CreatedAt); err != nil {
		return store.User{}, err
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
}

// CreateUser stores u, setting its ID and, when zero, its CreatedAt.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	u.CreatedAt = ts(u.CreatedAt)
	err := s.pool.QueryRow(ctx,
		`INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		u.Username, u.PasswordHash, u.Role, u.CreatedAt,
	).Scan(&u.ID)
	if err != nil {
		return writeError(fmt.Sprintf("create user %q", u.Username), err)
	}
	return nil
}

// GetUser returns the user with the given id.
func (s *Store) GetUser(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return store.User{}, readError(fmt.Sprintf("user %d", id), err)
	}
	return u, nil
}

// GetUserByName returns the user with the given name.
func (s *Store) GetUserByName(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if err != nil {
		return store.User{}, readError(fmt.Sprintf("user %q", username), err)
	}
	return u, nil
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	return query(ctx, s.pool, scanUser, "list users", `SELECT `+userColumns+` FROM users ORDER BY username`)
}

// UpdateUser changes the password hash and role of the user u.ID.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	what := fmt.Sprintf("update user %d", u.ID)
	tag, err := s.pool.Exec(ctx,
		`UPDATE users SET password_hash = $1, role = $2 WHERE id = $3`, u.PasswordHash, u.Role, u.ID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}

// DeleteUser removes the user with its sessions, API keys and
// memberships; the versions it deployed stay, with no author.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete user %d", id)
	tag, err := s.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}

// CountAdmins returns the number of users with the admin role.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = $1`, store.RoleAdmin).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: unable to count admins: %w", err)
	}
	return n, nil
}
