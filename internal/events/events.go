// Package events carries change notifications between PiCloud's services:
// the manager publishes that a script was deployed or deleted, and every
// orchestrator drops its compiled copy. In one process a Local bus calls
// the subscribers directly; in a cluster a PostgreSQL LISTEN/NOTIFY bus
// carries the same events between processes.
package events

import "sync"

// Kind names an event.
type Kind string

// Events.
const (
	ScriptChanged Kind = "script_changed" // a deploy or delete: Key is "app/script"
	AppChanged    Kind = "app_changed"    // app deleted, its limits changed, or a project deployed (its scripts together): Key is the slug
	// ScheduleChanged: a schedule was created, changed or deleted, so its
	// next due time may have moved; Key is its id. Schedulers re-plan.
	ScheduleChanged Kind = "schedule_changed"
	// JobQueued: a job is ready to run (enqueued, fired by a schedule or
	// re-queued); Key is its id. Queue consumers wake up.
	JobQueued Kind = "job_queued"
	// InvocationsLogged: invocation records were written; Key names the
	// app and the records (see InvocationsKey). Live log streams read
	// them. Large batches come as several events.
	InvocationsLogged Kind = "invocations_logged"
)

// Event is one notification.
type Event struct {
	Kind Kind   `json:"kind"`
	Key  string `json:"key"`
}

// Bus delivers events to subscribers, at least to those in this process.
type Bus interface {
	Publish(e Event)
	Subscribe(fn func(Event))
}

// TxBus is a Bus that can send an event to the other processes from
// within a database transaction, so that it reaches them if and only if
// the transaction commits: PostgreSQL delivers a NOTIFY at commit. A
// change and the event that tells the caches of every node about it then
// cannot part, even when the process dies between the two.
type TxBus interface {
	Bus
	// Notification returns the channel and the payload of the
	// notification that carries e to the other processes.
	Notification(e Event) (channel, payload string, err error)
	// Deliver calls the subscribers of this process with e.
	Deliver(e Event)
}

// Local is an in-process bus: Publish calls every subscriber synchronously.
type Local struct {
	mu   sync.RWMutex
	subs []func(Event)
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local { return &Local{} }

// Publish calls every subscriber with e.
func (b *Local) Publish(e Event) {
	b.mu.RLock()
	subs := b.subs
	b.mu.RUnlock()
	for _, fn := range subs {
		fn(e)
	}
}

// Subscribe adds fn; it is called for every event published afterwards.
func (b *Local) Subscribe(fn func(Event)) {
	b.mu.Lock()
	b.subs = append(b.subs[:len(b.subs):len(b.subs)], fn)
	b.mu.Unlock()
}
