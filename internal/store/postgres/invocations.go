package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/store"
)

// DefaultInvocationLimit is the number of records ListInvocations returns
// when the filter sets no limit.
const DefaultInvocationLimit = 100

const invocationColumns = `i.id, i.app_id, a.slug, i.script, i.version, i.trigger_type, i.started_at,
	i.duration, i.status, i.http_status, i.operations, i.summary, i.output, i.job_id, i.attempt`

func scanInvocation(row scanner) (store.Invocation, error) { return scanInvocationWith(row) }

// scanInvocationWith scans invocationColumns followed by the columns of
// extra.
func scanInvocationWith(row scanner, extra ...any) (store.Invocation, error) {
	var (
		inv      store.Invocation
		duration int64
	)
	err := row.Scan(append([]any{&inv.ID, &inv.AppID, &inv.AppSlug, &inv.Script, &inv.Version, &inv.Trigger, &inv.StartedAt,
		&duration, &inv.Status, &inv.HTTPStatus, &inv.Operations, &inv.Summary, &inv.Output, &inv.JobID, &inv.Attempt}, extra...)...)
	if err != nil {
		return store.Invocation{}, err
	}
	inv.StartedAt = inv.StartedAt.UTC()
	inv.Duration = time.Duration(duration)
	return inv, nil
}

// InsertInvocations stores a batch of invocation records in one
// transaction. Logging is idempotent and never fails a batch on a record
// that lost its place: a record whose ID is already stored is skipped, and
// so is one whose app was deleted since the run.
func (s *Store) InsertInvocations(ctx context.Context, invs []store.Invocation) error {
	if len(invs) == 0 {
		return nil
	}
	what := fmt.Sprintf("insert %d invocations", len(invs))
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	if err := insertInvocations(ctx, tx, invs); err != nil {
		return writeError(what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: unable to %s: %w", what, err)
	}
	return nil
}

// insertInvocations inserts records within tx, skipping those whose ID is
// taken or whose app is gone. It first holds the rows of the records'
// apps (FOR KEY SHARE, which other logging and deploys share): an app
// deleted before is skipped, and one being deleted now waits for tx, so
// its records go with it.
func insertInvocations(ctx context.Context, tx pgx.Tx, invs []store.Invocation) error {
	ids := make([]int64, 0, len(invs))
	for _, inv := range invs {
		ids = append(ids, inv.AppID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows, err := tx.Query(ctx, `SELECT id FROM apps WHERE id = ANY($1) ORDER BY id FOR KEY SHARE`, ids)
	if err != nil {
		return err
	}
	live, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}

	var batch pgx.Batch
	recorded := make(map[int64]int64, len(live))
	for _, inv := range invs {
		if _, ok := slices.BinarySearch(live, inv.AppID); !ok {
			continue
		}
		req, resp := store.EncodeRequest(inv.Request), store.EncodeResponse(inv.Response)
		recorded[inv.AppID] += int64(len(req) + len(resp))
		batch.Queue(`INSERT INTO invocations (id, app_id, script, version, trigger_type, started_at,
				duration, status, http_status, operations, summary, output, job_id, attempt, request, response)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (id) DO NOTHING`,
			inv.ID, inv.AppID, inv.Script, inv.Version, inv.Trigger, ts(inv.StartedAt), int64(inv.Duration),
			inv.Status, inv.HTTPStatus, inv.Operations, inv.Summary, inv.Output, inv.JobID, inv.Attempt,
			req, resp)
	}
	if batch.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return err
	}
	return addRecorded(ctx, tx, live, recorded)
}

// ListInvocations returns the records f selects, newest first (by start
// time, then ID). An AppID of 0 selects every app.
func (s *Store) ListInvocations(ctx context.Context, f store.InvocationFilter) ([]store.Invocation, error) {
	var w where
	if f.AppID != 0 {
		w.add("i.app_id = ", f.AppID)
	}
	if f.Script != "" {
		w.add("i.script = ", f.Script)
	}
	if f.Status != "" {
		w.add("i.status = ", f.Status)
	}
	if f.JobID != "" {
		w.add("i.job_id = ", f.JobID)
	}
	if f.HTTPStatusMin != 0 || f.HTTPStatusMax != 0 {
		w.add("i.http_status >= ", f.HTTPStatusMin)
		w.add("i.http_status <= ", f.HTTPStatusMax)
	}
	if f.After != "" {
		w.add("i.id > ", f.After)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return []store.Invocation{}, nil
		}
		w.conds = append(w.conds, "i.id = ANY("+w.arg(f.IDs)+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultInvocationLimit
	}
	order := ` ORDER BY i.started_at DESC, i.id DESC`
	if f.After != "" {
		order = ` ORDER BY i.id`
	}
	q := `SELECT ` + invocationColumns + ` FROM invocations i JOIN apps a ON a.id = i.app_id` + w.String() +
		order + ` LIMIT ` + w.arg(limit)
	return query(ctx, s.pool, scanInvocation, "list invocations", q, w.args...)
}

// GetInvocation returns the record with the given ID, with its recorded
// HTTP exchange.
func (s *Store) GetInvocation(ctx context.Context, id string) (store.Invocation, error) {
	var req, resp []byte
	inv, err := scanInvocationWith(s.pool.QueryRow(ctx,
		`SELECT `+invocationColumns+`, i.request, i.response FROM invocations i JOIN apps a ON a.id = i.app_id WHERE i.id = $1`, id),
		&req, &resp)
	if err != nil {
		return store.Invocation{}, readError(fmt.Sprintf("invocation %q", id), err)
	}
	if inv.Request, err = store.DecodeRequest(req); err != nil {
		return store.Invocation{}, fmt.Errorf("postgres: invocation %q: %w", id, err)
	}
	if inv.Response, err = store.DecodeResponse(resp); err != nil {
		return store.Invocation{}, fmt.Errorf("postgres: invocation %q: %w", id, err)
	}
	return inv, nil
}

// PruneInvocations removes the records of runs started before the given
// time and returns how many it removed.
// The records' exchanges go off their apps' recording usage in the same
// transaction (quotas.go).
func (s *Store) PruneInvocations(ctx context.Context, before time.Time) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: unable to prune invocations: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := pruneRecorded(ctx, tx, ts(before)); err != nil {
		return 0, writeError("prune invocations", err)
	}
	tag, err := tx.Exec(ctx, `DELETE FROM invocations WHERE started_at < $1`, ts(before))
	if err != nil {
		return 0, writeError("prune invocations", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres: unable to prune invocations: %w", err)
	}
	return tag.RowsAffected(), nil
}

// where builds the WHERE clause of a filter with numbered parameters.
type where struct {
	conds []string
	args  []any
}

// arg adds a parameter and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return fmt.Sprintf("$%d", len(w.args))
}

// add adds the condition expr followed by the placeholder of v.
func (w *where) add(expr string, v any) {
	w.conds = append(w.conds, expr+w.arg(v))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
