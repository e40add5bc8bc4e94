package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// BenchmarkPendingUsage measures the check of an async enqueue against the
// app's queue bounds, with the writer held: "scan" counts the app's
// pending jobs as the queue bound did before the quotas, "scan+bytes" also
// sums their requests' sizes, and "counter" reads the row the triggers
// keep (pendingUsageSQL). Run them in one command and compare:
//
//	go test -run '^$' -bench PendingUsage ./internal/store/sqlite/
func BenchmarkPendingUsage(b *testing.B) {
	const (
		scanSQL      = `SELECT count(*), 0 FROM jobs WHERE app_id = ? AND state IN ` + pendingStates
		scanBytesSQL = `SELECT count(*), coalesce(sum(length(request)), 0) FROM jobs WHERE app_id = ? AND state IN ` + pendingStates
	)
	for _, tc := range []struct{ jobs, size int }{{10, 64 << 10}, {1000, 64 << 10}, {10_000, 1 << 10}} {
		st, app := openWithApp(b, "bench")
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
					if err := st.read.QueryRowContext(ctx, q.sql, app.ID).Scan(&n, &bytes); err != nil {
						b.Fatal(err)
					}
					if n != int64(tc.jobs) {
						b.Fatalf("%d pending jobs, want %d", n, tc.jobs)
					}
				}
			})
		}
	}
}
