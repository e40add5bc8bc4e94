package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const appColumns = "a.id, a.slug, a.name, a.description, a.limits, a.created_at, a.outbound"

func scanApp(row scanner) (store.App, error) {
	var (
		a        store.App
		limits   string
		created  int64
		outbound string
	)
	if err := row.Scan(&a.ID, &a.Slug, &a.Name, &a.Description, &limits, &created, &outbound); err != nil {
		return store.App{}, err
	}
	var err error
	if a.Limits, err = decodeLimits(limits); err != nil {
		return store.App{}, fmt.Errorf("app %q: %w", a.Slug, err)
	}
	if a.Outbound, err = decodeOutbound(outbound); err != nil {
		return store.App{}, fmt.Errorf("app %q: %w", a.Slug, err)
	}
	a.CreatedAt = fromUnixNano(created)
	return a, nil
}

// encodeLimits encodes the limits column: JSON, so that a new limit needs
// no migration.
func encodeLimits(l store.AppLimits) (string, error) {
	b, err := json.Marshal(l)
	if err != nil {
		return "", fmt.Errorf("limits: %w", err)
	}
	return string(b), nil
}

func decodeLimits(text string) (store.AppLimits, error) {
	var l store.AppLimits
	if err := json.Unmarshal([]byte(text), &l); err != nil {
		return store.AppLimits{}, fmt.Errorf("limits: %w", err)
	}
	return l, nil
}

// encodeOutbound encodes the outbound column, JSON like limits.
func encodeOutbound(o store.AppOutbound) (string, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("outbound: %w", err)
	}
	return string(b), nil
}

func decodeOutbound(text string) (store.AppOutbound, error) {
	var o store.AppOutbound
	if err := json.Unmarshal([]byte(text), &o); err != nil {
		return store.AppOutbound{}, fmt.Errorf("outbound: %w", err)
	}
	return o, nil
}

// CreateApp stores a, setting its ID and, when zero, its CreatedAt.
func (s *Store) CreateApp(ctx context.Context, a *store.App) error {
	what := fmt.Sprintf("create app %q", a.Slug)
	limits, err := encodeLimits(a.Limits)
	if err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	outbound, err := encodeOutbound(a.Outbound)
	if err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now()
	}
	a.CreatedAt = a.CreatedAt.UTC()
	err = s.db.QueryRowContext(ctx,
		`INSERT INTO apps (slug, name, description, limits, created_at, outbound) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Slug, a.Name, a.Description, limits, unixNano(a.CreatedAt), outbound,
	).Scan(&a.ID)
	if err != nil {
		return writeError(what, err)
	}
	return nil
}

// GetApp returns the app with the given slug.
func (s *Store) GetApp(ctx context.Context, slug string) (store.App, error) {
	a, err := scanApp(s.read.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps a WHERE a.slug = ?`, slug))
	if err != nil {
		return store.App{}, readError(fmt.Sprintf("app %q", slug), err)
	}
	return a, nil
}

// UpdateApp changes the name, description, limits and outbound policy of
// the app a.ID.
func (s *Store) UpdateApp(ctx context.Context, a store.App) error {
	what := fmt.Sprintf("update app %d", a.ID)
	limits, err := encodeLimits(a.Limits)
	if err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	outbound, err := encodeOutbound(a.Outbound)
	if err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	res, err := s.db.ExecContext(ctx,
		`UPDATE apps SET name = ?, description = ?, limits = ?, outbound = ? WHERE id = ?`,
		a.Name, a.Description, limits, outbound, a.ID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(res, what)
}

// ListApps returns every app, by slug.
func (s *Store) ListApps(ctx context.Context) ([]store.App, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+appColumns+` FROM apps a ORDER BY a.slug`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list apps: %w", err)
	}
	return collect(rows, scanApp, "list apps")
}

// ListAppsForUser returns the apps the user is a member of, by slug.
func (s *Store) ListAppsForUser(ctx context.Context, userID int64) ([]store.App, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+appColumns+` FROM apps a JOIN members m ON m.app_id = a.id
		WHERE m.user_id = ? ORDER BY a.slug`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list the apps of user %d: %w", userID, err)
	}
	return collect(rows, scanApp, fmt.Sprintf("list the apps of user %d", userID))
}

// DeleteApp removes the app with its members, scripts, versions and
// invocation logs.
func (s *Store) DeleteApp(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete app %d", id)
	res, err := s.db.ExecContext(ctx, `DELETE FROM apps WHERE id = ?`, id)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(res, what)
}
