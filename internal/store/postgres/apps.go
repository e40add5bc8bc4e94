package postgres

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

// The limits and outbound columns are jsonb, encoded from and decoded into
// store.AppLimits and store.AppOutbound by pgx with encoding/json, so that a new limit needs no
// migration.
const appColumns = "a.id, a.slug, a.name, a.description, a.limits, a.created_at, a.outbound"

func scanApp(row scanner) (store.App, error) {
	var a store.App
	if err := row.Scan(&a.ID, &a.Slug, &a.Name, &a.Description, &a.Limits, &a.CreatedAt, &a.Outbound); err != nil {
		return store.App{}, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return a, nil
}

// CreateApp stores a, setting its ID and, when zero, its CreatedAt.
func (s *Store) CreateApp(ctx context.Context, a *store.App) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now()
	}
	a.CreatedAt = ts(a.CreatedAt)
	err := s.pool.QueryRow(ctx,
		`INSERT INTO apps (slug, name, description, limits, created_at, outbound) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		a.Slug, a.Name, a.Description, a.Limits, a.CreatedAt, a.Outbound,
	).Scan(&a.ID)
	if err != nil {
		return writeError(fmt.Sprintf("create app %q", a.Slug), err)
	}
	return nil
}

// GetApp returns the app with the given slug.
func (s *Store) GetApp(ctx context.Context, slug string) (store.App, error) {
	a, err := scanApp(s.pool.QueryRow(ctx, `SELECT `+appColumns+` FROM apps a WHERE a.slug = $1`, slug))
	if err != nil {
		return store.App{}, readError(fmt.Sprintf("app %q", slug), err)
	}
	return a, nil
}

// UpdateApp changes the name, description, limits and outbound policy of
// the app a.ID.
func (s *Store) UpdateApp(ctx context.Context, a store.App) error {
	what := fmt.Sprintf("update app %d", a.ID)
	tag, err := s.pool.Exec(ctx,
		`UPDATE apps SET name = $1, description = $2, limits = $3, outbound = $4 WHERE id = $5`,
		a.Name, a.Description, a.Limits, a.Outbound, a.ID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}

// ListApps returns every app, by slug.
func (s *Store) ListApps(ctx context.Context) ([]store.App, error) {
	return query(ctx, s.pool, scanApp, "list apps", `SELECT `+appColumns+` FROM apps a ORDER BY a.slug`)
}

// ListAppsForUser returns the apps the user is a member of, by slug.
func (s *Store) ListAppsForUser(ctx context.Context, userID int64) ([]store.App, error) {
	return query(ctx, s.pool, scanApp, fmt.Sprintf("list the apps of user %d", userID),
		`SELECT `+appColumns+` FROM apps a JOIN members m ON m.app_id = a.id
		WHERE m.user_id = $1 ORDER BY a.slug`, userID)
}

// DeleteApp removes the app with its members, scripts, versions,
// schedules, jobs and invocation logs. A run that logs for the app at the
// same time holds the app's row, so the delete waits for its record and
// takes it too, or the record arrives after and is dropped: nothing is
// left behind.
func (s *Store) DeleteApp(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete app %d", id)
	tag, err := s.pool.Exec(ctx, `DELETE FROM apps WHERE id = $1`, id)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}
