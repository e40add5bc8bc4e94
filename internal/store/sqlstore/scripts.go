package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const scriptColumns = "s.id, s.app_id, a.slug, s.name, s.live_version, s.max_attempts, s.private, s.created_at, s.updated_at"

func scanScript(row scanner) (store.Script, error) {
	var sc store.Script
	err := row.Scan(&sc.ID, &sc.AppID, &sc.AppSlug, &sc.Name, &sc.LiveVersion, &sc.MaxAttempts, &sc.Private,
		tm(&sc.CreatedAt), tm(&sc.UpdatedAt))
	if err != nil {
		return store.Script{}, err
	}
	return sc, nil
}

// DeployScript stores source as the next version of the script name of
// app appID, creating the script on its first deploy, and makes it live.
// A new script is public.
//
// Deploys to one script queue on its row and each numbers its version
// after the previous one committed: in SQLite the write transaction holds
// the database; in PostgreSQL the upsert of the script's row locks it
// until the transaction ends, and the app's row is held (FOR KEY SHARE)
// so that the app cannot be deleted halfway. UpdatedAt never goes back,
// even for a deploy that stamped its time before it waited.
func (s *Store) DeployScript(ctx context.Context, appID int64, name, source string, userID int64) (store.Script, store.Version, error) {
	return s.DeployScriptAs(ctx, store.Deploy{AppID: appID, Name: name, Source: source, UserID: userID})
}

// DeployScriptAs is DeployScript that also sets the script's visibility
// (store.Deploy says how).
func (s *Store) DeployScriptAs(ctx context.Context, d store.Deploy) (sc store.Script, v store.Version, err error) {
	what := fmt.Sprintf("deploy script %q of app %d", d.Name, d.AppID)
	private := d.NewPrivate
	if d.Private != nil {
		private = *d.Private
	}
	err = s.inTx(ctx, func(tx *Store) error {
		at := tx.now()
		sc = store.Script{AppID: d.AppID, Name: d.Name}
		err := tx.readRow(ctx, `SELECT slug FROM apps WHERE id = ?`+tx.d.pick("", " FOR KEY SHARE"), d.AppID).Scan(&sc.AppSlug)
		if err != nil {
			return tx.readError(fmt.Sprintf("app %d", d.AppID), err)
		}
		err = tx.writeRow(ctx,
			`INSERT INTO scripts (app_id, name, live_version, private, created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?)
			ON CONFLICT (app_id, name) DO UPDATE SET
				updated_at = `+tx.d.pick("max", "greatest")+`(scripts.updated_at, excluded.updated_at),
				private = CASE WHEN ? THEN excluded.private ELSE scripts.private END
			RETURNING id, created_at, updated_at, max_attempts, private`,
			d.AppID, d.Name, private, tx.d.t(at), tx.d.t(at), d.Private != nil,
		).Scan(&sc.ID, tm(&sc.CreatedAt), tm(&sc.UpdatedAt), &sc.MaxAttempts, &sc.Private)
		if err != nil {
			return tx.writeError(what, err)
		}
		v = store.Version{ScriptID: sc.ID, Source: d.Source, CreatedBy: d.UserID, CreatedAt: at}
		if err := tx.nextVersion(ctx, &v, what); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE scripts SET live_version = ? WHERE id = ?`, v.Version, sc.ID); err != nil {
			return tx.writeError(what, err)
		}
		sc.LiveVersion = v.Version
		return nil
	})
	if err != nil {
		return store.Script{}, store.Version{}, err
	}
	return sc, v, nil
}

// nextVersion stores v as the script's version after its last one, in
// one statement, setting v.Version. The caller holds the script: the
// write transaction in SQLite, the script's row lock in PostgreSQL, where
// (read committed) the statement sees the versions of the deploys that
// held the row before.
func (s *Store) nextVersion(ctx context.Context, v *store.Version, what string) error {
	err := s.writeRow(ctx,
		`INSERT INTO versions (script_id, version, source, created_by, created_at, rolled_back_from)
		SELECT ?, coalesce(max(version), 0) + 1, ?, ?, ?, ? FROM versions WHERE script_id = ?
		RETURNING version`,
		v.ScriptID, v.Source, nullID(v.CreatedBy), s.d.t(v.CreatedAt), nullID(int64(v.RolledBackFrom)), v.ScriptID,
	).Scan(&v.Version)
	if err != nil {
		return s.writeError(what, err)
	}
	return nil
}

// GetScript returns the script name of app appID.
func (s *Store) GetScript(ctx context.Context, appID int64, name string) (store.Script, error) {
	sc, err := scanScript(s.readRow(ctx,
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id
		WHERE s.app_id = ? AND s.name = ?`, appID, name))
	if err != nil {
		return store.Script{}, s.readError(fmt.Sprintf("script %q of app %d", name, appID), err)
	}
	return sc, nil
}

// ListScripts returns the scripts of an app, by name.
func (s *Store) ListScripts(ctx context.Context, appID int64) ([]store.Script, error) {
	return list(ctx, s, s.read, scanScript, fmt.Sprintf("list the scripts of app %d", appID),
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id
		WHERE s.app_id = ? ORDER BY s.name`, appID)
}

// ListScriptsForUser returns the scripts of every app the user may see, all
// of them for an admin, by app slug and name.
func (s *Store) ListScriptsForUser(ctx context.Context, userID int64, admin bool) ([]store.Script, error) {
	return list(ctx, s, s.read, scanScript, fmt.Sprintf("list the scripts of user %d", userID),
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id
		WHERE `+s.d.pick("?", "?::boolean")+` OR EXISTS (SELECT 1 FROM members m WHERE m.app_id = s.app_id AND m.user_id = ?)
		ORDER BY a.slug, s.name`, admin, userID)
}

