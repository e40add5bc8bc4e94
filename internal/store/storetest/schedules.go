package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

func testSchedules(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	hello, _ := deploy(t, st, a, "hello", `"hi"`, 0)
	other, _ := deploy(t, st, b, "other", `"hi"`, 0)

	s1 := store.Schedule{AppID: a.ID, ScriptID: hello.ID, Cron: "*/5 * * * *", Timezone: "UTC",
		Payload: `{"n":1}`, Enabled: true, NextRun: at(5 * time.Minute)}
	before := time.Now()
	ok(t, "CreateSchedule", st.CreateSchedule(ctx, &s1))
	checkStamped(t, "CreatedAt", s1.CreatedAt, before, time.Now())
	if s1.ID == 0 || !s1.UpdatedAt.Equal(s1.CreatedAt) {
		t.Errorf("CreateSchedule: ID %d, UpdatedAt %v, CreatedAt %v", s1.ID, s1.UpdatedAt, s1.CreatedAt)
	}
	s1.AppSlug, s1.Script = "alpha", "hello"
	s2 := store.Schedule{AppID: b.ID, ScriptID: other.ID, Cron: "@hourly", Timezone: "Europe/Paris",
		Enabled: false, CreatedAt: at(0)}
	ok(t, "CreateSchedule", st.CreateSchedule(ctx, &s2))
	s2.AppSlug, s2.Script = "beta", "other"

	// A script of another app, or no script, is not found.
	bad := store.Schedule{AppID: a.ID, ScriptID: other.ID, Cron: "@daily", Timezone: "UTC", Enabled: true}
	wantErr(t, "CreateSchedule with another app's script", st.CreateSchedule(ctx, &bad), store.ErrNotFound)
	bad.ScriptID = 1 << 40
	wantErr(t, "CreateSchedule with no script", st.CreateSchedule(ctx, &bad), store.ErrNotFound)

	got, err := st.GetSchedule(ctx, s1.ID)
	ok(t, "GetSchedule", err)
	check(t, "GetSchedule", got, s1)
	_, err = st.GetSchedule(ctx, 1<<40)
	wantErr(t, "GetSchedule unknown", err, store.ErrNotFound)

	list, err := st.ListSchedules(ctx, a.ID)
	ok(t, "ListSchedules", err)
	check(t, "ListSchedules alpha", list, []store.Schedule{s1})
	list, err = st.ListSchedules(ctx, 0)
	ok(t, "ListSchedules", err)
	check(t, "ListSchedules every app", list, []store.Schedule{s1, s2})
	list, err = st.ListSchedules(ctx, 1<<40)
	ok(t, "ListSchedules", err)
	check(t, "ListSchedules unknown app", list, []store.Schedule{})

	// Due: only enabled schedules with a next run at or before now.
	due, err := st.DueSchedules(ctx, at(5*time.Minute-time.Microsecond), 10)
	ok(t, "DueSchedules", err)
	check(t, "DueSchedules before", due, []store.Schedule{})
	due, err = st.DueSchedules(ctx, at(5*time.Minute), 10)
	ok(t, "DueSchedules", err)
	check(t, "DueSchedules at", due, []store.Schedule{s1})
	next, err := st.NextScheduleRun(ctx)
	ok(t, "NextScheduleRun", err)
	check(t, "NextScheduleRun", next, at(5*time.Minute))

	// Update: enabling s2 with a due time earlier than s1's.
	s2.Enabled, s2.NextRun, s2.Cron, s2.Payload = true, at(time.Minute), "0 * * * *", `[1,2]`
	before = time.Now()
	ok(t, "UpdateSchedule", st.UpdateSchedule(ctx, &s2))
	checkStamped(t, "UpdatedAt", s2.UpdatedAt, before, time.Now())
	got, err = st.GetSchedule(ctx, s2.ID)
	ok(t, "GetSchedule", err)
	check(t, "GetSchedule after update", got, s2)
	next, err = st.NextScheduleRun(ctx)
	ok(t, "NextScheduleRun", err)
	check(t, "NextScheduleRun after update", next, at(time.Minute))
	due, err = st.DueSchedules(ctx, at(time.Hour), 1)
	ok(t, "DueSchedules", err)
	check(t, "DueSchedules limit 1", due, []store.Schedule{s2})
	missing := store.Schedule{ID: 1 << 40, Cron: "@daily", Timezone: "UTC"}
	wantErr(t, "UpdateSchedule unknown", st.UpdateSchedule(ctx, &missing), store.ErrNotFound)

	// Pausing clears the next run: nothing is due, nothing next.
	s1.Enabled, s1.NextRun = false, time.Time{}
	s2.Enabled, s2.NextRun = false, time.Time{}
	ok(t, "UpdateSchedule", st.UpdateSchedule(ctx, &s1))
	ok(t, "UpdateSchedule", st.UpdateSchedule(ctx, &s2))
	due, err = st.DueSchedules(ctx, at(time.Hour), 10)
	ok(t, "DueSchedules", err)
	check(t, "DueSchedules paused", due, []store.Schedule{})
	next, err = st.NextScheduleRun(ctx)
	ok(t, "NextScheduleRun", err)
	check(t, "NextScheduleRun paused", next, time.Time{})

	ok(t, "DeleteSchedule", st.DeleteSchedule(ctx, s2.ID))
	wantErr(t, "DeleteSchedule again", st.DeleteSchedule(ctx, s2.ID), store.ErrNotFound)
	_, err = st.GetSchedule(ctx, s2.ID)
	wantErr(t, "GetSchedule deleted", err, store.ErrNotFound)

	// Deleting the script deletes its schedules.
	ok(t, "DeleteScript", st.DeleteScript(ctx, hello.ID))
	_, err = st.GetSchedule(ctx, s1.ID)
	wantErr(t, "GetSchedule of a deleted script", err, store.ErrNotFound)
}

