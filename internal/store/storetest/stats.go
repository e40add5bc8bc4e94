package storetest

import (
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// statsRow is a roll-up with empty histograms but for the counts given,
// as bucket index → count.
func statsRow(script string, at time.Time, counts [6]int64, durations, operations map[int]int64) store.StatsRow {
	r := store.StatsRow{
		Script: script, At: at,
		Requests: counts[0], OK: counts[1], ClientErrors: counts[2], ServerErrors: counts[3], Timeouts: counts[4], Limits: counts[5],
		Durations:  make([]int64, len(store.DurationBounds)+1),
		Operations: make([]int64, len(store.OperationBounds)+1),
	}
	for i, n := range durations {
		r.Durations[i] = n
	}
	for i, n := range operations {
		r.Operations[i] = n
	}
	return r
}

func testStats(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	gone := newApp(t, st, "gone")
	hour := at(0).Truncate(time.Hour)

	run := func(id string, app store.App, script, status string, http int, start, d time.Duration, ops int64) store.Invocation {
		inv := invocation(id, app, script, status, hour.Add(start))
		inv.HTTPStatus, inv.Duration, inv.Operations = http, d, ops
		return inv
	}
	ok(t, "DeleteApp gone", st.DeleteApp(ctx, gone.ID))
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, []store.Invocation{
		run("s-01", a, "hello", store.StatusOK, 200, 10*time.Second, 3*time.Millisecond, 5),
		run("s-02", a, "hello", store.StatusOK, 404, 20*time.Second, 700*time.Microsecond, 50),
		run("s-03", a, "hello", store.StatusError, 500, 30*time.Second, 40*time.Millisecond, 5),
		run("s-04", a, "other", store.StatusOK, 200, 40*time.Second, time.Minute, 50_000_000),
		run("s-05", b, "hello", store.StatusOK, 200, 50*time.Second, time.Millisecond, 1),
		run("s-06", gone, "hello", store.StatusOK, 200, 50*time.Second, time.Millisecond, 1),
	}))
	// A second batch adds to the rows of the first.
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, []store.Invocation{
		run("s-07", a, "hello", store.StatusTimeout, 504, 59*time.Second, 30*time.Second, 5),
		run("s-08", a, "hello", store.StatusLimit, 429, 61*time.Second, 3*time.Millisecond, 5),
		run("s-09", a, "hello", store.StatusOK, 503, 62*time.Second, 3*time.Millisecond, 5),
	}))

	minute0 := statsRow("hello", hour, [6]int64{4, 1, 1, 1, 1, 0}, map[int]int64{0: 1, 2: 1, 5: 1, 13: 1}, map[int]int64{0: 3, 1: 1})
	other := statsRow("other", hour, [6]int64{1, 1, 0, 0, 0, 0}, map[int]int64{14: 1}, map[int]int64{7: 1})
	minute1 := statsRow("hello", hour.Add(time.Minute), [6]int64{2, 0, 0, 1, 0, 1}, map[int]int64{2: 2}, map[int]int64{0: 2})
	hourHello := statsRow("hello", hour, [6]int64{6, 1, 1, 2, 1, 1}, map[int]int64{0: 1, 2: 3, 5: 1, 13: 1}, map[int]int64{0: 5, 1: 1})

	list := func(f store.StatsFilter) []store.StatsRow {
		t.Helper()
		rows, err := st.ListStats(ctx, f)
		ok(t, "ListStats", err)
		return rows
	}
	check(t, "minutes of alpha", list(store.StatsFilter{AppID: a.ID, Step: store.StepMinute, From: hour, To: hour.Add(time.Hour)}),
		[]store.StatsRow{minute0, other, minute1})
	check(t, "minutes of alpha's hello from the second minute",
		list(store.StatsFilter{AppID: a.ID, Script: "hello", Step: store.StepMinute, From: hour.Add(time.Minute), To: hour.Add(time.Hour)}),
		[]store.StatsRow{minute1})
	check(t, "minutes of alpha before the first", list(store.StatsFilter{AppID: a.ID, Step: store.StepMinute, From: hour.Add(-time.Hour), To: hour}),
		[]store.StatsRow{})
	check(t, "hours of alpha's hello", list(store.StatsFilter{AppID: a.ID, Script: "hello", Step: store.StepHour, From: hour, To: hour.Add(time.Hour)}),
		[]store.StatsRow{hourHello})
	check(t, "hours of beta", list(store.StatsFilter{AppID: b.ID, Step: store.StepHour, From: hour, To: hour.Add(time.Hour)}),
		[]store.StatsRow{statsRow("hello", hour, [6]int64{1, 1, 0, 0, 0, 0}, map[int]int64{0: 1}, map[int]int64{0: 1})})
	check(t, "hours of a deleted app", list(store.StatsFilter{AppID: gone.ID, Step: store.StepHour, From: hour, To: hour.Add(time.Hour)}),
		[]store.StatsRow{})
	if _, err := st.ListStats(ctx, store.StatsFilter{AppID: a.ID, Step: "day", From: hour, To: hour.Add(time.Hour)}); err == nil {
		t.Error("ListStats with step day: no error")
	}

	// Pruning the log prunes the minutes after 48 hours, the hours after
	// 90 days, whatever the log's own retention.
	now := time.Now().UTC().Truncate(time.Hour)
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, []store.Invocation{
		invocation("s-10", b, "recent", store.StatusOK, now.Add(-72*time.Hour)),
	}))
	_, err := st.PruneInvocations(ctx, now.Add(-100*24*time.Hour))
	ok(t, "PruneInvocations", err)
	check(t, "alpha's hours after pruning", list(store.StatsFilter{AppID: a.ID, Step: store.StepHour, From: hour, To: hour.Add(time.Hour)}),
		[]store.StatsRow{})
	check(t, "beta's minutes after pruning", list(store.StatsFilter{AppID: b.ID, Step: store.StepMinute, From: now.Add(-73 * time.Hour), To: now}),
		[]store.StatsRow{})
	if rows := list(store.StatsFilter{AppID: b.ID, Step: store.StepHour, From: now.Add(-73 * time.Hour), To: now}); len(rows) != 1 || rows[0].Script != "recent" {
		t.Errorf("beta's hours after pruning = %+v, want the hour of recent", rows)
	}
}
