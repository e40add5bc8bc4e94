package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

// The limits and outbound columns hold store.AppLimits and
// store.AppOutbound as JSON (text in SQLite, jsonb in PostgreSQL), so that
// a new limit needs no migration.
const appColumns = "a.id, a.slug, a.name, a.description, a.limits, a.created_at, a.outbound"

func scanApp(row scanner) (store.App, error) {
	var (
		a                store.App
		limits, outbound []byte
	)
	if err := row.Scan(&a.ID, &a.Slug, &a.Name, &a.Description, &limits, tm(&a.CreatedAt), &outbound); err != nil {
		return store.App{}, err
	}
	if err := json.Unmarshal(limits, &a.Limits); err != nil {
		return store.App{}, fmt.Errorf("app %q: limits: %w", a.Slug, err)
	}
	if err := json.Unmarshal(outbound, &a.Outbound); err != nil {
		return store.App{}, fmt.Errorf("app %q: outbound: %w", a.Slug, err)
	}
	return a, nil
}

// encodeAppJSON encodes the limits and outbound columns of a.
func encodeAppJSON(a *store.App) (limits, outbound string, err error) {
	l, err := json.Marshal(a.Limits)
	if err != nil {
		return "", "", fmt.Errorf("limits: %w", err)
	}
	o, err := json.Marshal(a.Outbound)
	if err != nil {
		return "", "", fmt.Errorf("outbound: %w", err)
	}
	return string(l), string(o), nil
}

// CreateApp stores a, setting its ID and, when zero, its CreatedAt.
func (s *Store) CreateApp(ctx context.Context, a *store.App) error {
	what := fmt.Sprintf("create app %q", a.Slug)
	limits, outbound, err := encodeAppJSON(a)
	if err != nil {
		return s.fail(what, err)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	a.CreatedAt = s.d.ts(a.CreatedAt)
	err = s.writeRow(ctx,
		`INSERT INTO apps (slug, name, description, limits, created_at, outbound) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Slug, a.Name, a.Description, limits, s.d.t(a.CreatedAt), outbound,
	).Scan(&a.ID)
	if err != nil {
		return s.writeError(what, err)
	}
	return nil
}

// GetApp returns the app with the given slug.
func (s *Store) GetApp(ctx context.Context, slug string) (store.App, error) {
	a, err := scanApp(s.readRow(ctx, `SELECT `+appColumns+` FROM apps a WHERE a.slug = ?`, slug))
	if err != nil {
		return store.App{}, s.readError(fmt.Sprintf("app %q", slug), err)
	}
	return a, nil
}

// UpdateApp changes the name, description, limits and outbound policy of
// the app a.ID.
func (s *Store) UpdateApp(ctx context.Context, a store.App) error {
	what := fmt.Sprintf("update app %d", a.ID)
	limits, outbound, err := encodeAppJSON(&a)
	if err != nil {
		return s.fail(what, err)
	}
	res, err := s.exec(ctx,
		`UPDATE apps SET name = ?, description = ?, limits = ?, outbound = ? WHERE id = ?`,
		a.Name, a.Description, limits, outbound, a.ID)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}

// ListApps returns every app, by slug.
func (s *Store) ListApps(ctx context.Context) ([]store.App, error) {
	return list(ctx, s, s.read, scanApp, "list apps", `SELECT `+appColumns+` FROM apps a ORDER BY a.slug`)
}

// ListAppsForUser returns the apps the user is a member of, by slug.
func (s *Store) ListAppsForUser(ctx context.Context, userID int64) ([]store.App, error) {
	return list(ctx, s, s.read, scanApp, fmt.Sprintf("list the apps of user %d", userID),
		`SELECT `+appColumns+` FROM apps a JOIN members m ON m.app_id = a.id
		WHERE m.user_id = ? ORDER BY a.slug`, userID)
}

// DeleteApp removes the app with its members, scripts, versions,
// schedules, jobs, invocation logs, secrets and key-value store: the
// foreign keys cascade. A run that logs for the app at the same time
// holds the app's row, so the delete waits for its record and takes it
// too, or the record arrives after and is dropped: nothing is left
// behind.
//
// In SQLite writes take turns, so the one statement is enough. In
// PostgreSQL the cascade would lock the app's row and then its usage rows,
// the reverse of the writes that lock a usage row first: a key-value write
// locks the app's kv_usage row before its insert holds the app's row (FOR
// KEY SHARE), and the pruning of logs locks the recording_usage rows
// before it deletes the records the cascade deletes. The delete takes its
// locks in an order that fits both, kv_usage, the app, recording_usage,
// before it deletes anything, so that it never deadlocks with them. It
// creates the app's kv_usage row when there is none, to lock it: else the
// first key-value write could create it between the delete's two locks,
// and the next one lock it and wait for the app's row.
func (s *Store) DeleteApp(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete app %d", id)
	return s.inTx(ctx, func(tx *Store) error {
		if s.d.postgres {
			for _, lock := range []string{
				`INSERT INTO kv_usage (app_id, keys, bytes) SELECT id, 0, 0 FROM apps WHERE id = ?
				ON CONFLICT (app_id) DO UPDATE SET keys = kv_usage.keys`,
				`SELECT id FROM apps WHERE id = ? FOR UPDATE`,
				`SELECT app_id FROM recording_usage WHERE app_id = ? FOR UPDATE`,
			} {
				if _, err := tx.exec(ctx, lock, id); err != nil {
					return tx.writeError(what, err)
				}
			}
		}
		res, err := tx.exec(ctx, `DELETE FROM apps WHERE id = ?`, id)
		if err != nil {
			return tx.writeError(what, err)
		}
		return tx.mustAffect(res, what)
	})
}
