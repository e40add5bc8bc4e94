package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
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
		inv               store.Invocation
		started, duration int64
	)
	err := row.Scan(append([]any{&inv.ID, &inv.AppID, &inv.AppSlug, &inv.Script, &inv.Version, &inv.Trigger, &started,
		&duration, &inv.Status, &inv.HTTPStatus, &inv.Operations, &inv.Summary, &inv.Output, &inv.JobID, &inv.Attempt}, extra...)...)
	if err != nil {
		return store.Invocation{}, err
	}
	inv.StartedAt = fromUnixNano(started)
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := s.insertInvocations(ctx, tx, invs); err != nil {
		return writeError(what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: unable to %s: %w", what, err)
	}
	return nil
}

// insertChunk is how many records one INSERT statement carries at most:
// 16 parameters each, well under SQLite's limit of 32766. It is a power of
// two: the log writer prepares one statement for each power of two up to
// it (logInsertSizes) and sends any number of records as a sum of those.
const insertChunk = 64

// logInsertSizes is how many prepared INSERTs of the log there are: for
// 64, 32, 16, 8, 4, 2 and 1 records.
const logInsertSizes = 7

const insertInvocationPrefix = `INSERT INTO invocations (id, app_id, script, version, trigger_type, started_at,
	duration, status, http_status, operations, summary, output, job_id, attempt, request, response) VALUES `

