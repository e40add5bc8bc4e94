package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

// HoldApp holds the app until the transaction ends. In SQLite the write
// transaction already holds the database, so it only checks the app
// exists; in PostgreSQL it locks the app's row FOR NO KEY UPDATE, which
// other holders wait for, while the writes that hold the row FOR KEY
// SHARE (logs, key-value writes, single deploys) go on.
func (s *Store) HoldApp(ctx context.Context, appID int64) error {
	var id int64
	err := s.writeRow(ctx, `SELECT id FROM apps WHERE id = ?`+s.d.pick("", " FOR NO KEY UPDATE"), appID).Scan(&id)
	if err != nil {
		return s.readError(fmt.Sprintf("app %d", appID), err)
	}
	return nil
}

// CreateRelease stores r as the app's next release. It holds the app
// first, so that the releases of one app are numbered one after another.
func (s *Store) CreateRelease(ctx context.Context, r *store.Release) error {
	what := fmt.Sprintf("create a release of app %d", r.AppID)
	scripts, err := json.Marshal(nonNil(r.Scripts))
	if err != nil {
		return s.fail(what, err)
	}
	changes, err := json.Marshal(nonNil(r.Changes))
	if err != nil {
		return s.fail(what, err)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	return s.inTx(ctx, func(tx *Store) error {
		if err := tx.HoldApp(ctx, r.AppID); err != nil {
			return err
		}
		err := tx.writeRow(ctx,
			`INSERT INTO releases (app_id, id, message, created_by, created_at, rolled_back_from, scripts, changes, check_report)
			SELECT ?, coalesce(max(id), 0) + 1, ?, ?, ?, ?, ?, ?, ? FROM releases WHERE app_id = ?
			RETURNING id`,
			r.AppID, r.Message, nullID(r.CreatedBy), tx.d.t(r.CreatedAt), r.RolledBackFrom, string(scripts), string(changes), r.Check, r.AppID,
		).Scan(&r.ID)
		if err != nil {
			return tx.writeError(what, err)
		}
		return nil
	})
}

const releaseColumns = `r.app_id, r.id, r.message, r.created_by, coalesce(u.username, ''), r.created_at,
	r.rolled_back_from, r.scripts, r.changes, r.check_report`

const releaseFrom = ` FROM releases r LEFT JOIN users u ON u.id = r.created_by`

func scanRelease(row scanner) (store.Release, error) {
	var (
		r                store.Release
		by               sql.NullInt64
		scripts, changes string
	)
	err := row.Scan(&r.AppID, &r.ID, &r.Message, &by, &r.CreatedByName, tm(&r.CreatedAt), &r.RolledBackFrom, &scripts, &changes, &r.Check)
	if err != nil {
		return store.Release{}, err
	}
	r.CreatedBy = by.Int64
	if err := json.Unmarshal([]byte(scripts), &r.Scripts); err != nil {
		return store.Release{}, fmt.Errorf("release %d: scripts: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(changes), &r.Changes); err != nil {
		return store.Release{}, fmt.Errorf("release %d: changes: %w", r.ID, err)
	}
	return r, nil
}

// ListReleases returns an app's releases, newest first.
func (s *Store) ListReleases(ctx context.Context, appID int64) ([]store.Release, error) {
	return list(ctx, s, s.read, scanRelease, fmt.Sprintf("list the releases of app %d", appID),
		`SELECT `+releaseColumns+releaseFrom+` WHERE r.app_id = ? ORDER BY r.id DESC`, appID)
}

// GetRelease returns one release of an app.
func (s *Store) GetRelease(ctx context.Context, appID, id int64) (store.Release, error) {
	r, err := scanRelease(s.readRow(ctx, `SELECT `+releaseColumns+releaseFrom+` WHERE r.app_id = ? AND r.id = ?`, appID, id))
	if err != nil {
		return store.Release{}, s.readError(fmt.Sprintf("release %d of app %d", id, appID), err)
	}
	return r, nil
}

// nonNil returns list, or an empty list for nil, which JSON keeps as [].
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
