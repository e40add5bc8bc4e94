package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const scriptColumns = "s.id, s.app_id, a.slug, s.name, s.live_version, s.max_attempts, s.private, s.created_at, s.updated_at"

func scanScript(row scanner) (store.Script, error) {
	var (
		sc               store.Script
		created, updated int64
	)
	if err := row.Scan(&sc.ID, &sc.AppID, &sc.AppSlug, &sc.Name, &sc.LiveVersion, &sc.MaxAttempts, &sc.Private, &created, &updated); err != nil {
		return store.Script{}, err
	}
	sc.CreatedAt = fromUnixNano(created)
	sc.UpdatedAt = fromUnixNano(updated)
	return sc, nil
}

// DeployScript stores source as the next version of the script name of
// app appID, creating the script on its first deploy, and makes it live.
// Deploys to one script are serialised by the write transaction, so each
// gets its own version number. A new script is public.
func (s *Store) DeployScript(ctx context.Context, appID int64, name, source string, userID int64) (store.Script, store.Version, error) {
	return s.DeployScriptAs(ctx, store.Deploy{AppID: appID, Name: name, Source: source, UserID: userID})
}

// DeployScriptAs is DeployScript that also sets the script's visibility
// (store.Deploy says how).
func (s *Store) DeployScriptAs(ctx context.Context, d store.Deploy) (store.Script, store.Version, error) {
	appID, name, source, userID := d.AppID, d.Name, d.Source, d.UserID
	what := fmt.Sprintf("deploy script %q of app %d", name, appID)
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see dsn
	if err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	defer tx.Rollback()

	at := now()
	sc := store.Script{AppID: appID, Name: name, UpdatedAt: at}
	err = tx.QueryRowContext(ctx, `SELECT slug FROM apps WHERE id = ?`, appID).Scan(&sc.AppSlug)
	if err != nil {
		return store.Script{}, store.Version{}, readError(fmt.Sprintf("app %d", appID), err)
	}
	var created int64
	private := d.NewPrivate
	if d.Private != nil {
		private = *d.Private
	}
	err = tx.QueryRowContext(ctx,
		`INSERT INTO scripts (app_id, name, live_version, private, created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?)
		ON CONFLICT (app_id, name) DO UPDATE SET updated_at = excluded.updated_at,
			private = CASE WHEN ? THEN excluded.private ELSE scripts.private END
		RETURNING id, created_at, max_attempts, private`,
		appID, name, private, unixNano(at), unixNano(at), d.Private != nil,
	).Scan(&sc.ID, &created, &sc.MaxAttempts, &sc.Private)
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	sc.CreatedAt = fromUnixNano(created)

	v := store.Version{ScriptID: sc.ID, Source: source, CreatedBy: userID, CreatedAt: at}
	err = tx.QueryRowContext(ctx,
		`SELECT coalesce(max(version), 0) + 1 FROM versions WHERE script_id = ?`, sc.ID).Scan(&v.Version)
	if err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO versions (script_id, version, source, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
		v.ScriptID, v.Version, v.Source, nullID(v.CreatedBy), unixNano(v.CreatedAt))
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE scripts SET live_version = ? WHERE id = ?`, v.Version, sc.ID)
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	if err := tx.Commit(); err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	sc.LiveVersion = v.Version
	return sc, v, nil
}

// GetScript returns the script name of app appID.
func (s *Store) GetScript(ctx context.Context, appID int64, name string) (store.Script, error) {
	sc, err := scanScript(s.read.QueryRowContext(ctx,
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id
		WHERE s.app_id = ? AND s.name = ?`, appID, name))
	if err != nil {
		return store.Script{}, readError(fmt.Sprintf("script %q of app %d", name, appID), err)
	}
	return sc, nil
}

// ListScripts returns the scripts of an app, by name.
func (s *Store) ListScripts(ctx context.Context, appID int64) ([]store.Script, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id
		WHERE s.app_id = ? ORDER BY s.name`, appID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list the scripts of app %d: %w", appID, err)
	}
	return collect(rows, scanScript, fmt.Sprintf("list the scripts of app %d", appID))
}

// ListScriptsForUser returns the scripts of every app the user may see, all
// of them for an admin, by app slug and name.
func (s *Store) ListScriptsForUser(ctx context.Context, userID int64, admin bool) ([]store.Script, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id
		WHERE ? OR EXISTS (SELECT 1 FROM members m WHERE m.app_id = s.app_id AND m.user_id = ?)
		ORDER BY a.slug, s.name`, admin, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list the scripts of user %d: %w", userID, err)
	}
	return collect(rows, scanScript, fmt.Sprintf("list the scripts of user %d", userID))
}

