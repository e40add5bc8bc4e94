package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const userColumns = "id, username, password_hash, role, created_at"

func scanUser(row scanner) (store.User, error) {
	var (
		u       store.User
		created int64
	)
	if err := row.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, &created); err != nil {
		return store.User{}, err
	}
	u.CreatedAt = fromUnixNano(created)
	return u, nil
}

// CreateUser stores u, setting its ID and, when zero, its CreatedAt.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	u.CreatedAt = u.CreatedAt.UTC()
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		u.Username, u.PasswordHash, u.Role, unixNano(u.CreatedAt),
	).Scan(&u.ID)
	if err != nil {
		return writeError(fmt.Sprintf("create user %q", u.Username), err)
	}
	return nil
}

// GetUser returns the user with the given id.
func (s *Store) GetUser(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return store.User{}, readError(fmt.Sprintf("user %d", id), err)
	}
	return u, nil
}

// GetUserByName returns the user with the given name.
func (s *Store) GetUserByName(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if err != nil {
		return store.User{}, readError(fmt.Sprintf("user %q", username), err)
	}
	return u, nil
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list users: %w", err)
	}
	return collect(rows, scanUser, "list users")
}

// UpdateUser changes the password hash and role of the user u.ID.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	what := fmt.Sprintf("update user %d", u.ID)
	res, err := s.db.ExecContext(ctx,
		`UPDATE users SET password_hash = ?, role = ? WHERE id = ?`, u.PasswordHash, u.Role, u.ID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(res, what)
}

// DeleteUser removes the user with its sessions, API keys and
// memberships; the versions it deployed stay, with no author.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete user %d", id)
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(res, what)
}

// CountAdmins returns the number of users with the admin role.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = ?`, store.RoleAdmin).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: unable to count admins: %w", err)
	}
	return n, nil
}

// collect scans every row with scan and closes rows; the result is never
// nil.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error), what string) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: unable to %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return out, nil
}