// insertInvocationsSQL is the INSERT of n records.
func insertInvocationsSQL(n int) string {
	var q strings.Builder
	q.WriteString(insertInvocationPrefix)
	for i := range n {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	q.WriteString(" ON CONFLICT (id) DO NOTHING")
	return q.String()
}

// writerStatements are the log writer's statements, prepared on the
// writer connection at Open: it is the only one, and a transaction holds
// it, so no statement can be prepared on the database while one is open.
// (database/sql prepares them again within a transaction if the
// connection is ever replaced.)
type writerStatements struct {
	logInserts [logInsertSizes]*sql.Stmt // INSERTs of 64, 32, …, 1 records
	appExists  *sql.Stmt                 // whether an app (still) exists
}

func prepareWriterStatements(ctx context.Context, db *sql.DB) (w writerStatements, err error) {
	for i := range w.logInserts {
		if w.logInserts[i], err = db.PrepareContext(ctx, insertInvocationsSQL(insertChunk>>i)); err != nil {
			w.close()
			return w, fmt.Errorf("sqlite: unable to prepare the invocation log's insert: %w", err)
		}
	}
	if w.appExists, err = db.PrepareContext(ctx, `SELECT 1 FROM apps WHERE id = ?`); err != nil {
		w.close()
		return w, fmt.Errorf("sqlite: unable to prepare the invocation log's app lookup: %w", err)
	}
	return w, nil
}

// close closes the statements that were prepared.
func (w *writerStatements) close() error {
	var errs []error
	for _, stmt := range append(w.logInserts[:], w.appExists) {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// insertInvocations inserts records within tx, skipping those whose ID is
// taken or whose app is gone. The apps are looked up once per batch (the
// writer's transaction holds the database, so none can go meanwhile) and
// the records are inserted with multi-row INSERTs prepared at Open: a
// batch costs a few statements instead of one per record, and SQLite
// parses none of them again.
func (s *Store) insertInvocations(ctx context.Context, tx *sql.Tx, invs []store.Invocation) error {
	live, err := s.existingApps(ctx, tx, invs)
	if err != nil {
		return err
	}
	const params = 16
	args := make([]any, 0, params*min(len(invs), insertChunk))
	// flush inserts the records in args, as one statement when they are
	// insertChunk, else as a sum of powers of two.
	flush := func() error {
		for i, rest := 0, args; len(rest) > 0; i++ {
			size := insertChunk >> i
			if len(rest) < size*params {
				continue
			}
			if _, err := tx.StmtContext(ctx, s.logInserts[i]).ExecContext(ctx, rest[:size*params]...); err != nil {
				return err
			}
			rest = rest[size*params:]
			// A statement of 64 records is about a millisecond of CPU,
			// which SQLite spends without blocking: yield, so that the
			// requests readied meanwhile on this P run before the next
			// one instead of waiting for it (an execution trace of the
			// data plane under load showed them waiting over a
			// millisecond while the log writer ran).
			runtime.Gosched()
		}
		clear(args) // this chunk's records are not kept alive by the next
		args = args[:0]
		return nil
	}
	recorded := make(map[int64]int64, len(live))
	for _, inv := range invs {
		if !live[inv.AppID] {
			continue
		}
		req, resp := encodeExchange(inv)
		recorded[inv.AppID] += exchangeSize(req, resp)
		args = append(args, inv.ID, inv.AppID, inv.Script, inv.Version, inv.Trigger,
			unixNano(inv.StartedAt), int64(inv.Duration), inv.Status, inv.HTTPStatus, inv.Operations,
			inv.Summary, inv.Output, inv.JobID, inv.Attempt, req, resp)
		if len(args) == params*insertChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return addRecorded(ctx, tx, recorded)
}

// existingApps reports which of the records' apps still exist, with the
// writer's prepared lookup, once per app.
func (s *Store) existingApps(ctx context.Context, tx *sql.Tx, invs []store.Invocation) (map[int64]bool, error) {
	live := make(map[int64]bool, 1)
	lookup := tx.StmtContext(ctx, s.appExists)
	for _, inv := range invs {
		if _, seen := live[inv.AppID]; seen {
			continue
		}
		var one int
		switch err := lookup.QueryRowContext(ctx, inv.AppID).Scan(&one); {
		case err == nil:
			live[inv.AppID] = true
		case errors.Is(err, sql.ErrNoRows):
			live[inv.AppID] = false
		default:
			return nil, err
		}
	}
	return live, nil
}

// ListInvocations returns the records f selects, newest first (by start
// time, then ID). An AppID of 0 selects every app.
func (s *Store) ListInvocations(ctx context.Context, f store.InvocationFilter) ([]store.Invocation, error) {
	var (
		where []string
		args  []any
	)
	if f.AppID != 0 {
		if f.After != "" || f.IDs != nil {
			// The unary + keeps SQLite from reading the app's whole
			// index range: ids are looked up (or scanned from After)
			// in the primary key instead.
			where = append(where, "+i.app_id = ?")
		} else {
			where = append(where, "i.app_id = ?")
		}
		args = append(args, f.AppID)
	}
	if f.Script != "" {
		where = append(where, "i.script = ?")
		args = append(args, f.Script)
	}
	if f.Status != "" {
		where = append(where, "i.status = ?")
		args = append(args, f.Status)
	}
	if f.JobID != "" {
		where = append(where, "i.job_id = ?")
		args = append(args, f.JobID)
	}
	if f.HTTPStatusMin != 0 || f.HTTPStatusMax != 0 {
		where = append(where, "i.http_status BETWEEN ? AND ?")
		args = append(args, f.HTTPStatusMin, f.HTTPStatusMax)
	}
	if f.After != "" {
		where = append(where, "i.id > ?")
		args = append(args, f.After)
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			return []store.Invocation{}, nil
		}
		where = append(where, "i.id IN ("+placeholders(len(f.IDs))+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultInvocationLimit
	}
	args = append(args, limit)

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

	rows, err := s.read.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unable to list invocations: %w", err)
	}
	return collect(rows, scanInvocation, "list invocations")
}

// GetInvocation returns the record with the given ID, with its recorded
// HTTP exchange.
func (s *Store) GetInvocation(ctx context.Context, id string) (store.Invocation, error) {
	var req, resp []byte
	inv, err := scanInvocationWith(s.read.QueryRowContext(ctx,
		`SELECT `+invocationColumns+`, i.request, i.response FROM invocations i JOIN apps a ON a.id = i.app_id WHERE i.id = ?`, id),
		&req, &resp)
	if err != nil {
		return store.Invocation{}, readError(fmt.Sprintf("invocation %q", id), err)
	}
	if inv.Request, err = store.DecodeRequest(req); err != nil {
		return store.Invocation{}, fmt.Errorf("sqlite: invocation %q: %w", id, err)
	}
	if inv.Response, err = store.DecodeResponse(resp); err != nil {
		return store.Invocation{}, fmt.Errorf("sqlite: invocation %q: %w", id, err)
	}
	return inv, nil
}

// encodeExchange returns the stored forms of the recorded request and
// response of inv: NULL for those it has none of.
func encodeExchange(inv store.Invocation) (req, resp any) {
	if b := store.EncodeRequest(inv.Request); b != nil {
		req = b
	}
	if b := store.EncodeResponse(inv.Response); b != nil {
		resp = b
	}
	return req, resp
}

// placeholders returns n comma-separated parameters: "?, ?, ?".
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

const pruneInvocationsSQL = `DELETE FROM invocations WHERE app_id IN (SELECT id FROM apps) AND started_at < ?`

// PruneInvocations removes the records of runs started before the given
// time and returns how many it removed.
func (s *Store) PruneInvocations(ctx context.Context, before time.Time) (int64, error) {
	// Through the (app_id, started_at) index, one range per app: there is
	// no index on started_at alone (it would slow every log write), and
	// every record's app exists (deleting an app deletes its records).
	// The records' exchanges go off their apps' recording usage in the
	// same transaction.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: unable to prune invocations: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, pruneRecordedSQL, unixNano(before)); err != nil {
		return 0, writeError("prune invocations", err)
	}
	res, err := tx.ExecContext(ctx, pruneInvocationsSQL, unixNano(before))
	if err != nil {
		return 0, writeError("prune invocations", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: unable to prune invocations: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: unable to prune invocations: %w", err)
	}
	return n, nil
}