// ListVersions returns the versions of a script, oldest first, without
// their source.
func (s *Store) ListVersions(ctx context.Context, scriptID int64) ([]store.Version, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT script_id, version, '', created_by, created_at, rolled_back_from FROM versions
		WHERE script_id = ? ORDER BY version`, scriptID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list the versions of script %d: %w", scriptID, err)
	}
	return collect(rows, scanVersion, fmt.Sprintf("list the versions of script %d", scriptID))
}

func scanVersion(row scanner) (store.Version, error) {
	var (
		v       store.Version
		by      sql.NullInt64
		created int64
		from    sql.NullInt64
	)
	if err := row.Scan(&v.ScriptID, &v.Version, &v.Source, &by, &created, &from); err != nil {
		return store.Version{}, err
	}
	v.CreatedBy = by.Int64
	v.RolledBackFrom = int(from.Int64)
	v.CreatedAt = fromUnixNano(created)
	return v, nil
}

// GetVersion returns one version of a script with its source.
func (s *Store) GetVersion(ctx context.Context, scriptID int64, version int) (store.Version, error) {
	v, err := scanVersion(s.read.QueryRowContext(ctx,
		`SELECT script_id, version, source, created_by, created_at, rolled_back_from FROM versions
		WHERE script_id = ? AND version = ?`, scriptID, version))
	if err != nil {
		return store.Version{}, readError(fmt.Sprintf("version %d of script %d", version, scriptID), err)
	}
	return v, nil
}

// DeleteScript removes a script with its versions. Its invocation logs
// stay until they are pruned.
func (s *Store) DeleteScript(ctx context.Context, scriptID int64) error {
	what := fmt.Sprintf("delete script %d", scriptID)
	res, err := s.db.ExecContext(ctx, `DELETE FROM scripts WHERE id = ?`, scriptID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(res, what)
}

// GetLiveScript returns the app, the script and its live version, with
// source, in one query: what the data plane needs to run it.
func (s *Store) GetLiveScript(ctx context.Context, appSlug, name string) (store.LiveScript, error) {
	var (
		ls                           store.LiveScript
		limits, outbound             string
		appCreated, created, updated int64
		by                           sql.NullInt64
		versionCreated               int64
	)
	err := s.read.QueryRowContext(ctx,
		`SELECT a.id, a.slug, a.name, a.description, a.limits, a.created_at,
			s.id, s.name, s.live_version, s.max_attempts, s.private, s.created_at, s.updated_at,
			v.version, v.source, v.created_by, v.created_at, a.outbound
		FROM apps a
		JOIN scripts s ON s.app_id = a.id
		JOIN versions v ON v.script_id = s.id AND v.version = s.live_version
		WHERE a.slug = ? AND s.name = ?`, appSlug, name,
	).Scan(&ls.App.ID, &ls.App.Slug, &ls.App.Name, &ls.App.Description, &limits, &appCreated,
		&ls.Script.ID, &ls.Script.Name, &ls.Script.LiveVersion, &ls.Script.MaxAttempts, &ls.Script.Private, &created, &updated,
		&ls.Version.Version, &ls.Version.Source, &by, &versionCreated, &outbound)
	if err != nil {
		return store.LiveScript{}, readError(fmt.Sprintf("live script %s/%s", appSlug, name), err)
	}
	if ls.App.Limits, err = decodeLimits(limits); err != nil {
		return store.LiveScript{}, fmt.Errorf("sqlite: unable to get live script %s/%s: %w", appSlug, name, err)
	}
	if ls.App.Outbound, err = decodeOutbound(outbound); err != nil {
		return store.LiveScript{}, fmt.Errorf("sqlite: unable to get live script %s/%s: %w", appSlug, name, err)
	}
	ls.App.CreatedAt = fromUnixNano(appCreated)
	ls.Script.AppID = ls.App.ID
	ls.Script.AppSlug = ls.App.Slug
	ls.Script.CreatedAt = fromUnixNano(created)
	ls.Script.UpdatedAt = fromUnixNano(updated)
	ls.Version.ScriptID = ls.Script.ID
	ls.Version.CreatedBy = by.Int64
	ls.Version.CreatedAt = fromUnixNano(versionCreated)
	return ls, nil
}

// SetScriptMaxAttempts sets how many attempts the script's jobs get; 0
// restores the default.
func (s *Store) SetScriptMaxAttempts(ctx context.Context, scriptID int64, n int) error {
	what := fmt.Sprintf("set the max attempts of script %d", scriptID)
	res, err := s.db.ExecContext(ctx, `UPDATE scripts SET max_attempts = ? WHERE id = ?`, n, scriptID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(res, what)
}
