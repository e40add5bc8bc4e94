package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/store"
)

// The log writer stores the invocation records of the data plane in
// batches (InsertInvocations): the hottest write path of the store, so its
// statements are prepared once, at Open, for both backends.

// insertChunk is how many records one INSERT statement carries at most:
// 17 parameters each, well under SQLite's limit of 32766 and PostgreSQL's
// of 65535. It is a power of two: the log writer prepares one statement
// for each power of two up to it (logInsertSizes) and sends any number of
// records as a sum of those.
const insertChunk = 64

// logInsertSizes is how many prepared INSERTs of the log there are: for
// 64, 32, 16, 8, 4, 2 and 1 records.
const logInsertSizes = 7

// invocationParams is the number of parameters of one record.
const invocationParams = 17

const insertInvocationPrefix = `INSERT INTO invocations (id, app_id, script, version, trigger_type, started_at,
	duration, status, http_status, operations, summary, output, job_id, attempt, request, response, journal) VALUES `

// insertInvocationsSQL is the INSERT of n records.
func insertInvocationsSQL(n int) string {
	var q strings.Builder
	q.WriteString(insertInvocationPrefix)
	for i := range n {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	q.WriteString(" ON CONFLICT (id) DO NOTHING")
	return q.String()
}

// writerStatements are the log writer's statements, prepared on the
// writer at Open. In SQLite the writer is one connection, and a
// transaction holds it, so no statement could be prepared on the database
// while one is open; SQLite parses none of them again. (database/sql
// prepares a statement again within a transaction whose connection has
// not prepared it: in PostgreSQL once per connection of the pool, and in
// SQLite if the connection is ever replaced.)
type writerStatements struct {
	logInserts  [logInsertSizes]*sql.Stmt // INSERTs of 64, 32, …, 1 records
	liveApps    *sql.Stmt                 // which of a set of apps (still) exist
	statsUpsert *sql.Stmt                 // adds to a roll-up (stats.go)
}

func prepareWriterStatements(ctx context.Context, d *dialect, db *sql.DB) (w writerStatements, err error) {
	for i := range w.logInserts {
		if w.logInserts[i], err = db.PrepareContext(ctx, d.bind(insertInvocationsSQL(insertChunk>>i))); err != nil {
			w.close()
			return w, fmt.Errorf("%s: unable to prepare the invocation log's insert: %w", d.name, err)
		}
	}
	if w.liveApps, err = db.PrepareContext(ctx, d.bind(liveAppsSQL(d))); err != nil {
		w.close()
		return w, fmt.Errorf("%s: unable to prepare the invocation log's app lookup: %w", d.name, err)
	}
	if w.statsUpsert, err = db.PrepareContext(ctx, d.bind(upsertStatsSQL())); err != nil {
		w.close()
		return w, fmt.Errorf("%s: unable to prepare the invocation log's roll-up: %w", d.name, err)
	}
	return w, nil
}

// liveAppsSQL returns the apps of a set that exist. In PostgreSQL it
// holds their rows (FOR KEY SHARE, which other logging and deploys
// share): an app deleted before is skipped, and one being deleted now
// waits for the transaction, so that its records go with it. In order of
// id, so that two batches take the locks in the same order.
func liveAppsSQL(d *dialect) string {
	return `SELECT id FROM apps WHERE id ` + inSet(d) + ` ORDER BY id` + d.pick("", " FOR KEY SHARE")
}

// close closes the statements that were prepared.
func (w *writerStatements) close() error {
	var errs []error
	for _, stmt := range append(w.logInserts[:], w.liveApps, w.statsUpsert) {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// insertInvocations inserts records within tx's transaction (a new one if
// tx is in none), skipping those whose ID is taken or whose app is gone.
// The apps are looked up once per batch (SQLite's transaction holds the
// database, PostgreSQL's the apps' rows, so none can go meanwhile) and the
// records are inserted with the multi-row INSERTs prepared at Open: a
// batch costs a few statements instead of one per record. The records
// are added to their roll-ups (addStats) in the same transaction. The
// error is the backend's, for the caller to wrap.
func insertInvocations(ctx context.Context, tx *Store, invs []store.Invocation) error {
	return tx.inTx(ctx, func(tx *Store) error {
		live, err := tx.liveApps(ctx, invs)
		if err != nil {
			return err
		}
		if err := insertRecords(ctx, tx, invs, live); err != nil {
			return err
		}
		return addStats(ctx, tx, invs, live)
	})
}

// insertRecords inserts the records of the live apps, within tx's
// transaction, and adds their exchanges to the apps' recorded bytes.
func insertRecords(ctx context.Context, tx *Store, invs []store.Invocation, live []int64) error {
	args := make([]any, 0, invocationParams*min(len(invs), insertChunk))
	// flush inserts the records in args, as one statement when they
	// are insertChunk, else as a sum of powers of two.
	flush := func() error {
		for i, rest := 0, args; len(rest) > 0; i++ {
			size := insertChunk >> i
			if len(rest) < size*invocationParams {
				continue
			}
			stmt := tx.tx.StmtContext(ctx, tx.root.stmts.logInserts[i])
			if _, err := stmt.ExecContext(ctx, rest[:size*invocationParams]...); err != nil {
				return err
			}
			rest = rest[size*invocationParams:]
			// In SQLite a statement of 64 records is about a
			// millisecond of CPU, which it spends without blocking:
			// yield, so that the requests readied meanwhile on this P
			// run before the next one instead of waiting for it (an
			// execution trace of the data plane under load showed
			// them waiting over a millisecond while the log writer
			// ran).
			runtime.Gosched()
		}
		clear(args) // this chunk's records are not kept alive by the next
		args = args[:0]
		return nil
	}
	recorded := make(map[int64]int64, len(live))
	for _, inv := range invs {
		if _, ok := slices.BinarySearch(live, inv.AppID); !ok {
			continue
		}
		req, resp, journal := encodeExchange(inv)
		recorded[inv.AppID] += exchangeSize(req, resp, journal)
		args = append(args, inv.ID, inv.AppID, inv.Script, inv.Version, inv.Trigger,
			tx.d.t(inv.StartedAt), int64(inv.Duration), inv.Status, inv.HTTPStatus, inv.Operations,
			storableText(inv.Summary), storableText(inv.Output), inv.JobID, inv.Attempt, req, resp, journal)
		if len(args) == invocationParams*insertChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return addRecorded(ctx, tx, live, recorded)
}

// liveApps returns, in order, the apps of the records that still exist,
// with the writer's prepared lookup. s is in a transaction.
func (s *Store) liveApps(ctx context.Context, invs []store.Invocation) ([]int64, error) {
	ids := make([]int64, 0, 1)
	for _, inv := range invs {
		ids = append(ids, inv.AppID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows, err := s.tx.StmtContext(ctx, s.root.stmts.liveApps).QueryContext(ctx, setParam(s.d, ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	live := make([]int64, 0, len(ids))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		live = append(live, id)
	}
	return live, rows.Err()
}

// inSet is the condition that a value is in the set of one parameter,
// setParam's: a PostgreSQL array, or a JSON array that SQLite's json_each
// reads. The text of a query does not depend on the size of its set, so
// that one prepared statement (or cached plan) serves every size.
func inSet(d *dialect) string {
	return d.pick(`IN (SELECT value FROM json_each(?))`, `= ANY(?)`)
}

// setParam is the parameter of inSet for vals.
func setParam[T int64 | string](d *dialect, vals []T) any {
	if d.postgres {
		return vals
	}
	b, _ := json.Marshal(vals) // integers and strings always encode
	return string(b)
}

// storableText is a script's own text (a summary, printed output) as both
// backends store it alike: NUL, which PostgreSQL's text refuses (and
// would cost the whole batch of records), and invalid UTF-8 become
// U+FFFD.
func storableText(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
