package sqlstore

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

// RollbackScript stores the source of version of a script as its next
// version, recording where it came from, and makes it live. Like a
// deploy, it holds the script first, so that rollbacks and deploys of one
// script queue there and each numbers its version after the previous one
// committed: SQLite's write transaction holds the database, and in
// PostgreSQL the transaction locks the script's row.
func (s *Store) RollbackScript(ctx context.Context, scriptID int64, version int, userID int64) (sc store.Script, v store.Version, err error) {
	what := fmt.Sprintf("roll script %d back to version %d", scriptID, version)
	err = s.inTx(ctx, func(tx *Store) error {
		at := tx.now()
		if tx.d.postgres {
			var locked int64
			err := tx.writeRow(ctx, `SELECT id FROM scripts WHERE id = ? FOR UPDATE`, scriptID).Scan(&locked)
			if err != nil {
				return tx.readError(fmt.Sprintf("script %d", scriptID), err)
			}
		}
		v = store.Version{ScriptID: scriptID, CreatedBy: userID, CreatedAt: at, RolledBackFrom: version}
		err := tx.readRow(ctx, `SELECT source FROM versions WHERE script_id = ? AND version = ?`, scriptID, version).Scan(&v.Source)
		if err != nil {
			return tx.readError(fmt.Sprintf("version %d of script %d", version, scriptID), err)
		}
		if err := tx.nextVersion(ctx, &v, what); err != nil {
			return err
		}
		_, err = tx.exec(ctx,
			`UPDATE scripts SET live_version = ?, updated_at = `+tx.d.pick("max", "greatest")+`(updated_at, ?) WHERE id = ?`,
			v.Version, tx.d.t(at), scriptID)
		if err != nil {
			return tx.writeError(what, err)
		}
		sc, err = scanScript(tx.readRow(ctx,
			`SELECT `+scriptColumns+` FROM scripts s JOIN apps a ON a.id = s.app_id WHERE s.id = ?`, scriptID))
		if err != nil {
			return tx.readError(fmt.Sprintf("script %d", scriptID), err)
		}
		return nil
	})
	if err != nil {
		return store.Script{}, store.Version{}, err
	}
	return sc, v, nil
}
