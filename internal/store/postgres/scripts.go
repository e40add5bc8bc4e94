package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/picloud/picloud/internal/store"
)

const scriptColumns = "s.id, s.app_id, a.slug, s.name, s.live_version, s.max_attempts, s.private, s.created_at, s.updated_at"

func scanScript(row scanner) (store.Script, error) {
	var sc store.Script
	if err := row.Scan(&sc.ID, &sc.AppID, &sc.AppSlug, &sc.Name, &sc.LiveVersion, &sc.MaxAttempts, &sc.Private, &sc.CreatedAt, &sc.UpdatedAt); err != nil {
		return store.Script{}, err
	}
	sc.CreatedAt = sc.CreatedAt.UTC()
	sc.UpdatedAt = sc.UpdatedAt.UTC()
	return sc, nil
}

// DeployScript stores source as the next version of the script name of
// app appID, creating the script on its first deploy, and makes it live.
// The upsert of the script's row locks it until the transaction ends, so
// deploys to one script queue there and each numbers its version after
// the previous one committed; UpdatedAt never goes back, even for a deploy
// that stamped its time before it waited. The app's row is held (FOR KEY SHARE) so
// that the app cannot be deleted halfway. A new script is public.
func (s *Store) DeployScript(ctx context.Context, appID int64, name, source string, userID int64) (store.Script, store.Version, error) {
	return s.DeployScriptAs(ctx, store.Deploy{AppID: appID, Name: name, Source: source, UserID: userID})
}

// DeployScriptAs is DeployScript that also sets the script's visibility
// (store.Deploy says how).
func (s *Store) DeployScriptAs(ctx context.Context, d store.Deploy) (store.Script, store.Version, error) {
	appID, name, source, userID := d.AppID, d.Name, d.Source, d.UserID
	what := fmt.Sprintf("deploy script %q of app %d", name, appID)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	defer tx.Rollback(ctx)

	at := now()
	sc := store.Script{AppID: appID, Name: name}
	err = tx.QueryRow(ctx, `SELECT slug FROM apps WHERE id = $1 FOR KEY SHARE`, appID).Scan(&sc.AppSlug)
	if err != nil {
		return store.Script{}, store.Version{}, readError(fmt.Sprintf("app %d", appID), err)
	}
	private := d.NewPrivate
	if d.Private != nil {
		private = *d.Private
	}
	err = tx.QueryRow(ctx,
		`INSERT INTO scripts (app_id, name, live_version, private, created_at, updated_at) VALUES ($1, $2, 0, $3, $4, $4)
		ON CONFLICT (app_id, name) DO UPDATE SET updated_at = greatest(scripts.updated_at, excluded.updated_at),
			private = CASE WHEN $5 THEN excluded.private ELSE scripts.private END
		RETURNING id, created_at, updated_at, max_attempts, private`,
		appID, name, private, at, d.Private != nil,
	).Scan(&sc.ID, &sc.CreatedAt, &sc.UpdatedAt, &sc.MaxAttempts, &sc.Private)
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	sc.CreatedAt = sc.CreatedAt.UTC()
	sc.UpdatedAt = sc.UpdatedAt.UTC()

	// Read committed: this statement sees the versions of the deploys that
	// held the row before.
	v := store.Version{ScriptID: sc.ID, Source: source, CreatedBy: userID, CreatedAt: at}
	err = tx.QueryRow(ctx,
		`SELECT coalesce(max(version), 0) + 1 FROM versions WHERE script_id = $1`, sc.ID).Scan(&v.Version)
	if err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO versions (script_id, version, source, created_by, created_at) VALUES ($1, $2, $3, $4, $5)`,
		v.ScriptID, v.Version, v.Source, nullID(v.CreatedBy), v.CreatedAt)
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	_, err = tx.Exec(ctx, `UPDATE scripts SET live_version = $1 WHERE id = $2`, v.Version, sc.ID)
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	sc.LiveVersion = v.Version
	return sc, v, nil
}

// GetScript returns the script name of app appID.
func (s *Store) GetScript(ctx context.Context, appID int64, name string) (store.Script, error) {
	sc, err := scanScript(s.pool.QueryRow(ctx,
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id
		WHERE s.app_id = $1 AND s.name = $2`, appID, name))
	if err != nil {
		return store.Script{}, readError(fmt.Sprintf("script %q of app %d", name, appID), err)
	}
	return sc, nil
}

