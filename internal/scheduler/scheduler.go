// Package scheduler fires PiCloud's cron schedules. It turns each due time
// of an enabled schedule into a job in the durable queue, which the
// orchestrator runs like an async invocation with trigger "schedule".
//
// Exactly once: every schedule's next due time is kept in the database,
// and a firing claims it with a compare-and-set (Store.FireSchedule) that
// also enqueues the job, in one transaction. Two schedulers on one
// database — two processes, or nodes of a cluster — cannot both claim a
// time, and a time is never claimed without its job. After downtime the
// latest missed time fires once, at start-up, and older ones are skipped
// with a log line.
//
// No polling: one goroutine sleeps on a timer until the earliest next due
// time and is woken early when a schedule changes (events.ScheduleChanged).
// The time comes from a clock.Clock, so tests move it by hand.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/internal/clock"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
)

// Tuning.
const (
	// batch is how many due schedules one store read returns.
	batch = 100
	// retryAfter is how long the scheduler waits after a store failure.
	retryAfter = 30 * time.Second
	// storeTimeout bounds one pass over the due schedules.
	storeTimeout = time.Minute
)

// Config configures a Scheduler. Store and NewID are required.
type Config struct {
	Store store.Store
	// Bus wakes the scheduler on ScheduleChanged events, and carries a
	// JobQueued event for every job it enqueues. Without a bus, call Wake
	// after changing a schedule.
	Bus    events.Bus
	Logger *slog.Logger // nil: discard
	Clock  clock.Clock  // nil: the real clock
	// NewID returns a new job id (an invocation id).
	NewID func() string
	// Fired, when set, is called after each job the scheduler enqueues,
	// as well as the JobQueued event.
	Fired func(jobID string)
}

// Scheduler fires due schedules. Start starts it; Close stops it for good.
type Scheduler struct {
	st    store.Store
	bus   events.Bus
	log   *slog.Logger
	clock clock.Clock
	newID func() string
	fired func(string)

	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	started atomic.Bool
}

// New returns a scheduler, subscribed to cfg.Bus; it does nothing until
// Start.
func New(cfg Config) *Scheduler {
	s := &Scheduler{
		st:    cfg.Store,
		bus:   cfg.Bus,
		log:   cfg.Logger,
		clock: cfg.Clock,
		newID: cfg.NewID,
		fired: cfg.Fired,
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.bus != nil {
		s.bus.Subscribe(func(e events.Event) {
			if e.Kind == events.ScheduleChanged {
				s.Wake()
			}
		})
	}
	return s
}

// Start starts the scheduler's goroutine. Its first pass fires what was
// missed while the server was down.
func (s *Scheduler) Start() {
	if s.started.CompareAndSwap(false, true) {
		go s.loop()
	}
}

// Wake makes the scheduler look at the schedules again: one was created,
// changed or deleted. It never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close stops the scheduler and waits for it, or for ctx. A firing in
// progress completes: its claim and job are one transaction.
func (s *Scheduler) Close(ctx context.Context) error {
	s.once.Do(func() { close(s.stop) })
	if !s.started.Load() {
		return nil
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("scheduler: stopping: %w", ctx.Err())
	}
}

func (s *Scheduler) loop() {
	defer close(s.done)
	for {
		next, err := s.pass()
		var wait <-chan time.Time
		var timer clock.Timer
		switch {
		case err != nil:
			s.log.Error("scheduler: unable to fire schedules; trying again later", "retry_in", retryAfter, "err", err)
			timer = s.clock.NewTimer(retryAfter)
		case !next.IsZero():
			timer = s.clock.NewTimer(next.Sub(s.clock.Now()))
		}
		if timer != nil {
			wait = timer.C()
		}
		select {
		case <-s.stop:
		case <-s.wake:
		case <-wait:
		}
		if timer != nil {
			timer.Stop()
		}
		select {
		case <-s.stop:
			return
		default:
		}
	}
}

// pass fires every schedule due now and returns the next due time (zero
// when no schedule is enabled).
func (s *Scheduler) pass() (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	now := s.clock.Now()
	for {
		due, err := s.st.DueSchedules(ctx, now, batch)
		if err != nil {
			return time.Time{}, err
		}
		for _, sc := range due {
			if err := s.fire(ctx, sc, now); err != nil {
				return time.Time{}, err
			}
		}
		if len(due) < batch {
			break
		}
	}
	return s.st.NextScheduleRun(ctx)
}

// fire claims the latest due time of sc at or before now and enqueues its
// job. Losing the claim is no error: another scheduler fired it, or the
// schedule changed, and the next pass sees its new state.
func (s *Scheduler) fire(ctx context.Context, sc store.Schedule, now time.Time) error {
	spec, err := ParseSpec(sc.Cron, sc.Timezone)
	if err != nil {
		// Schedules are checked when written; this can only come from a
		// time zone that disappeared. Pause it rather than retry forever.
		s.log.Error("scheduler: a schedule no longer parses; pausing it", "schedule", sc.ID, "app", sc.AppSlug,
			"cron", sc.Cron, "timezone", sc.Timezone, "err", err)
		sc.Enabled, sc.NextRun = false, time.Time{}
		if err := s.st.UpdateSchedule(ctx, &sc); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}
	fireAt, skipped := spec.Latest(sc.NextRun, now)
	f := store.ScheduleFiring{
		ScheduleID: sc.ID,
		Due:        sc.NextRun,
		FireAt:     fireAt,
		Next:       spec.Next(fireAt),
		JobID:      s.newID(),
		RunAt:      now,
	}
	won, err := s.st.FireSchedule(ctx, f)
	if err != nil {
		return fmt.Errorf("scheduler: unable to fire schedule %d: %w", sc.ID, err)
	}
	if !won {
		s.log.Debug("scheduler: a due time was claimed elsewhere", "schedule", sc.ID, "due", sc.NextRun)
		return nil
	}
	if skipped {
		s.log.Warn("scheduler: due times were missed while the server was down; firing the latest once and skipping the older ones",
			"schedule", sc.ID, "app", sc.AppSlug, "script", sc.Script,
			"first_missed", sc.NextRun.Format(time.RFC3339), "fired", fireAt.Format(time.RFC3339))
	}
	s.log.Info("scheduler: fired", "schedule", sc.ID, "app", sc.AppSlug, "script", sc.Script,
		"scheduled_at", fireAt.Format(time.RFC3339), "job", f.JobID, "next", f.Next.Format(time.RFC3339))
	if s.bus != nil {
		s.bus.Publish(events.Event{Kind: events.JobQueued, Key: f.JobID})
	}
	if s.fired != nil {
		s.fired(f.JobID)
	}
	return nil
}
