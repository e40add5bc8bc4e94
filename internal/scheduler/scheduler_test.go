package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/clock"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
	"github.com/picloud/picloud/internal/testdeps"
)

// env is a scheduler's world: a real database with one app and script,
// a fake clock and a bus. No test sleeps: each waits, through the fake
// clock, for the scheduler to arm its timer, then moves the time to it.
type env struct {
	t      *testing.T
	db     dbtest.DB
	st     store.Store
	clock  *clock.Fake
	bus    *events.Local
	app    store.App
	script store.Script
	ids    atomic.Int64
	logs   testdeps.Buffer
}

// TestMain drops the PostgreSQL database of the tests (see dbtest).
func TestMain(m *testing.M) { dbtest.Main(m) }

func newEnv(t *testing.T, b dbtest.Backend, start time.Time) *env {
	t.Helper()
	e := &env{t: t, db: dbtest.NewDB(t, b), clock: clock.NewFake(start), bus: events.NewLocal()}
	e.st = e.open()
	e.app = store.App{Slug: "demo"}
	if err := e.st.CreateApp(t.Context(), &e.app); err != nil {
		t.Fatal(err)
	}
	var err error
	e.script, _, err = e.st.DeployScript(t.Context(), e.app.ID, "tick", `event.scheduled_at`, 0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// open opens the env's database; every store opened is closed at the end.
func (e *env) open() store.Store {
	e.t.Helper()
	return e.db.Open(e.t)
}

// schedule creates an enabled schedule due at its first time after now.
func (e *env) schedule(cron, zone string) (store.Schedule, *Spec) {
	e.t.Helper()
	spec, err := ParseSpec(cron, zone)
	if err != nil {
		e.t.Fatal(err)
	}
	s := store.Schedule{AppID: e.app.ID, ScriptID: e.script.ID, Cron: cron, Timezone: zone, Enabled: true,
		Payload: `{"from":"test"}`, NextRun: spec.Next(e.clock.Now())}
	if err := e.st.CreateSchedule(e.t.Context(), &s); err != nil {
		e.t.Fatal(err)
	}
	return s, spec
}

// start starts a scheduler on st, stopped at the end of the test.
func (e *env) start(st store.Store) *Scheduler {
	e.t.Helper()
	s := New(Config{
		Store:  st,
		Bus:    e.bus,
		Logger: slog.New(slog.NewTextHandler(&e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:  e.clock,
		NewID:  func() string { return fmt.Sprintf("job-%06d", e.ids.Add(1)) },
	})
	s.Start()
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			e.t.Error(err)
		}
	})
	return s
}

// armed waits until the earliest armed timers (n of them, one per
// scheduler) are all due at want.
func (e *env) armed(n int, want time.Time) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := e.clock.WaitFor(ctx, func(d []time.Time) bool {
		return len(d) >= n && d[0].Equal(want) && d[n-1].Equal(want)
	})
	if err != nil {
		e.e(fmt.Sprintf("no timer armed for %v; armed: %v", want, e.clock.Timers()))
	}
}

func (e *env) e(msg string) {
	e.t.Helper()
	e.t.Fatalf("%s\nlog:\n%s", msg, e.logs.String())
}

