package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// CreateCanary stores the canary of a release.
func (s *Store) CreateCanary(ctx context.Context, c *store.Canary) error {
	what := fmt.Sprintf("create the canary of release %d of app %d", c.ReleaseID, c.AppID)
	if c.StartedAt.IsZero() {
		c.StartedAt = s.now()
	}
	c.StartedAt, c.EndsAt = s.d.ts(c.StartedAt), s.d.ts(c.EndsAt)
	_, err := s.exec(ctx,
		`INSERT INTO canaries (app_id, release_id, base_release, percent, window_seconds, min_requests,
			state, reason, started_at, ends_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.AppID, c.ReleaseID, c.BaseRelease, c.Percent, int64(c.Window/time.Second), c.MinRequests,
		c.State, c.Reason, s.d.t(c.StartedAt), s.d.t(c.EndsAt))
	if err != nil {
		return s.writeError(what, err)
	}
	return nil
}

const canaryColumns = `app_id, release_id, base_release, percent, window_seconds, min_requests, state, reason,
	started_at, ends_at, decided_at, base_total, base_errors, canary_total, canary_errors`

func scanCanary(row scanner) (store.Canary, error) {
	var (
		c      store.Canary
		window int64
	)
	err := row.Scan(&c.AppID, &c.ReleaseID, &c.BaseRelease, &c.Percent, &window, &c.MinRequests, &c.State, &c.Reason,
		tm(&c.StartedAt), tm(&c.EndsAt), tm(&c.DecidedAt), &c.Base.Total, &c.Base.Errors, &c.Candidate.Total, &c.Candidate.Errors)
	c.Window = time.Duration(window) * time.Second
	return c, err
}

// GetCanary returns the canary of a release.
func (s *Store) GetCanary(ctx context.Context, appID, releaseID int64) (store.Canary, error) {
	c, err := scanCanary(s.readRow(ctx, `SELECT `+canaryColumns+` FROM canaries WHERE app_id = ? AND release_id = ?`, appID, releaseID))
	if err != nil {
		return store.Canary{}, s.readError(fmt.Sprintf("the canary of release %d of app %d", releaseID, appID), err)
	}
	return c, nil
}

// ListCanaries lists canaries, oldest first.
func (s *Store) ListCanaries(ctx context.Context, appID int64, running bool) ([]store.Canary, error) {
	q := `SELECT ` + canaryColumns + ` FROM canaries WHERE (? = 0 OR app_id = ?)`
	args := []any{appID, appID}
	if running {
		q += ` AND state = ?`
		args = append(args, store.CanaryRunning)
	}
	return list(ctx, s, s.read, scanCanary, fmt.Sprintf("list the canaries of app %d", appID),
		q+` ORDER BY started_at, app_id, release_id`, args...)
}

// AddCanaryCounts adds the deltas in one transaction, in a fixed order
// (app, release), so that two nodes flushing at once never deadlock.
func (s *Store) AddCanaryCounts(ctx context.Context, deltas []store.CanaryDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	sorted := slices.Clone(deltas)
	slices.SortFunc(sorted, func(a, b store.CanaryDelta) int {
		return cmp.Or(cmp.Compare(a.AppID, b.AppID), cmp.Compare(a.ReleaseID, b.ReleaseID))
	})
	return s.inTx(ctx, func(tx *Store) error {
		for _, d := range sorted {
			_, err := tx.exec(ctx,
				`UPDATE canaries SET base_total = base_total + ?, base_errors = base_errors + ?,
					canary_total = canary_total + ?, canary_errors = canary_errors + ?
				WHERE app_id = ? AND release_id = ? AND state = ?`,
				d.Base.Total, d.Base.Errors, d.Candidate.Total, d.Candidate.Errors, d.AppID, d.ReleaseID, store.CanaryRunning)
			if err != nil {
				return tx.writeError(fmt.Sprintf("count the runs of the canary of release %d of app %d", d.ReleaseID, d.AppID), err)
			}
		}
		return nil
	})
}

// EndCanary ends a running canary; the condition on its state makes the
// decision once, whoever else tries.
func (s *Store) EndCanary(ctx context.Context, appID, releaseID int64, state, reason string, at time.Time) (bool, error) {
	res, err := s.exec(ctx,
		`UPDATE canaries SET state = ?, reason = ?, decided_at = ? WHERE app_id = ? AND release_id = ? AND state = ?`,
		state, reason, s.d.nt(at), appID, releaseID, store.CanaryRunning)
	if err != nil {
		return false, s.writeError(fmt.Sprintf("end the canary of release %d of app %d", releaseID, appID), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("end a canary", err)
	}
	return n == 1, nil
}
