package sqlite

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

// RollbackScript stores the source of version of a script as its next
// version, recording where it came from, and makes it live. The write
// transaction serialises it with deploys, so the new version's number is
// the next one.
func (s *Store) RollbackScript(ctx context.Context, scriptID int64, version int, userID int64) (store.Script, store.Version, error) {
	what := fmt.Sprintf("roll script %d back to version %d", scriptID, version)
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see dsn
	if err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	defer tx.Rollback()

	at := now()
	v := store.Version{ScriptID: scriptID, CreatedBy: userID, CreatedAt: at, RolledBackFrom: version}
	err = tx.QueryRowContext(ctx, `SELECT source FROM versions WHERE script_id = ? AND version = ?`,
		scriptID, version).Scan(&v.Source)
	if err != nil {
		return store.Script{}, store.Version{}, readError(fmt.Sprintf("version %d of script %d", version, scriptID), err)
	}
	err = tx.QueryRowContext(ctx,
		`SELECT coalesce(max(version), 0) + 1 FROM versions WHERE script_id = ?`, scriptID).Scan(&v.Version)
	if err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO versions (script_id, version, source, created_by, created_at, rolled_back_from) VALUES (?, ?, ?, ?, ?, ?)`,
		v.ScriptID, v.Version, v.Source, nullID(v.CreatedBy), unixNano(v.CreatedAt), v.RolledBackFrom)
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE scripts SET live_version = ?, updated_at = max(updated_at, ?) WHERE id = ?`,
		v.Version, unixNano(at), scriptID)
	if err != nil {
		return store.Script{}, store.Version{}, writeError(what, err)
	}
	sc, err := scanScript(tx.QueryRowContext(ctx,
		`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id WHERE s.id = ?`, scriptID))
	if err != nil {
		return store.Script{}, store.Version{}, readError(fmt.Sprintf("script %d", scriptID), err)
	}
	if err := tx.Commit(); err != nil {
		return store.Script{}, store.Version{}, fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return sc, v, nil
}
