package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// KV is the key-value store the kv module reaches, keyed by app id:
// store.Store satisfies it. Without one (an executor process started
// without a database) every kv function fails with a clear error.
type KV interface {
	KVGet(ctx context.Context, appID int64, key string, now time.Time) (store.KVEntry, error)
	KVSet(ctx context.Context, appID int64, key string, value []byte, expiresAt time.Time, lim store.KVLimits, now time.Time) error
	KVIncr(ctx context.Context, appID int64, key string, n int64, lim store.KVLimits, now time.Time) (int64, error)
	KVDelete(ctx context.Context, appID int64, key string, now time.Time) (bool, error)
	KVList(ctx context.Context, appID int64, f store.KVFilter, now time.Time) ([]store.KVEntry, error)
}

// maxTTLSeconds bounds a key's time to live: a hundred years.
const maxTTLSeconds int64 = 100 * 365 * 24 * 60 * 60

// registerKV adds the kv module, reached as kv::get(…) without an import:
//
//	kv::get(key) → the value, or () when absent; kv::get(key, default)
//	kv::set(key, value); kv::set(key, value, ttl_seconds)
//	kv::delete(key) → whether the key existed
//	kv::list(); kv::list(prefix); kv::list(prefix, limit) → keys, sorted
//	kv::incr(key); kv::incr(key, n) → the new integer
//
// Values are stored as JSON. Every call runs under the run's context, so
// it counts against the script's deadline. Failures are runtime errors a
// script may catch, but for the deadline, which ends the run.
func registerKV(e *rhai.Engine) {
	m := rhai.NewModule()
	lib := m.Lib()
	any1, any2, any3 := rhai.P(rhai.TypeAny), rhai.P(rhai.TypeAny, rhai.TypeAny), rhai.P(rhai.TypeAny, rhai.TypeAny, rhai.TypeAny)
	lib.Fn("get", any1, func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return kvGet(c, args[0], rhai.Unit)
	})
	lib.Fn("get", any2, func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return kvGet(c, args[0], args[1])
	})
	lib.Fn("set", any2, func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return rhai.Unit, kvSet(c, args[0], args[1], rhai.Unit)
	})
	lib.Fn("set", any3, func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return rhai.Unit, kvSet(c, args[0], args[1], args[2])
	})
	lib.Fn("delete", any1, kvDelete)
	lib.Fn("list", rhai.P(), func(c *rhai.Context, _ []rhai.Value) (rhai.Value, error) {
		return kvList(c, rhai.String(""), rhai.Int(store.MaxKVList))
	})
	lib.Fn("list", any1, func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return kvList(c, args[0], rhai.Int(store.MaxKVList))
	})
	lib.Fn("list", any2, func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return kvList(c, args[0], args[1])
	})
	lib.Fn("incr", any1, func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return kvIncr(c, args[0], rhai.Int(1))
	})
	lib.Fn("incr", any2, func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return kvIncr(c, args[0], args[1])
	})
	e.RegisterModule("kv", m)
}

// kvFor returns the store and limits of the running script's app.
func kvFor(c *rhai.Context, fn string) (*runHost, error) {
	h, _ := c.Host().(*runHost)
	switch {
	case h == nil || h.kv == nil && h.replay == nil:
		return nil, kvError(fn, "kv is not available: the executor has no database")
	case h.ev == nil || h.ev.AppID == 0:
		return nil, kvError(fn, "kv is not available: the run has no app")
	}
	return h, nil
}

func kvError(fn, format string, a ...any) error {
	return rhai.NewError(rhai.ErrorRuntime, "%s: %s", fn, fmt.Sprintf(format, a...))
}

// kvFailed turns an error of the store into the script's error. Past the
// deadline the run ends as a timeout, as it would between two statements.
func kvFailed(c *rhai.Context, fn string, err error) error {
	if cerr := c.Context().Err(); cerr != nil {
		return rhai.NewError(rhai.ErrorTerminated, "Script terminated: %v", cerr)
	}
	var qe *store.QuotaError
	switch {
	case errors.As(err, &qe):
		return kvError(fn, "%s", qe.Error())
	case errors.Is(err, store.ErrKVNotInteger):
		return kvError(fn, "the value is not an integer")
	case errors.Is(err, store.ErrKVOverflow):
		return kvError(fn, "the sum overflows 64 bits")
	case store.IsFull(err):
		if h, ok := c.Host().(*runHost); ok {
			h.kvFull = true
		}
		return kvError(fn, "the server's storage is full: nothing was saved")
	}
	return kvError(fn, "the store failed: %v", err)
}

// kvKey checks a key argument.
func kvKey(fn string, v rhai.Value) (string, error) {
	if v.Type() != rhai.TypeString {
		return "", kvError(fn, "the key must be a string, not %s", v.TypeName())
	}
	key := v.AsString()
	if err := store.ValidKVKey(key); err != nil {
		return "", kvError(fn, "%v", err)
	}
	return key, nil
}

func kvGet(c *rhai.Context, keyArg, def rhai.Value) (rhai.Value, error) {
	const fn = "kv::get"
	key, err := kvKey(fn, keyArg)
	if err != nil {
		return rhai.Unit, err
	}
	h, err := kvFor(c, fn)
	if err != nil {
		return rhai.Unit, err
	}
	e, err := h.kvGet(c, key)
	if errors.Is(err, store.ErrNotFound) {
		return def, nil
	}
	if err != nil {
		return rhai.Unit, kvFailed(c, fn, err)
	}
	// The decoded value is at least as large as its text: refuse early
	// what the script's memory bound could not hold.
	if err := c.CheckSize(len(e.Value), -1, -1, -1); err != nil {
		return rhai.Unit, err
	}
	v, err := rhai.FromJSON(e.Value)
	if err != nil {
		return rhai.Unit, kvError(fn, "the value of %q is not JSON: %v", key, err)
	}
	return v, nil
}