// fired returns the due times of the jobs enqueued, in order.
func (e *env) fired() []time.Time {
	e.t.Helper()
	jobs, err := e.st.ListJobs(e.t.Context(), store.JobFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []time.Time
	for _, j := range jobs {
		if j.Trigger != store.TriggerSchedule || j.Script != "tick" || j.Payload != `{"from":"test"}` {
			e.t.Errorf("job %+v", j)
		}
		out = append(out, j.ScheduledAt)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// TestFiresAcrossDST runs schedules through the days clocks change in New
// York (2025: forward on 9 March at 07:00Z, back on 2 November at 06:00Z)
// and Sydney (back on 6 April at 5 April 16:00Z, forward on 5 October at
// 4 October 16:00Z), and checks that the scheduler sleeps until, and
// fires at, exactly the instants worked out by hand (local readings in
// the comments): a fixed time in the skipped hour fires once, an hour
// later on the wall clock; one in the repeated hour fires once, at its
// first occurrence; every-N-minutes schedules keep their rhythm.
func TestFiresAcrossDST(t *testing.T) { dbtest.Run(t, testFiresAcrossDST) }

func testFiresAcrossDST(t *testing.T, b dbtest.Backend) {
	for _, tc := range []struct {
		name, cron, zone string
		start            string   // UTC
		want             []string // UTC; the last is the timer armed after the others fired
	}{
		{"NY spring forward, 02:30", "30 2 * * *", "America/New_York", "2025-03-07T17:00:00Z", []string{
			"2025-03-08T07:30:00Z", // 02:30 EST
			"2025-03-09T07:30:00Z", // 03:30 EDT
			"2025-03-10T06:30:00Z", // 02:30 EDT
			"2025-03-11T06:30:00Z", // 02:30 EDT
		}},
		{"NY fall back, 01:30", "30 1 * * *", "America/New_York", "2025-11-01T16:00:00Z", []string{
			"2025-11-02T05:30:00Z", // 01:30 EDT, and not again at 01:30 EST
			"2025-11-03T06:30:00Z", // 01:30 EST
			"2025-11-04T06:30:00Z", // 01:30 EST
		}},
		{"NY fall back, 02:30", "30 2 * * *", "America/New_York", "2025-10-31T16:00:00Z", []string{
			"2025-11-01T06:30:00Z", // 02:30 EDT
			"2025-11-02T07:30:00Z", // 02:30 EST
			"2025-11-03T07:30:00Z", // 02:30 EST
		}},
		{"NY spring forward, every 15 minutes", "*/15 * * * *", "America/New_York", "2025-03-09T06:20:00Z", []string{
			"2025-03-09T06:30:00Z", // 01:30 EST
			"2025-03-09T06:45:00Z", // 01:45 EST
			"2025-03-09T07:00:00Z", // 03:00 EDT
			"2025-03-09T07:15:00Z", // 03:15 EDT
		}},
		{"NY fall back, every 15 minutes", "*/15 * * * *", "America/New_York", "2025-11-02T05:35:00Z", []string{
			"2025-11-02T05:45:00Z", // 01:45 EDT
			"2025-11-02T06:00:00Z", // 01:00 EST
			"2025-11-02T06:15:00Z", // 01:15 EST
			"2025-11-02T06:30:00Z", // 01:30 EST
		}},
		{"Sydney fall back, 02:30", "30 2 * * *", "Australia/Sydney", "2025-04-04T00:00:00Z", []string{
			"2025-04-04T15:30:00Z", // 5 April 02:30 AEDT
			"2025-04-05T15:30:00Z", // 6 April 02:30 AEDT, and not again at 02:30 AEST
			"2025-04-06T16:30:00Z", // 7 April 02:30 AEST
		}},
		{"Sydney spring forward, 02:30", "30 2 * * *", "Australia/Sydney", "2025-10-03T00:00:00Z", []string{
			"2025-10-03T16:30:00Z", // 4 October 02:30 AEST
			"2025-10-04T16:30:00Z", // 5 October 03:30 AEDT
			"2025-10-05T15:30:00Z", // 6 October 02:30 AEDT
		}},
		{"Sydney spring forward, every 30 minutes", "*/30 * * * *", "Australia/Sydney", "2025-10-04T15:10:00Z", []string{
			"2025-10-04T15:30:00Z", // 01:30 AEST
			"2025-10-04T16:00:00Z", // 03:00 AEDT
			"2025-10-04T16:30:00Z", // 03:30 AEDT
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []time.Time
			for _, s := range tc.want {
				w, err := time.Parse(time.RFC3339, s)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, w)
			}
			start, err := time.Parse(time.RFC3339, tc.start)
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, b, start)
			e.schedule(tc.cron, tc.zone)
			e.start(e.st)
			n := len(want) - 1
			for _, due := range want[:n] {
				e.armed(1, due)
				e.clock.Set(due)
			}
			e.armed(1, want[n])
			if got := e.fired(); !slices.EqualFunc(got, want[:n], time.Time.Equal) {
				t.Errorf("fired at %v, want %v", got, want[:n])
			}
		})
	}
}

// TestCatchUpOnStart stops a scheduler, lets hours pass, and starts
// another on the same file: the latest missed time fires once, at start,
// the older ones are skipped with a log line, and the next time is the
// first one after now.
func TestCatchUpOnStart(t *testing.T) { dbtest.Run(t, testCatchUpOnStart) }

func testCatchUpOnStart(t *testing.T, b dbtest.Backend) {
	t0 := time.Date(2025, 6, 1, 9, 58, 0, 0, time.UTC)
	e := newEnv(t, b, t0)
	_, spec := e.schedule("*/5 * * * *", "UTC")
	first := spec.Next(t0) // 10:00
	s := e.start(e.st)
	e.armed(1, first)
	e.clock.Set(first)
	e.armed(1, first.Add(5*time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// Down from 10:00 to 13:02: 10:05 … 13:00 were missed.
	now := first.Add(3*time.Hour + 2*time.Minute)
	e.clock.Set(now)
	e.start(e.open())
	e.armed(1, first.Add(3*time.Hour+5*time.Minute))
	got := e.fired()
	want := []time.Time{first, first.Add(3 * time.Hour)}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("fired at %v, want %v", got, want)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "missed") || !strings.Contains(logs, "first_missed=2025-06-01T10:05:00Z") ||
		!strings.Contains(logs, "fired=2025-06-01T13:00:00Z") {
		t.Errorf("no log line about the skipped times:\n%s", logs)
	}

	// A restart without downtime fires nothing again.
	e.start(e.open())
	e.armed(2, first.Add(3*time.Hour+5*time.Minute))
	if n := len(e.fired()); n != 2 {
		t.Errorf("%d firings after a restart without downtime, want 2", n)
	}
}

// TestPauseResume pauses a schedule, lets its times pass, and resumes it:
// nothing fires while paused, and nothing that was missed fires on resume.
func TestPauseResume(t *testing.T) { dbtest.Run(t, testPauseResume) }

func testPauseResume(t *testing.T, b dbtest.Backend) {
	t0 := time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC)
	e := newEnv(t, b, t0)
	sc, spec := e.schedule("* * * * *", "UTC")
	// A yearly schedule keeps a timer armed, so that each pass shows.
	_, yearly := e.schedule("@yearly", "UTC")
	newYear := yearly.Next(t0)
	e.start(e.st)
	first := spec.Next(t0)
	e.armed(1, first)
	e.clock.Set(first)
	e.armed(1, first.Add(time.Minute))

	// Pause, as the manager does: clear the next run, tell the bus.
	sc.Enabled, sc.NextRun = false, time.Time{}
	if err := e.st.UpdateSchedule(t.Context(), &sc); err != nil {
		t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.ScheduleChanged, Key: fmt.Sprint(sc.ID)})
	e.armed(1, newYear)
	e.clock.Set(first.Add(30 * time.Minute))
	e.armed(1, newYear)
	if got := e.fired(); len(got) != 1 {
		t.Fatalf("fired %v while paused, want only %v", got, first)
	}

	// Resume: the next run is the first after now.
	now := e.clock.Now()
	sc.Enabled, sc.NextRun = true, spec.Next(now)
	if err := e.st.UpdateSchedule(t.Context(), &sc); err != nil {
		t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.ScheduleChanged, Key: fmt.Sprint(sc.ID)})
	e.armed(1, spec.Next(now))
	e.clock.Set(spec.Next(now))
	e.armed(1, spec.Next(now).Add(time.Minute))
	want := []time.Time{first, spec.Next(now)}
	if got := e.fired(); !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("fired at %v, want %v", got, want)
	}
}

