package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

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
	err := row.Scan(append([]any{&inv.ID, &inv.AppID, &inv.AppSlug, &inv.Script, &inv.Version, &inv.Trigger, tm(&inv.StartedAt),
		&duration, &inv.Status, &inv.HTTPStatus, &inv.Operations, &inv.Summary, &inv.Output, &inv.JobID, &inv.Attempt}, extra...)...)
	if err != nil {
		return store.Invocation{}, err
	}
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
	if err := insertInvocations(ctx, s, invs); err != nil {
		return s.writeError(fmt.Sprintf("insert %d invocations", len(invs)), err)
	}
	return nil
}

// ListInvocations returns the records f selects, newest first (by start
// time, then ID). An AppID of 0 selects every app.
func (s *Store) ListInvocations(ctx context.Context, f store.InvocationFilter) ([]store.Invocation, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.AppID != 0 {
		if f.After != "" || f.IDs != nil {
			// The unary + keeps SQLite from reading the app's whole
			// index range: ids are looked up (or scanned from After)
			// in the primary key instead.
			add(s.d.pick("+i.app_id = ?", "i.app_id = ?"), f.AppID)
		} else {
			add("i.app_id = ?", f.AppID)
		}
	}
	if f.Script != "" {
		add("i.script = ?", f.Script)
	}
	if f.Status != "" {
		add("i.status = ?", f.Status)
	}
	if f.JobID != "" {
		add("i.job_id = ?", f.JobID)
	}
	if f.HTTPStatusMin != 0 || f.HTTPStatusMax != 0 {
		add("i.http_status >= ?", f.HTTPStatusMin)
		add("i.http_status <= ?", f.HTTPStatusMax)
	}
	if f.After != "" {
		add("i.id > ?", f.After)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return []store.Invocation{}, nil
		}
		add("i.id "+inSet(s.d), setParam(s.d, f.IDs))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultInvocationLimit
	}

	var q strings.Builder
	q.WriteString(`SELECT ` + invocationColumns + ` FROM invocations i JOIN apps a ON a.id = i.app_id`)
	if len(where) > 0 {
		q.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if f.After != "" {
		q.WriteString(" ORDER BY i.id LIMIT ?")
	} else {
		q.WriteString(" ORDER BY i.started_at DESC, i.id DESC LIMIT ?")
	}
	return list(ctx, s, s.read, scanInvocation, "list invocations", q.String(), append(args, limit)...)
}

// GetInvocation returns the record with the given ID, with its recorded
// HTTP exchange and effect journal.
func (s *Store) GetInvocation(ctx context.Context, id string) (store.Invocation, error) {
	var req, resp, journal []byte
	inv, err := scanInvocationWith(s.readRow(ctx,
		`SELECT `+invocationColumns+`, i.request, i.response, i.journal FROM invocations i JOIN apps a ON a.id = i.app_id WHERE i.id = ?`, id),
		&req, &resp, &journal)
	if err != nil {
		return store.Invocation{}, s.readError(fmt.Sprintf("invocation %q", id), err)
	}
	if inv.Request, err = store.DecodeRequest(req); err != nil {
		return store.Invocation{}, fmt.Errorf("%s: invocation %q: %w", s.d.name, id, err)
	}
	if inv.Response, err = store.DecodeResponse(resp); err != nil {
		return store.Invocation{}, fmt.Errorf("%s: invocation %q: %w", s.d.name, id, err)
	}
	if inv.Journal, err = store.DecodeJournal(journal); err != nil {
		return store.Invocation{}, fmt.Errorf("%s: invocation %q: %w", s.d.name, id, err)
	}
	return inv, nil
}

// encodeExchange returns the stored forms of the recorded request,
// response and journal of inv: NULL for those it has none of (a nil
// []byte would be an empty BLOB in SQLite).
func encodeExchange(inv store.Invocation) (req, resp, journal any) {
	if b := store.EncodeRequest(inv.Request); b != nil {
		req = b
	}
	if b := store.EncodeResponse(inv.Response); b != nil {
		resp = b
	}
	if b := store.EncodeJournal(inv.Journal); b != nil {
		journal = b
	}
	return req, resp, journal
}

// pruneInvocationsSQL deletes the records of runs started before its
// parameter. In SQLite it goes through the (app_id, started_at) index,
// one range per app: there is no index on started_at alone (it would slow
// every log write, see migration 11), and every record's app exists
// (deleting an app deletes its records). PostgreSQL kept its index on the
// start time.
func pruneInvocationsSQL(d *dialect) string {
	return `DELETE FROM invocations WHERE ` + d.pick(`app_id IN (SELECT id FROM apps) AND `, ``) + `started_at < ?`
}

// PruneInvocations removes the records of runs started before the given
// time and returns how many it removed. The records' exchanges go off
// their apps' recording usage in the same transaction (quotas.go), and
// the roll-ups older than their retention go too.
func (s *Store) PruneInvocations(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *Store) error {
		if err := tx.pruneRecorded(ctx, before); err != nil {
			return s.writeError("prune invocations", err)
		}
		res, err := tx.exec(ctx, pruneInvocationsSQL(s.d), s.d.t(before))
		if err != nil {
			return s.writeError("prune invocations", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return s.fail("prune invocations", err)
		}
		if err := tx.pruneStats(ctx, time.Now()); err != nil {
			return s.writeError("prune stats", err)
		}
		return nil
	})
	return n, err
}