func kvSet(c *rhai.Context, keyArg, value, ttl rhai.Value) error {
	const fn = "kv::set"
	key, err := kvKey(fn, keyArg)
	if err != nil {
		return err
	}
	var expires time.Time
	now := time.Now()
	if !ttl.IsUnit() {
		if ttl.Type() != rhai.TypeInt || ttl.AsInt() <= 0 || ttl.AsInt() > maxTTLSeconds {
			return kvError(fn, "ttl_seconds must be an integer from 1 to %d, not %s", maxTTLSeconds, ttl.String())
		}
		expires = now.Add(time.Duration(ttl.AsInt()) * time.Second)
	}
	h, err := kvFor(c, fn)
	if err != nil {
		return err
	}
	data, err := kvJSON(fn, value)
	if err != nil {
		return err
	}
	if err := store.CheckKVValue(int64(len(data)), h.kvLimits); err != nil {
		return kvError(fn, "%v", err)
	}
	if err := h.kvSet(c, key, data, ttl, expires, now); err != nil {
		return kvFailed(c, fn, err)
	}
	return nil
}

func kvDelete(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
	const fn = "kv::delete"
	key, err := kvKey(fn, args[0])
	if err != nil {
		return rhai.Unit, err
	}
	h, err := kvFor(c, fn)
	if err != nil {
		return rhai.Unit, err
	}
	existed, err := h.kvDelete(c, key)
	if err != nil {
		return rhai.Unit, kvFailed(c, fn, err)
	}
	return rhai.Bool(existed), nil
}

func kvList(c *rhai.Context, prefixArg, limitArg rhai.Value) (rhai.Value, error) {
	const fn = "kv::list"
	if prefixArg.Type() != rhai.TypeString {
		return rhai.Unit, kvError(fn, "the prefix must be a string, not %s", prefixArg.TypeName())
	}
	if limitArg.Type() != rhai.TypeInt || limitArg.AsInt() < 1 || limitArg.AsInt() > store.MaxKVList {
		return rhai.Unit, kvError(fn, "the limit must be an integer from 1 to %d, not %s", store.MaxKVList, limitArg.String())
	}
	h, err := kvFor(c, fn)
	if err != nil {
		return rhai.Unit, err
	}
	list, err := h.kvList(c, prefixArg.AsString(), int(limitArg.AsInt()))
	if err != nil {
		return rhai.Unit, kvFailed(c, fn, err)
	}
	if err := c.CheckSize(-1, len(list), -1, -1); err != nil {
		return rhai.Unit, err
	}
	keys := make([]rhai.Value, len(list))
	for i, e := range list {
		keys[i] = rhai.String(e.Key)
	}
	return rhai.NewArray(keys), nil
}

func kvIncr(c *rhai.Context, keyArg, n rhai.Value) (rhai.Value, error) {
	const fn = "kv::incr"
	key, err := kvKey(fn, keyArg)
	if err != nil {
		return rhai.Unit, err
	}
	if n.Type() != rhai.TypeInt {
		return rhai.Unit, kvError(fn, "the increment must be an integer, not %s", n.TypeName())
	}
	h, err := kvFor(c, fn)
	if err != nil {
		return rhai.Unit, err
	}
	sum, err := h.kvIncr(c, key, n.AsInt())
	if err != nil {
		return rhai.Unit, kvFailed(c, fn, err)
	}
	return rhai.Int(sum), nil
}

// kvJSON encodes a value to store. Only what JSON represents, and reads
// back as the same value, may be stored: (), booleans, numbers, strings,
// characters (read back as strings), arrays and maps of these.
func kvJSON(fn string, v rhai.Value) ([]byte, error) {
	if err := storable(v, "", 0); err != nil {
		return nil, kvError(fn, "%v", err)
	}
	data, err := rhai.ToJSON(v)
	if err != nil {
		return nil, kvError(fn, "the value cannot be stored as JSON: %v", err)
	}
	return data, nil
}

// maxStoredDepth bounds the nesting of a stored value.
const maxStoredDepth = 64

// storable fails on the first part of v that JSON cannot hold; path
// locates it ("" for v itself, ".a[2]" inside).
func storable(v rhai.Value, path string, depth int) error {
	v = v.Flatten()
	where := func() string {
		if path == "" {
			return ""
		}
		return " (at " + path + ")"
	}
	if depth > maxStoredDepth {
		return fmt.Errorf("the value is nested deeper than %d levels%s", maxStoredDepth, where())
	}
	switch v.Type() {
	case rhai.TypeUnit, rhai.TypeBool, rhai.TypeInt, rhai.TypeFloat, rhai.TypeChar, rhai.TypeString:
		return nil
	case rhai.TypeArray:
		for i, e := range v.AsArray().Elems {
			if err := storable(e, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case rhai.TypeMap:
		m := v.AsMap()
		for _, k := range m.Keys() {
			if err := storable(m.M[k], path+"."+k, depth+1); err != nil {
				return err
			}
		}
		return nil
	case rhai.TypeBlob:
		return fmt.Errorf("a blob cannot be stored as JSON%s; store a string or an array of its bytes", where())
	}
	return fmt.Errorf("a value of type %s cannot be stored as JSON%s", v.TypeName(), where())
}
