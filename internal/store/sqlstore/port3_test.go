package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// withLogApp returns a store of open with one app.
func withLogApp(t *testing.T, open func(t *testing.T) *Store, slug string) (*Store, store.App) {
	t.Helper()
	st := open(t)
	t.Cleanup(func() { st.Close() })
	app := store.App{Slug: slug}
	if err := st.CreateApp(t.Context(), &app); err != nil {
		t.Fatal(err)
	}
	return st, app
}

// sqlPlan returns the plan the backend makes for text (with ?
// placeholders) on the given arguments: SQLite's EXPLAIN QUERY PLAN, or
// PostgreSQL's EXPLAIN with sequential scans disabled, so that an empty
// table is read through an index whenever one serves the query.
func sqlPlan(t *testing.T, st *Store, text string, args ...any) string {
	t.Helper()
	ctx := t.Context()
	conn, err := st.root.reader.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	explain := "EXPLAIN QUERY PLAN "
	if st.d.postgres {
		explain = "EXPLAIN "
		if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(context.Background(), "RESET enable_seqscan")
	}
	rows, err := conn.QueryContext(ctx, explain+st.d.bind(text), args...)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		// SQLite: id, parent, notused, detail; PostgreSQL: one line.
		dest := make([]any, len(cols))
		var detail string
		for i := range dest {
			dest[i] = new(any)
		}
		dest[len(dest)-1] = &detail
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, strings.TrimSpace(detail))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// The log's pruning, the API's listing, the recording quota's trims and
// the log writer's lookup go through indexes: in SQLite the invocations
// table has no index on the start time alone, and a plan that scans the
// table would make them slow on a large log. The sets of one parameter
// (inSet) are looked up in the index, one value at a time.
func TestInvocationQueriesUseAnIndex(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st := open(t)
		defer st.Close()
		d := st.d
		ids := setParam(d, []string{"a", "b"})
		for _, tc := range []struct {
			name, query string
			args        []any
			index       string // the index the plan must use
			ordered     bool   // the index gives the order: no sort
		}{
			{"prune", pruneInvocationsSQL(d), []any{d.t(time.Now())},
				d.pick("invocations_app_started", "invocations_started"), false},
			{"list by app",
				`SELECT i.id FROM invocations i JOIN apps a ON a.id = i.app_id WHERE i.app_id = ? ORDER BY i.started_at DESC, i.id DESC LIMIT 10`,
				[]any{1}, "invocations_app_started", true},
			{"list by app, script and status",
				`SELECT i.id FROM invocations i JOIN apps a ON a.id = i.app_id WHERE i.app_id = ? AND i.script = 'hello' AND i.status = 'ok' ORDER BY i.started_at DESC, i.id DESC LIMIT 10`,
				[]any{1}, "invocations_app_started", true},
			{"list by ids",
				`SELECT i.id FROM invocations i JOIN apps a ON a.id = i.app_id WHERE ` + d.pick("+i.app_id", "i.app_id") + ` = ? AND i.id ` + inSet(d) + ` ORDER BY i.started_at DESC, i.id DESC LIMIT 10`,
				// PostgreSQL picks either index by its statistics.
				[]any{1, ids}, d.pick("sqlite_autoindex_invocations_1", "Index"), false},
			{"trim: oldest records", oldestRecordsSQL, []any{1, trimChunk}, "invocations_app_started", true},
			{"trim: delete", `DELETE FROM invocations WHERE id ` + inSet(d), []any{ids},
				d.pick("sqlite_autoindex_invocations_1", "invocations_pkey"), false},
			{"log writer's app lookup", liveAppsSQL(d), []any{setParam(d, []int64{1, 2})},
				d.pick("INTEGER PRIMARY KEY", "apps_pkey"), false},
		} {
			plan := sqlPlan(t, st, tc.query, tc.args...)
			scan := d.pick("SCAN i ", "Seq Scan")
			if !strings.Contains(plan, tc.index) || strings.Contains(plan, scan) || strings.Contains(plan, "SCAN invocations") {
				t.Errorf("%s: %s\nplan: %s\nwant a search of %s, no scan of the table", tc.name, tc.query, plan, tc.index)
			}
			if tc.ordered && (strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort")) {
				t.Errorf("%s: %s\nplan: %s\nwant the index's order, no sort", tc.name, tc.query, plan)
			}
		}
	})
}

