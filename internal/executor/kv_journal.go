package executor

import (
	"errors"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// The kv calls of a run go through these methods, which journal them
// when the run records and answer them from the journal when it replays.

// replayedError is the error a journaled call ended with, given again by
// its replay.
func replayedError(e JournalEntry) error {
	if e.Err == "" {
		return nil
	}
	return errors.New(e.Err)
}

// errText is err's message for a journal; "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (h *runHost) kvGet(c *rhai.Context, key string) (store.KVEntry, error) {
	if s := h.replay; s != nil {
		e, ok := s.next(store.JournalKVGet, key)
		switch {
		case !ok:
			s.newEffect(JournalEntry{Op: store.JournalKVGet, Key: key})
			return store.KVEntry{}, store.ErrNotFound
		case e.Err != "":
			return store.KVEntry{}, replayedError(e)
		case !e.Found:
			return store.KVEntry{}, store.ErrNotFound
		}
		return store.KVEntry{Key: key, Value: []byte(s.unredactJSON(e.Value))}, nil
	}
	kv, err := h.kv.KVGet(c.Context(), h.ev.AppID, key, time.Now())
	if h.rec.on {
		je := JournalEntry{Op: store.JournalKVGet, Key: key, Found: err == nil, Value: string(kv.Value)}
		if !errors.Is(err, store.ErrNotFound) {
			je.Err = errText(err)
		}
		h.rec.add(je)
	}
	return kv, err
}

func (h *runHost) kvList(c *rhai.Context, prefix string, limit int) ([]store.KVEntry, error) {
	if s := h.replay; s != nil {
		e, ok := s.nextFunc(func(e JournalEntry) bool {
			return e.Op == store.JournalKVList && e.Key == prefix && e.N == int64(limit)
		})
		if !ok {
			s.newEffect(JournalEntry{Op: store.JournalKVList, Key: prefix, N: int64(limit)})
			return nil, nil
		}
		list := make([]store.KVEntry, len(e.Keys))
		for i, k := range e.Keys {
			list[i].Key = s.unredact(k)
		}
		return list, replayedError(e)
	}
	list, err := h.kv.KVList(c.Context(), h.ev.AppID, store.KVFilter{Prefix: prefix, Limit: limit}, time.Now())
	if h.rec.on {
		keys := make([]string, len(list))
		for i, e := range list {
			keys[i] = e.Key
		}
		h.rec.add(JournalEntry{Op: store.JournalKVList, Key: prefix, N: int64(limit), Keys: keys, Err: errText(err)})
	}
	return list, err
}

func (h *runHost) kvSet(c *rhai.Context, key string, data []byte, ttl rhai.Value, expires, now time.Time) error {
	je := JournalEntry{Op: store.JournalKVSet, Key: key, Value: string(data)}
	if !ttl.IsUnit() {
		je.N = ttl.AsInt()
	}
	if s := h.replay; s != nil {
		s.write(je)
		return nil
	}
	err := h.kv.KVSet(c.Context(), h.ev.AppID, key, data, expires, h.kvLimits, now)
	if h.rec.on {
		je.Err = errText(err)
		h.rec.add(je)
	}
	return err
}

func (h *runHost) kvDelete(c *rhai.Context, key string) (bool, error) {
	if s := h.replay; s != nil {
		e, _ := s.next(store.JournalKVDelete, key)
		s.write(JournalEntry{Op: store.JournalKVDelete, Key: key, Found: e.Found})
		return e.Found, nil
	}
	existed, err := h.kv.KVDelete(c.Context(), h.ev.AppID, key, time.Now())
	h.rec.add(JournalEntry{Op: store.JournalKVDelete, Key: key, Found: existed, Err: errText(err)})
	return existed, err
}

// kvIncr answers a replay with the value production's increment of the
// key made, moved by the difference of the increments; an increment of a
// key production never changed is a new effect (it reads the key), which
// answers as if the key were absent.
func (h *runHost) kvIncr(c *rhai.Context, key string, n int64) (int64, error) {
	if s := h.replay; s != nil {
		e, ok := s.next(store.JournalKVIncr, key)
		sum := n
		if ok {
			sum = e.Int - e.N + n
		} else {
			s.newEffect(JournalEntry{Op: store.JournalKVIncr, Key: key, N: n})
		}
		s.write(JournalEntry{Op: store.JournalKVIncr, Key: key, N: n, Int: sum})
		return sum, nil
	}
	sum, err := h.kv.KVIncr(c.Context(), h.ev.AppID, key, n, h.kvLimits, time.Now())
	h.rec.add(JournalEntry{Op: store.JournalKVIncr, Key: key, N: n, Int: sum, Err: errText(err)})
	return sum, err
}
