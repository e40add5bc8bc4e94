package sqlstore

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/postgres/pgtest"
)

// benchBackends runs fn once per backend, each with a function that opens
// a new, empty store of it with open.
func benchBackends(b *testing.B, fn func(b *testing.B, open func(tb testing.TB) store.Store), open func(tb testing.TB, backend string) store.Store) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			fn(b, func(tb testing.TB) store.Store { return open(tb, backend) })
		})
	}
}

// openBench opens a new, empty store of the backend, closed at the end of
// tb.
func openBench(tb testing.TB, backend string) store.Store {
	tb.Helper()
	var (
		st  *Store
		err error
	)
	if backend == "postgres" {
		st, err = OpenPostgres(tb.Context(), pgtest.DSN(tb))
	} else {
		st, err = OpenSQLite(filepath.Join(tb.TempDir(), "picloud.db"))
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// benchApp creates an app in st.
func benchApp(tb testing.TB, st store.Store) store.App {
	tb.Helper()
	app := store.App{Slug: "bench"}
	if err := st.CreateApp(tb.Context(), &app); err != nil {
		tb.Fatal(err)
	}
	return app
}

// BenchmarkInsertInvocations measures the log writer's cost per record
// (ns/op is per record) for batches of several sizes, with records like
// the data-plane benchmark's: a GET with a few headers and a short text
// response. NOREC=1 leaves the recorded exchange out, to see its share.
func BenchmarkInsertInvocations(b *testing.B) {
	benchBackends(b, benchInsertInvocations, openBench)
}

func benchInsertInvocations(b *testing.B, open func(tb testing.TB) store.Store) {
	for _, batch := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			st := open(b)
			app := benchApp(b, st)
			ctx := context.Background()
			recs := make([]store.Invocation, batch)
			start := time.Now()
			b.ResetTimer()
			for n := 0; n < b.N; n += batch {
				benchRecords(recs, app.ID, start, n)
				if err := st.InsertInvocations(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchHeader = http.Header{"User-Agent": {"Go-http-client/1.1"}, "Accept-Encoding": {"gzip"}}

// benchRecords fills recs with the records n, n+1, … of the app.
func benchRecords(recs []store.Invocation, appID int64, start time.Time, n int) {
	norec := os.Getenv("NOREC") != ""
	for i := range recs {
		recs[i] = store.Invocation{
			ID: fmt.Sprintf("%026d", n+i), AppID: appID, Script: "hello", Version: 1,
			Trigger: store.TriggerHTTP, StartedAt: start.Add(time.Duration(n+i) * time.Microsecond),
			Duration: 20 * time.Microsecond, Status: store.StatusOK, HTTPStatus: 200, Operations: 1,
			Summary:  "200 text/plain, 13 B: Hello, world!",
			Request:  &store.HTTPRequest{Method: "GET", Header: benchHeader, Host: "127.0.0.1:8080"},
			Response: &store.HTTPResponse{Status: 200, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte("Hello, world!"), BodySize: 13},
		}
		if norec {
			recs[i].Request, recs[i].Response = nil, nil
		}
	}
}

// BenchmarkPendingUsage measures the check of an async enqueue against the
// app's queue bounds: "scan" counts the app's pending jobs as the queue
// bound did before the quotas, "scan+bytes" also sums their requests'
// sizes, and "counter" reads the row the triggers keep (pendingUsageSQL).
// Run them in one command and compare:
//
//	go test -run '^$' -bench PendingUsage ./internal/store/sqlstore/
func BenchmarkPendingUsage(b *testing.B) {
	const (
		pending      = `('queued', 'error', 'running')`
		scanSQL      = `SELECT count(*), 0 FROM jobs WHERE app_id = ? AND state IN ` + pending
		scanBytesSQL = `SELECT count(*), coalesce(sum(octet_length(request)), 0) FROM jobs WHERE app_id = ? AND state IN ` + pending
	)
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			for _, tc := range []struct{ jobs, size int }{{10, 64 << 10}, {1000, 64 << 10}, {10_000, 1 << 10}} {
				st := openBench(b, backend).(*Store)
				app := benchApp(b, st)
				ctx := context.Background()
				req := []byte(strings.Repeat("r", tc.size))
				for i := range tc.jobs {
					j := store.Job{ID: fmt.Sprintf("job-%06d", i), AppID: app.ID, Script: "s", Trigger: store.TriggerAsync,
						RunAt: time.Now(), Request: req}
					if err := st.EnqueueJob(ctx, &j, 0); err != nil {
						b.Fatal(err)
					}
				}
				for _, q := range []struct{ name, sql string }{{"scan", scanSQL}, {"scan+bytes", scanBytesSQL}, {"counter", pendingUsageSQL}} {
					b.Run(fmt.Sprintf("jobs=%d/size=%d/%s", tc.jobs, tc.size, q.name), func(b *testing.B) {
						for b.Loop() {
							var n, bytes int64
							if err := st.readRow(ctx, q.sql, app.ID).Scan(&n, &bytes); err != nil {
								b.Fatal(err)
							}
							if n != int64(tc.jobs) {
								b.Fatalf("%d pending jobs, want %d", n, tc.jobs)
							}
						}
					})
				}
			}
		})
	}
}

// BenchmarkRollUps measures what the roll-ups (stats.go) add to the log
// writer, per record: "with" is InsertInvocations, "without" the same
// transaction without addStats. The records are of 4 scripts, so a batch
// adds to 8 rows (their minute's and hour's).
//
//	go test -run '^$' -bench RollUps ./internal/store/sqlstore/
func BenchmarkRollUps(b *testing.B) {
	benchBackends(b, benchRollUps, openBench)
}

func benchRollUps(b *testing.B, open func(tb testing.TB) store.Store) {
	for _, rollUps := range []bool{false, true} {
		name := map[bool]string{false: "without", true: "with"}[rollUps]
		b.Run(name+"/batch=64", func(b *testing.B) {
			st := open(b).(*Store)
			app := benchApp(b, st)
			ctx := context.Background()
			recs := make([]store.Invocation, 64)
			start := time.Now()
			b.ResetTimer()
			for n := 0; n < b.N; n += len(recs) {
				benchRecords(recs, app.ID, start, n)
				for i := range recs {
					recs[i].Script = fmt.Sprintf("script-%d", i%4)
				}
				if err := benchInsert(ctx, st, recs, rollUps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchInsert inserts recs as the log writer does, with or without their
// roll-ups.
func benchInsert(ctx context.Context, st *Store, recs []store.Invocation, rollUps bool) error {
	if rollUps {
		return insertInvocations(ctx, st, recs)
	}
	return st.inTx(ctx, func(tx *Store) error {
		live, err := tx.liveApps(ctx, recs)
		if err != nil {
			return err
		}
		return insertRecords(ctx, tx, recs, live)
	})
}