// TestInsertInvocationsEveryBatchSize inserts batches of sizes around the
// prepared statements' (1, 2, 4, …, 64 records) and checks that each
// stores exactly its records, with their fields in the right columns, and
// adds exactly their exchanges to the app's recording usage.
func TestInsertInvocationsEveryBatchSize(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st, app := withLogApp(t, open, "sizes")
		ctx := t.Context()
		start := time.Unix(1_700_000_000, 0).UTC()
		var recorded int64
		for _, n := range []int{1, 2, 3, 7, 63, 64, 65, 100, 127, 128, 129, 200} {
			script := fmt.Sprintf("s%d", n)
			batch := make([]store.Invocation, n)
			ids := make([]string, n)
			for i := range batch {
				batch[i] = store.Invocation{
					ID: fmt.Sprintf("%s-%03d", script, i), AppID: app.ID, Script: script, Version: i + 1,
					Trigger: store.TriggerHTTP, StartedAt: start.Add(time.Duration(i) * time.Second),
					Duration: time.Duration(i) * time.Millisecond, Status: store.StatusOK, HTTPStatus: 200 + i,
					Operations: int64(i), Summary: fmt.Sprint("summary ", i), Output: fmt.Sprint("output ", i),
					JobID: fmt.Sprint("job ", i), Attempt: i % 3,
				}
				if i%2 == 0 {
					batch[i].Response = &store.HTTPResponse{Status: 200, Body: []byte(strings.Repeat("x", i)), BodySize: i}
					recorded += int64(len(store.EncodeResponse(batch[i].Response)))
				}
				ids[i] = batch[i].ID
			}
			if err := st.InsertInvocations(ctx, batch); err != nil {
				t.Fatalf("batch of %d: %v", n, err)
			}
			list, err := st.ListInvocations(ctx, store.InvocationFilter{AppID: app.ID, Script: script, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != n {
				t.Fatalf("batch of %d stored %d records", n, len(list))
			}
			for _, got := range list { // newest first
				i := int(got.StartedAt.Sub(start) / time.Second)
				want := batch[i]
				want.AppSlug, want.Response = app.Slug, nil
				if got != want {
					t.Fatalf("batch of %d: record %d is\n%+v, want\n%+v", n, i, got, want)
				}
			}
			// The whole batch by ids: a set of one parameter, whatever its
			// size.
			byIDs, err := st.ListInvocations(ctx, store.InvocationFilter{AppID: app.ID, IDs: ids, Limit: 1000})
			if err != nil || len(byIDs) != n {
				t.Fatalf("batch of %d: ListInvocations by its ids = %d records, %v", n, len(byIDs), err)
			}
			u, err := st.AppUsage(ctx, app.ID)
			if err != nil || u.RecordedBytes != recorded {
				t.Fatalf("batch of %d: AppUsage = %+v, %v; want %d recorded bytes", n, u, err, recorded)
			}
		}
	})
}

// The log writer's insert and the key-value writes run in the
// transaction of RunInTx when there is one: an error of the function
// leaves neither the records nor the recording usage nor the keys, and
// without an error all of it stays.
func TestInsertInvocationsAndKVInRunInTx(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st, app := withLogApp(t, open, "tx")
		ctx := t.Context()
		now := time.Now()
		inv := store.Invocation{ID: "r1", AppID: app.ID, Script: "s", Version: 1, Trigger: store.TriggerHTTP,
			StartedAt: now, Status: store.StatusOK, Response: &store.HTTPResponse{Status: 200, Body: []byte("hi")}}
		size := int64(len(store.EncodeResponse(inv.Response)))
		boom := errors.New("boom")
		write := func(tx store.Store) error {
			if err := tx.InsertInvocations(ctx, []store.Invocation{inv}); err != nil {
				return err
			}
			if err := tx.KVSet(ctx, app.ID, "k", []byte(`1`), time.Time{}, store.KVLimits{}, now); err != nil {
				return err
			}
			// The transaction sees its own writes.
			if got, err := tx.GetInvocation(ctx, inv.ID); err != nil || got.ID != inv.ID {
				return fmt.Errorf("GetInvocation in the transaction = %+v, %v", got, err)
			}
			return nil
		}
		err := st.RunInTx(ctx, func(tx store.Store) error {
			if err := write(tx); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("RunInTx = %v, want boom", err)
		}
		if _, err := st.GetInvocation(ctx, inv.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetInvocation after a rollback: %v, want ErrNotFound", err)
		}
		if _, err := st.KVGet(ctx, app.ID, "k", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("KVGet after a rollback: %v, want ErrNotFound", err)
		}
		if u, err := st.AppUsage(ctx, app.ID); err != nil || u.RecordedBytes != 0 {
			t.Errorf("AppUsage after a rollback = %+v, %v; want no recorded bytes", u, err)
		}
		if u, err := st.KVUsage(ctx, app.ID); err != nil || u != (store.KVUsage{}) {
			t.Errorf("KVUsage after a rollback = %+v, %v; want none", u, err)
		}

		if err := st.RunInTx(ctx, write); err != nil {
			t.Fatal(err)
		}
		if _, err := st.GetInvocation(ctx, inv.ID); err != nil {
			t.Errorf("GetInvocation after a commit: %v", err)
		}
		if u, err := st.AppUsage(ctx, app.ID); err != nil || u.RecordedBytes != size {
			t.Errorf("AppUsage after a commit = %+v, %v; want %d recorded bytes", u, err, size)
		}
		if u, err := st.KVUsage(ctx, app.ID); err != nil || u != (store.KVUsage{Keys: 1, Bytes: 2}) {
			t.Errorf("KVUsage after a commit = %+v, %v; want 1 key of 2 bytes", u, err)
		}
	})
}