// TestTwoSchedulersFireOnce runs two schedulers, each with its own store
// on the same file as two processes would, through many due times of
// several schedules: each time fires exactly once.
func TestTwoSchedulersFireOnce(t *testing.T) { dbtest.Run(t, testTwoSchedulersFireOnce) }

func testTwoSchedulersFireOnce(t *testing.T, b dbtest.Backend) {
	t0 := time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC)
	e := newEnv(t, b, t0)
	const schedules, rounds = 3, 10
	for range schedules {
		e.schedule("* * * * *", "UTC")
	}
	queued := make(chan string, schedules*rounds*2)
	for _, st := range []store.Store{e.st, e.open()} {
		s := New(Config{Store: st, Clock: e.clock, NewID: func() string { return fmt.Sprintf("job-%06d", e.ids.Add(1)) },
			Fired: func(id string) { queued <- id }})
		s.Start()
		t.Cleanup(func() { s.Close(context.Background()) })
	}
	due := time.Date(2025, 6, 1, 10, 1, 0, 0, time.UTC)
	for range rounds {
		e.armed(2, due)
		e.clock.Set(due)
		due = due.Add(time.Minute)
	}
	e.armed(2, due)
	jobs, err := e.st.ListJobs(t.Context(), store.JobFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{} // "schedule@time" → jobs
	for _, j := range jobs {
		count[fmt.Sprintf("%d@%s", j.ScheduleID, j.ScheduledAt.Format(time.RFC3339))]++
	}
	if len(jobs) != schedules*rounds || len(count) != schedules*rounds {
		t.Errorf("%d jobs for %d distinct due times, want %d of each", len(jobs), len(count), schedules*rounds)
	}
	for k, n := range count {
		if n != 1 {
			t.Errorf("%s fired %d times", k, n)
		}
	}
	if n := len(queued); n != schedules*rounds {
		t.Errorf("Fired called %d times, want %d", n, schedules*rounds)
	}
}