func scanVersion(row scanner) (store.Version, error) {
	var (
		v        store.Version
		by, from sql.NullInt64
	)
	if err := row.Scan(&v.ScriptID, &v.Version, &v.Source, &by, tm(&v.CreatedAt), &from); err != nil {
		return store.Version{}, err
	}
	v.CreatedBy = by.Int64
	v.RolledBackFrom = int(from.Int64)
	return v, nil
}

// ListVersions returns the versions of a script, oldest first, without
// their source.
func (s *Store) ListVersions(ctx context.Context, scriptID int64) ([]store.Version, error) {
	return list(ctx, s, s.read, scanVersion, fmt.Sprintf("list the versions of script %d", scriptID),
		`SELECT script_id, version, '', created_by, created_at, rolled_back_from FROM versions
		WHERE script_id = ? ORDER BY version`, scriptID)
}

// GetVersion returns one version of a script with its source.
func (s *Store) GetVersion(ctx context.Context, scriptID int64, version int) (store.Version, error) {
	v, err := scanVersion(s.readRow(ctx,
		`SELECT script_id, version, source, created_by, created_at, rolled_back_from FROM versions
		WHERE script_id = ? AND version = ?`, scriptID, version))
	if err != nil {
		return store.Version{}, s.readError(fmt.Sprintf("version %d of script %d", version, scriptID), err)
	}
	return v, nil
}

// DeleteScript removes a script with its versions and schedules (the
// foreign keys cascade). Its invocation logs stay until they are pruned,
// and its jobs stay.
func (s *Store) DeleteScript(ctx context.Context, scriptID int64) error {
	what := fmt.Sprintf("delete script %d", scriptID)
	res, err := s.exec(ctx, `DELETE FROM scripts WHERE id = ?`, scriptID)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}

// GetLiveScript returns the app, the script and its live version, with
// source, in one query: what the data plane needs to run it.
func (s *Store) GetLiveScript(ctx context.Context, appSlug, name string) (store.LiveScript, error) {
	var (
		ls               store.LiveScript
		limits, outbound []byte // JSON: TEXT in SQLite, jsonb in PostgreSQL
		by               sql.NullInt64
	)
	err := s.readRow(ctx,
		`SELECT a.id, a.slug, a.name, a.description, a.limits, a.created_at,
			s.id, s.name, s.live_version, s.max_attempts, s.private, s.created_at, s.updated_at,
			v.version, v.source, v.created_by, v.created_at, a.outbound
		FROM apps a
		JOIN scripts s ON s.app_id = a.id
		JOIN versions v ON v.script_id = s.id AND v.version = s.live_version
		WHERE a.slug = ? AND s.name = ?`, appSlug, name,
	).Scan(&ls.App.ID, &ls.App.Slug, &ls.App.Name, &ls.App.Description, &limits, tm(&ls.App.CreatedAt),
		&ls.Script.ID, &ls.Script.Name, &ls.Script.LiveVersion, &ls.Script.MaxAttempts, &ls.Script.Private,
		tm(&ls.Script.CreatedAt), tm(&ls.Script.UpdatedAt),
		&ls.Version.Version, &ls.Version.Source, &by, tm(&ls.Version.CreatedAt), &outbound)
	if err != nil {
		return store.LiveScript{}, s.readError(fmt.Sprintf("live script %s/%s", appSlug, name), err)
	}
	if err := json.Unmarshal(limits, &ls.App.Limits); err != nil {
		return store.LiveScript{}, s.fail(fmt.Sprintf("get live script %s/%s", appSlug, name), fmt.Errorf("limits: %w", err))
	}
	if err := json.Unmarshal(outbound, &ls.App.Outbound); err != nil {
		return store.LiveScript{}, s.fail(fmt.Sprintf("get live script %s/%s", appSlug, name), fmt.Errorf("outbound: %w", err))
	}
	ls.Script.AppID = ls.App.ID
	ls.Script.AppSlug = ls.App.Slug
	ls.Version.ScriptID = ls.Script.ID
	ls.Version.CreatedBy = by.Int64
	return ls, nil
}

// SetScriptMaxAttempts sets how many attempts the script's jobs get; 0
// restores the default.
func (s *Store) SetScriptMaxAttempts(ctx context.Context, scriptID int64, n int) error {
	what := fmt.Sprintf("set the max attempts of script %d", scriptID)
	res, err := s.exec(ctx, `UPDATE scripts SET max_attempts = ? WHERE id = ?`, n, scriptID)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}

// SetScriptPrivate sets whether the script is private.
func (s *Store) SetScriptPrivate(ctx context.Context, scriptID int64, private bool) error {
	what := fmt.Sprintf("set the visibility of script %d", scriptID)
	res, err := s.exec(ctx, `UPDATE scripts SET private = ? WHERE id = ?`, private, scriptID)
	if err != nil {
		return s.writeError(what, err)
	}
	return s.mustAffect(res, what)
}