// ListScripts returns the scripts of an app, by name.
func (s *Store) ListScripts(ctx context.Context, appID int64) ([]store.Script, error) {
	return query(ctx, s.pool, scanScript, fmt.Sprintf("list the scripts of app %d", appID),
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id
		WHERE s.app_id = $1 ORDER BY s.name`, appID)
}

// ListScriptsForUser returns the scripts of every app the user may see, all
// of them for an admin, by app slug and name.
func (s *Store) ListScriptsForUser(ctx context.Context, userID int64, admin bool) ([]store.Script, error) {
	return query(ctx, s.pool, scanScript, fmt.Sprintf("list the scripts of user %d", userID),
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id
		WHERE $1::boolean OR EXISTS (SELECT 1 FROM members m WHERE m.app_id = s.app_id AND m.user_id = $2)
		ORDER BY a.slug, s.name`, admin, userID)
}

func scanVersion(row scanner) (store.Version, error) {
	var (
		v    store.Version
		by   pgtype.Int8
		from pgtype.Int4
	)
	if err := row.Scan(&v.ScriptID, &v.Version, &v.Source, &by, &v.CreatedAt, &from); err != nil {
		return store.Version{}, err
	}
	v.CreatedBy = by.Int64
	v.RolledBackFrom = int(from.Int32)
	v.CreatedAt = v.CreatedAt.UTC()
	return v, nil
}

// ListVersions returns the versions of a script, oldest first, without
// their source.
func (s *Store) ListVersions(ctx context.Context, scriptID int64) ([]store.Version, error) {
	return query(ctx, s.pool, scanVersion, fmt.Sprintf("list the versions of script %d", scriptID),
		`SELECT script_id, version, '', created_by, created_at, rolled_back_from FROM versions
		WHERE script_id = $1 ORDER BY version`, scriptID)
}

// GetVersion returns one version of a script with its source.
func (s *Store) GetVersion(ctx context.Context, scriptID int64, version int) (store.Version, error) {
	v, err := scanVersion(s.pool.QueryRow(ctx,
		`SELECT script_id, version, source, created_by, created_at, rolled_back_from FROM versions
		WHERE script_id = $1 AND version = $2`, scriptID, version))
	if err != nil {
		return store.Version{}, readError(fmt.Sprintf("version %d of script %d", version, scriptID), err)
	}
	return v, nil
}

// DeleteScript removes a script with its versions and schedules. Its
// invocation logs and jobs stay.
func (s *Store) DeleteScript(ctx context.Context, scriptID int64) error {
	what := fmt.Sprintf("delete script %d", scriptID)
	tag, err := s.pool.Exec(ctx, `DELETE FROM scripts WHERE id = $1`, scriptID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}

// GetLiveScript returns the app, the script and its live version, with
// source, in one query: what the data plane needs to run it.
func (s *Store) GetLiveScript(ctx context.Context, appSlug, name string) (store.LiveScript, error) {
	var (
		ls store.LiveScript
		by pgtype.Int8
	)
	err := s.pool.QueryRow(ctx,
		`SELECT a.id, a.slug, a.name, a.description, a.limits, a.created_at,
			s.id, s.name, s.live_version, s.max_attempts, s.private, s.created_at, s.updated_at,
			v.version, v.source, v.created_by, v.created_at, a.outbound
		FROM apps a
		JOIN scripts s ON s.app_id = a.id
		JOIN versions v ON v.script_id = s.id AND v.version = s.live_version
		WHERE a.slug = $1 AND s.name = $2`, appSlug, name,
	).Scan(&ls.App.ID, &ls.App.Slug, &ls.App.Name, &ls.App.Description, &ls.App.Limits, &ls.App.CreatedAt,
		&ls.Script.ID, &ls.Script.Name, &ls.Script.LiveVersion, &ls.Script.MaxAttempts, &ls.Script.Private, &ls.Script.CreatedAt, &ls.Script.UpdatedAt,
		&ls.Version.Version, &ls.Version.Source, &by, &ls.Version.CreatedAt, &ls.App.Outbound)
	if err != nil {
		return store.LiveScript{}, readError(fmt.Sprintf("live script %s/%s", appSlug, name), err)
	}
	ls.App.CreatedAt = ls.App.CreatedAt.UTC()
	ls.Script.AppID = ls.App.ID
	ls.Script.AppSlug = ls.App.Slug
	ls.Script.CreatedAt = ls.Script.CreatedAt.UTC()
	ls.Script.UpdatedAt = ls.Script.UpdatedAt.UTC()
	ls.Version.ScriptID = ls.Script.ID
	ls.Version.CreatedBy = by.Int64
	ls.Version.CreatedAt = ls.Version.CreatedAt.UTC()
	return ls, nil
}

// SetScriptMaxAttempts sets how many attempts the script's jobs get; 0
// restores the default.
func (s *Store) SetScriptMaxAttempts(ctx context.Context, scriptID int64, n int) error {
	what := fmt.Sprintf("set the max attempts of script %d", scriptID)
	tag, err := s.pool.Exec(ctx, `UPDATE scripts SET max_attempts = $1 WHERE id = $2`, n, scriptID)
	if err != nil {
		return writeError(what, err)
	}
	return mustAffect(tag, what)
}