// testFireSchedule checks the compare-and-set that makes a due time fire
// once: the firing that read the current next run wins and enqueues its
// job; a stale one changes nothing.
func testFireSchedule(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	sc, _ := deploy(t, st, a, "tick", `"tick"`, 0)
	ok(t, "SetScriptMaxAttempts", st.SetScriptMaxAttempts(ctx, sc.ID, 5))
	wantErr(t, "SetScriptMaxAttempts unknown", st.SetScriptMaxAttempts(ctx, 1<<40, 5), store.ErrNotFound)
	if got, err := st.GetScript(ctx, a.ID, "tick"); err != nil || got.MaxAttempts != 5 {
		t.Errorf("GetScript after SetScriptMaxAttempts = %+v, %v; want MaxAttempts 5", got, err)
	}
	if live, err := st.GetLiveScript(ctx, "alpha", "tick"); err != nil || live.Script.MaxAttempts != 5 {
		t.Errorf("GetLiveScript after SetScriptMaxAttempts = %+v, %v; want MaxAttempts 5", live.Script, err)
	}
	s := store.Schedule{AppID: a.ID, ScriptID: sc.ID, Cron: "* * * * *", Timezone: "UTC",
		Payload: `{"k":"v"}`, Enabled: true, NextRun: at(time.Minute)}
	ok(t, "CreateSchedule", st.CreateSchedule(ctx, &s))

	f := store.ScheduleFiring{ScheduleID: s.ID, Due: at(time.Minute), FireAt: at(time.Minute),
		Next: at(2 * time.Minute), JobID: "job-1", RunAt: at(time.Minute + time.Second)}
	won, err := st.FireSchedule(ctx, f)
	ok(t, "FireSchedule", err)
	if !won {
		t.Fatal("FireSchedule: lost with the current next run")
	}
	// The same firing again, as a second node that read the same due time.
	f2 := f
	f2.JobID = "job-2"
	won, err = st.FireSchedule(ctx, f2)
	ok(t, "FireSchedule again", err)
	if won {
		t.Error("FireSchedule with a stale due time won")
	}
	got, err := st.GetSchedule(ctx, s.ID)
	ok(t, "GetSchedule", err)
	check(t, "NextRun", got.NextRun, at(2*time.Minute))
	check(t, "LastRun", got.LastRun, at(time.Minute))
	check(t, "UpdatedAt", got.UpdatedAt, s.UpdatedAt) // firing is not an edit

	j, err := st.GetJob(ctx, "job-1")
	ok(t, "GetJob", err)
	want := store.Job{ID: "job-1", AppID: a.ID, AppSlug: "alpha", Script: "tick", Trigger: store.TriggerSchedule,
		State: store.JobQueued, MaxAttempts: 5, RunAt: at(time.Minute + time.Second), ScheduleID: s.ID,
		ScheduledAt: at(time.Minute), Payload: `{"k":"v"}`, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	check(t, "GetJob", j, want)
	_, err = st.GetJob(ctx, "job-2")
	wantErr(t, "GetJob of the lost firing", err, store.ErrNotFound)

	// A skipping firing: due at 2m, fired at 5m (the latest missed time).
	won, err = st.FireSchedule(ctx, store.ScheduleFiring{ScheduleID: s.ID, Due: at(2 * time.Minute),
		FireAt: at(5 * time.Minute), Next: at(6 * time.Minute), JobID: "job-3", RunAt: at(5 * time.Minute)})
	ok(t, "FireSchedule", err)
	if !won {
		t.Fatal("FireSchedule lost")
	}
	j, err = st.GetJob(ctx, "job-3")
	ok(t, "GetJob", err)
	check(t, "ScheduledAt of a catch-up", j.ScheduledAt, at(5*time.Minute))

	// A disabled schedule does not fire, whatever the due time.
	s.Enabled, s.NextRun = false, time.Time{}
	ok(t, "UpdateSchedule", st.UpdateSchedule(ctx, &s))
	won, err = st.FireSchedule(ctx, store.ScheduleFiring{ScheduleID: s.ID, Due: at(6 * time.Minute),
		FireAt: at(6 * time.Minute), Next: at(7 * time.Minute), JobID: "job-4", RunAt: at(6 * time.Minute)})
	ok(t, "FireSchedule paused", err)
	if won {
		t.Error("FireSchedule of a paused schedule won")
	}
	won, err = st.FireSchedule(ctx, store.ScheduleFiring{ScheduleID: 1 << 40, Due: at(0), FireAt: at(0),
		Next: at(time.Minute), JobID: "job-5"})
	ok(t, "FireSchedule unknown", err)
	if won {
		t.Error("FireSchedule of an unknown schedule won")
	}
	jobs, err := st.ListJobs(ctx, store.JobFilter{AppID: a.ID})
	ok(t, "ListJobs", err)
	if len(jobs) != 2 {
		t.Errorf("%d jobs, want 2", len(jobs))
	}
}

// testFireScheduleRace fires one due time from many goroutines at once:
// exactly one wins.
func testFireScheduleRace(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	sc, _ := deploy(t, st, a, "tick", `"tick"`, 0)
	s := store.Schedule{AppID: a.ID, ScriptID: sc.ID, Cron: "* * * * *", Timezone: "UTC", Enabled: true, NextRun: at(0)}
	ok(t, "CreateSchedule", st.CreateSchedule(ctx, &s))
	const firers = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range firers {
		wg.Go(func() {
			won, err := st.FireSchedule(ctx, store.ScheduleFiring{ScheduleID: s.ID, Due: at(0), FireAt: at(0),
				Next: at(time.Minute), JobID: "job-" + string(rune('a'+i)), RunAt: at(0)})
			if err != nil {
				t.Errorf("FireSchedule: %v", err)
			}
			if won {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d firers won one due time, want 1", wins)
	}
	jobs, err := st.ListJobs(ctx, store.JobFilter{})
	ok(t, "ListJobs", err)
	if len(jobs) != 1 {
		t.Errorf("%d jobs, want 1", len(jobs))
	}
}
