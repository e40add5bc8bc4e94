package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// The roll-ups of the invocation log (store.StatsRow) are the table
// script_stats: one row per app, script, step and step start, whose
// counts the log writer adds to with each batch (addStats). The
// histograms are columns d0… and o0…, one per bucket, so that adding to
// a row is one upsert on both backends.

// statsCounters are the counting columns of script_stats, in the order of
// statsKey.counts.
var statsCounters = func() []string {
	cols := []string{"requests", "ok", "client_errors", "server_errors", "timeouts", "limits"}
	for i := range len(store.DurationBounds) + 1 {
		cols = append(cols, fmt.Sprintf("d%d", i))
	}
	for i := range len(store.OperationBounds) + 1 {
		cols = append(cols, fmt.Sprintf("o%d", i))
	}
	return cols
}()

// statsOutcomes is how many outcome counters precede the histograms.
const statsOutcomes = 6

// upsertStatsSQL adds one row's counts to script_stats.
func upsertStatsSQL() string {
	sets := make([]string, len(statsCounters))
	for i, c := range statsCounters {
		sets[i] = c + " = script_stats." + c + " + excluded." + c
	}
	return `INSERT INTO script_stats (app_id, script, step, at, ` + strings.Join(statsCounters, ", ") + `) VALUES (?, ?, ?, ?` +
		strings.Repeat(", ?", len(statsCounters)) + `) ON CONFLICT (app_id, step, at, script) DO UPDATE SET ` + strings.Join(sets, ", ")
}

// statsKey is a row of script_stats.
type statsKey struct {
	app    int64
	step   int64 // seconds
	at     int64 // Unix seconds
	script string
}

// rollUp aggregates records into the rows of their minutes and hours.
func rollUp(invs []store.Invocation, live []int64) map[statsKey][]int64 {
	rows := make(map[statsKey][]int64)
	for _, inv := range invs {
		if _, ok := slices.BinarySearch(live, inv.AppID); !ok {
			continue
		}
		for _, step := range []int64{60, 3600} {
			k := statsKey{inv.AppID, step, inv.StartedAt.Unix() / step * step, inv.Script}
			counts := rows[k]
			if counts == nil {
				counts = make([]int64, len(statsCounters))
				rows[k] = counts
			}
			counts[0]++
			counts[1+int(store.OutcomeOf(inv))]++
			ms := float64(inv.Duration) / float64(time.Millisecond)
			counts[statsOutcomes+store.Bucket(store.DurationBounds, ms)]++
			counts[statsOutcomes+len(store.DurationBounds)+1+store.Bucket(store.OperationBounds, float64(inv.Operations))]++
		}
	}
	return rows
}

// addStats adds the records of live apps to their roll-ups, within tx's
// transaction: one upsert per row, in the order of the primary key, so
// that two batches take their locks in the same order.
func addStats(ctx context.Context, tx *Store, invs []store.Invocation, live []int64) error {
	rows := rollUp(invs, live)
	keys := make([]statsKey, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b statsKey) int {
		return cmp.Or(cmp.Compare(a.app, b.app), cmp.Compare(a.step, b.step), cmp.Compare(a.at, b.at), cmp.Compare(a.script, b.script))
	})
	stmt := tx.tx.StmtContext(ctx, tx.root.stmts.statsUpsert)
	args := make([]any, 0, 4+len(statsCounters))
	for _, k := range keys {
		args = append(args[:0], k.app, k.script, k.step, k.at)
		for _, n := range rows[k] {
			args = append(args, n)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// pruneStats removes the roll-ups older than their retention at now.
func (s *Store) pruneStats(ctx context.Context, now time.Time) error {
	_, err := s.exec(ctx, `DELETE FROM script_stats WHERE (step = 60 AND at < ?) OR (step = 3600 AND at < ?)`,
		now.Add(-store.MinuteStatsRetention).Unix(), now.Add(-store.HourStatsRetention).Unix())
	return err
}

// ListStats returns the roll-ups f selects, by time then script.
func (s *Store) ListStats(ctx context.Context, f store.StatsFilter) ([]store.StatsRow, error) {
	step := int64(f.Step.Duration() / time.Second)
	if step == 0 {
		return nil, fmt.Errorf("%s: list stats: unknown step %q", s.d.name, f.Step)
	}
	q := `SELECT script, at, ` + strings.Join(statsCounters, ", ") +
		` FROM script_stats WHERE app_id = ? AND step = ? AND at >= ? AND at < ?`
	args := []any{f.AppID, step, f.From.Unix(), f.To.Unix()}
	if f.Script != "" {
		q += ` AND script = ?`
		args = append(args, f.Script)
	}
	return list(ctx, s, s.read, scanStats, fmt.Sprintf("list the stats of app %d", f.AppID), q+` ORDER BY at, script`, args...)
}

// scanStats reads a row of ListStats.
func scanStats(sc scanner) (store.StatsRow, error) {
	var (
		r      store.StatsRow
		at     int64
		counts = make([]int64, len(statsCounters))
	)
	dest := []any{&r.Script, &at}
	for i := range counts {
		dest = append(dest, &counts[i])
	}
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	r.At = time.Unix(at, 0).UTC()
	r.Requests, r.OK, r.ClientErrors, r.ServerErrors, r.Timeouts, r.Limits = counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]
	r.Durations = counts[statsOutcomes : statsOutcomes+len(store.DurationBounds)+1]
	r.Operations = counts[statsOutcomes+len(store.DurationBounds)+1:]
	return r, nil
}
