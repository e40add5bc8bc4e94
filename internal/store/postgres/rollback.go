package postgres

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

// RollbackScript stores the source of version of a script as its next
// version, recording where it came from, and makes it live. Like a
// deploy, it locks the script's row first, so that rollbacks and deploys
// of one script queue there and each numbers its version after the
// previous one committed.
func (s *Store) RollbackScript(ctx context.Context, scriptID int64, version int, userID int64) (store.Script, store.Version, error) {
	what := fmt.Sprintf("roll script %d back to version %d", scriptID, version)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	defer tx.Rollback(ctx)

	at := now()
	var locked int64
	err = tx.QueryRow(ctx, `SELECT id FROM scripts WHERE id = $1 FOR UPDATE`, scriptID).Scan(&locked)
	if err != nil {
		return store.Script{}, store.Version{}, readError(fmt.Sprintf("script %d", scriptID), err)
	}
	v := store.Version{ScriptID: scriptID, CreatedBy: userID, CreatedAt: at, RolledBackFrom: version}
	err = tx.QueryRow(ctx, `SELECT source FROM versions WHERE script_id = $1 AND version = $2`,
		scriptID, version).Scan(&v.Source)
	if err != nil {
		return store.Script{}, store.Version{}, readError(fmt.Sprintf("version %d of script %d", version, scriptID), err)
	}
	err = tx.QueryRow(ctx,
		`SELECT coalesce(max(version), 0) + 1 FROM versions WHERE script_id = $1`, scriptID).Scan(&v.Version)
	if err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO versions (script_id, version, source, created_by, created_at, rolled_back_from) VALUES ($1, $2, $3, $4, $5, $6)`,
		v.ScriptID, v.Version, v.Source, nullID(v.CreatedBy), v.CreatedAt, v.RolledBackFrom)
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	sc, err := scanScript(tx.QueryRow(ctx,
		`UPDATE scripts s SET live_version = $1, updated_at = greatest(s.updated_at, $2)
		FROM apps a WHERE a.id = s.app_id AND s.id = $3
		RETURNING `+scriptColumns, v.Version, at, scriptID))
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return sc, v, nil
}