// An app deleted while a batch of its records is being written waits for
// the batch (SQLite's single writer, PostgreSQL's FOR KEY SHARE on the
// app's row), and its records go with it: none is left behind, orphaned.
func TestDeleteAppWaitsForTheLogWriter(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st, app := withLogApp(t, open, "going")
		ctx := t.Context()
		deleted := make(chan error, 1)
		err := st.RunInTx(ctx, func(tx store.Store) error {
			inv := store.Invocation{ID: "r1", AppID: app.ID, Script: "s", Version: 1, Trigger: store.TriggerHTTP,
				StartedAt: time.Now(), Status: store.StatusOK}
			if err := tx.InsertInvocations(ctx, []store.Invocation{inv}); err != nil {
				return err
			}
			go func() { deleted <- st.DeleteApp(ctx, app.ID) }()
			select {
			case err := <-deleted:
				return fmt.Errorf("DeleteApp returned %v while the batch of its records was not committed", err)
			case <-time.After(200 * time.Millisecond):
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-deleted; err != nil {
			t.Fatalf("DeleteApp: %v", err)
		}
		var n int
		if err := st.readRow(ctx, `SELECT count(*) FROM invocations`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d records left after their app was deleted (%v)", n, err)
		}
		// A batch for the deleted app is skipped, not failed.
		inv := store.Invocation{ID: "r2", AppID: app.ID, Script: "s", Trigger: store.TriggerHTTP, StartedAt: time.Now()}
		if err := st.InsertInvocations(ctx, []store.Invocation{inv}); err != nil {
			t.Errorf("InsertInvocations for a deleted app: %v", err)
		}
	})
}

// TrimRecordings refuses an app whose limits it cannot read, naming it,
// and deletes none of its records.
func TestTrimRecordingsUnreadableLimits(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) *Store) {
		st, app := withLogApp(t, open, "broken")
		ctx := t.Context()
		inv := store.Invocation{ID: "r1", AppID: app.ID, Script: "s", Version: 1, Trigger: store.TriggerHTTP,
			StartedAt: time.Now(), Status: store.StatusOK, Response: &store.HTTPResponse{Status: 200, Body: []byte("hello")}}
		if err := st.InsertInvocations(ctx, []store.Invocation{inv}); err != nil {
			t.Fatal(err)
		}
		// Valid JSON in both backends, but not an object.
		if _, err := st.exec(ctx, `UPDATE apps SET limits = '[1]' WHERE id = ?`, app.ID); err != nil {
			t.Fatal(err)
		}
		trims, err := st.TrimRecordings(ctx, []int64{app.ID}, 1)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("app %d: limits", app.ID)) ||
			!strings.HasPrefix(err.Error(), st.Dialect()+": ") {
			t.Errorf("TrimRecordings of an app with unreadable limits = %v, want an error naming its limits", err)
		}
		if len(trims) != 0 {
			t.Errorf("TrimRecordings trimmed %+v", trims)
		}
		if _, err := st.GetInvocation(ctx, inv.ID); err != nil {
			t.Errorf("GetInvocation after a failed trim: %v", err)
		}
	})
}
