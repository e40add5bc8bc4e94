package auth

import (
	"container/list"
	"sync"
	"time"
)

// Recent remembers keys for a while: the (user, address) pairs that signed
// in, which the per-user sign-in ceiling then lets through. It holds at
// most maxKeys keys, forgetting the least recently added first, and runs
// no goroutine. It is safe for concurrent use.
type Recent struct {
	ttl     time.Duration
	maxKeys int
	now     func() time.Time

	mu    sync.Mutex
	keys  map[string]*list.Element // of *recentEntry
	order *list.List               // most recently added first
}

type recentEntry struct {
	key   string
	added time.Time
}

// NewRecent returns an empty set whose keys last ttl; now is the clock.
func NewRecent(ttl time.Duration, maxKeys int, now func() time.Time) *Recent {
	return &Recent{ttl: ttl, maxKeys: max(1, maxKeys), now: now, keys: make(map[string]*list.Element), order: list.New()}
}

// Add remembers key from now on.
func (r *Recent) Add(key string) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.keys[key]; ok {
		el.Value.(*recentEntry).added = now
		r.order.MoveToFront(el)
		return
	}
	for r.order.Len() >= r.maxKeys {
		r.remove(r.order.Back())
	}
	r.keys[key] = r.order.PushFront(&recentEntry{key: key, added: now})
}

// Has reports whether key was added less than the ttl ago.
func (r *Recent) Has(key string) bool {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.keys[key]
	if !ok {
		return false
	}
	if now.Sub(el.Value.(*recentEntry).added) >= r.ttl {
		r.remove(el)
		return false
	}
	return true
}

func (r *Recent) remove(el *list.Element) {
	r.order.Remove(el)
	delete(r.keys, el.Value.(*recentEntry).key)
}
