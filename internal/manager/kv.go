package manager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// The key-value store of an app, as its members see it: viewers list keys
// and read values, editors write and delete them. Values are JSON; the
// app's scripts reach the same keys through the kv module.

// defaultKVListLimit is how many keys a list returns without ?limit=.
const defaultKVListLimit = 100

// maxKVTTLSeconds bounds ttl_seconds: a hundred years, as for scripts.
const maxKVTTLSeconds int64 = 100 * 365 * 24 * 60 * 60

func toKVEntry(e store.KVEntry) api.KVEntry {
	r := api.KVEntry{Key: e.Key, Size: e.Size, UpdatedAt: utc(e.UpdatedAt), ExpiresAt: optionalTime(e.ExpiresAt)}
	if e.Value != nil {
		r.Value = json.RawMessage(e.Value)
	}
	return r
}

// appKey is appFor, then the {key...} path value, checked: 422 when
// invalid.
func (m *Manager) appKey(r *http.Request, c *caller, need access) (store.App, string, error) {
	app, err := m.appFor(r, c, need)
	if err != nil {
		return store.App{}, "", err
	}
	key := r.PathValue("key")
	if err := store.ValidKVKey(key); err != nil {
		return store.App{}, "", httpx.Invalid("%v", err)
	}
	return app, key, nil
}

// listKV lists the live keys of the app, in byte order: ?prefix= selects
// the keys that start with it (literally), ?after= continues after a key,
// ?limit= (1 to 1000, default 100) bounds the page.
func (m *Manager) listKV(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.KVFilter{Prefix: q.Get("prefix"), After: q.Get("after"), Limit: defaultKVListLimit}
	for name, v := range map[string]string{"prefix": f.Prefix, "after": f.After} {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return httpx.Invalid("%s must be UTF-8 text without NUL", name)
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxKVList {
			return httpx.Invalid("limit must be an integer from 1 to %d, not %q", store.MaxKVList, v)
		}
		f.Limit = n
	}
	list, err := m.store.KVList(r.Context(), app.ID, f, m.now())
	if err != nil {
		return fmt.Errorf("manager: unable to list the keys of app %q: %w", app.Slug, err)
	}
	out := make([]api.KVEntry, 0, len(list))
	for _, e := range list {
		out = append(out, toKVEntry(e))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getKV answers a key with its value; 404 when it is absent or expired.
func (m *Manager) getKV(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, key, err := m.appKey(r, c, canRead)
	if err != nil {
		return err
	}
	e, err := m.store.KVGet(r.Context(), app.ID, key, m.now())
	if err != nil {
		return storeErr(err, fmt.Sprintf("key %q not found in app %q", key, app.Slug), "")
	}
	httpx.WriteJSON(w, http.StatusOK, toKVEntry(e))
	return nil
}

// putKV stores a value: 200 with the key (without the value). A value or
// an app over its limits is 413, with the code too_large for the value
// and quota_exceeded for the app's total bytes or keys.
func (m *Manager) putKV(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, key, err := m.appKey(r, c, canEdit)
	if err != nil {
		return err
	}
	lim := m.kvLimits.Merge(app.Limits)
	// Room for the value written with indentation; it is checked once
	// compacted.
	var req api.PutKVRequest
	if err := httpx.DecodeJSON(r, &req, 2*lim.MaxValueBytes+MaxBodyBytes); err != nil {
		return err
	}
	if req.Value == nil {
		return httpx.Invalid(`value is required: {"value": <any JSON value>}`)
	}
	var value bytes.Buffer
	if err := json.Compact(&value, req.Value); err != nil {
		return httpx.BadRequest("malformed JSON value: %v", err)
	}
	if !utf8.Valid(value.Bytes()) {
		return httpx.Invalid("the value is not valid UTF-8")
	}
	now := m.now()
	var expires time.Time
	if req.TTLSeconds != nil {
		if n := *req.TTLSeconds; n < 1 || n > maxKVTTLSeconds {
			return httpx.Invalid("ttl_seconds must be an integer from 1 to %d, not %d", maxKVTTLSeconds, n)
		}
		expires = now.Add(time.Duration(*req.TTLSeconds) * time.Second)
	}
	if err := m.store.KVSet(r.Context(), app.ID, key, value.Bytes(), expires, lim, now); err != nil {
		return kvQuotaErr(fmt.Errorf("manager: unable to set key %q of app %q: %w", key, app.Slug, err))
	}
	httpx.WriteJSON(w, http.StatusOK, toKVEntry(store.KVEntry{Key: key, Size: int64(value.Len()), ExpiresAt: expires, UpdatedAt: now}))
	return nil
}

// kvQuotaErr maps a refused write to 413; other errors pass through.
func kvQuotaErr(err error) error {
	var qe *store.QuotaError
	if !errors.As(err, &qe) {
		return err
	}
	code := "quota_exceeded"
	if qe.Limit == store.QuotaValue {
		code = "too_large"
	}
	return &httpx.Error{Status: http.StatusRequestEntityTooLarge, Code: code, Message: qe.Error()}
}

// deleteKV removes a key: 204, or 404 when there was none.
func (m *Manager) deleteKV(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, key, err := m.appKey(r, c, canEdit)
	if err != nil {
		return err
	}
	existed, err := m.store.KVDelete(r.Context(), app.ID, key, m.now())
	if err != nil {
		return fmt.Errorf("manager: unable to delete key %q of app %q: %w", key, app.Slug, err)
	}
	if !existed {
		return httpx.NotFound("key %q not found in app %q", key, app.Slug)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
