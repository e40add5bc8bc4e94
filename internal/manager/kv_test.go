package manager

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// seedKV adds the fixture's keys (see env).
func seedKV(ctx context.Context, st store.Store, f *fixture, at time.Time) error {
	for _, k := range []struct {
		app, key, value string
	}{
		{"demo", "greeting", `"hello"`},
		{"demo", "user/1", `{"name":"ann"}`},
		{"other", "secret", `1`},
	} {
		if err := st.KVSet(ctx, f.apps[k.app].ID, k.key, []byte(k.value), time.Time{}, store.KVLimits{}, at); err != nil {
			return err
		}
	}
	return nil
}

// kvValue returns the stored value of a key of demo, or "absent".
func (e *env) kvValue(key string) string {
	e.t.Helper()
	ent, err := e.st.KVGet(context.Background(), e.apps["demo"].ID, key, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return "absent"
	}
	e.must(err)
	return string(ent.Value)
}

// wantValue checks the stored value of a key of demo.
func wantValue(key, want string) func(t *testing.T, e *env, _ response) {
	return func(t *testing.T, e *env, _ response) {
		if got := e.kvValue(key); got != want {
			t.Errorf("stored %s = %s, want %s", key, got, want)
		}
	}
}

func TestKVScenarios(t *testing.T) {
	const kv = "/api/v1/apps/demo/kv"
	runScenarios(t, []scenario{
		{name: "list", method: "GET", url: kv, as: asViewer, status: 200,
			check: func(t *testing.T, e *env, res response) {
				var list []api.KVEntry
				res.decode(t, &list)
				if len(list) != 2 || list[0].Key != "greeting" || list[1].Key != "user/1" {
					t.Fatalf("list %+v", list)
				}
				if l := list[1]; l.Size != 14 || l.Value != nil || l.ExpiresAt != nil || l.UpdatedAt.IsZero() {
					t.Errorf("entry %+v", l)
				}
				if strings.Contains(res.body, `"value"`) {
					t.Errorf("a list carries values: %s", res.body)
				}
			}},
		{name: "list by prefix", method: "GET", url: kv + "?prefix=user/", as: asViewer, status: 200,
			contains: []string{`"key":"user/1"`}, notContains: []string{`"greeting"`}},
		{name: "list prefix is literal", method: "GET", url: kv + "?prefix=%25", as: asViewer, status: 200,
			check: func(t *testing.T, e *env, res response) {
				if res.body != "[]\n" {
					t.Errorf("prefix %%: %s", res.body)
				}
			}},
		{name: "list page", method: "GET", url: kv + "?limit=1&after=greeting", as: asViewer, status: 200,
			contains: []string{`"key":"user/1"`}, notContains: []string{`"greeting"`}},
		{name: "list limit too large", method: "GET", url: kv + "?limit=1001", as: asViewer, status: 422,
			contains: []string{"limit must be an integer from 1 to 1000"}},
		{name: "list prefix not UTF-8", method: "GET", url: kv + "?prefix=%FF", as: asViewer, status: 422,
			contains: []string{"prefix must be UTF-8 text without NUL"}},
		{name: "list without expired keys", method: "GET", url: kv, as: asViewer, status: 200,
			before: func(t *testing.T, e *env) {
				past := time.Now().Add(-time.Minute)
				e.must(e.st.KVSet(context.Background(), e.apps["demo"].ID, "gone", []byte(`1`), past, store.KVLimits{}, past.Add(-time.Hour)))
			},
			contains: []string{`"greeting"`}, notContains: []string{`"gone"`}},

		{name: "get", method: "GET", url: kv + "/user/1", as: asViewer, status: 200,
			contains: []string{`{"key":"user/1","value":{"name":"ann"},"size":14,"updated_at":"`, `"expires_at":null}`}},
		{name: "get with an escaped slash", method: "GET", url: kv + "/user%2F1", as: asViewer, status: 200,
			contains: []string{`"value":{"name":"ann"}`}},
		{name: "get absent", method: "GET", url: kv + "/nope", as: asViewer, status: 404,
			contains: []string{`key \"nope\" not found in app \"demo\"`}},
		{name: "get empty key", method: "GET", url: kv + "/", as: asViewer, status: 422,
			contains: []string{"the key is empty"}},
		{name: "get key too long", method: "GET", url: kv + "/" + strings.Repeat("k", 257), as: asViewer, status: 422,
			contains: []string{"the key of 257 bytes is longer than the limit of 256"}},

		{name: "put", method: "PUT", url: kv + "/cart/42", as: asEditor, body: `{"value": {"items": [1, 2], "total": 9.5}}`, status: 200,
			contains: []string{`{"key":"cart/42","size":27,`, `"expires_at":null}`}, notContains: []string{`"value"`},
			check: wantValue("cart/42", `{"items":[1,2],"total":9.5}`)},
		{name: "put replaces", method: "PUT", url: kv + "/greeting", as: asEditor, body: `{"value": "hi"}`, status: 200,
			check: wantValue("greeting", `"hi"`)},
		{name: "put null", method: "PUT", url: kv + "/nothing", as: asEditor, body: `{"value": null}`, status: 200,
			check: wantValue("nothing", `null`)},
		{name: "put with ttl", method: "PUT", url: kv + "/session", as: asEditor, body: `{"value": 1, "ttl_seconds": 3600}`, status: 200,
			check: func(t *testing.T, e *env, res response) {
				var out api.KVEntry
				res.decode(t, &out)
				if out.ExpiresAt == nil {
					t.Fatalf("no expires_at: %s", res.body)
				}
				at := *out.ExpiresAt
				if d := time.Until(at); d < 59*time.Minute || d > time.Hour {
					t.Errorf("expires_at %s", *out.ExpiresAt)
				}
				ent, err := e.st.KVGet(context.Background(), e.apps["demo"].ID, "session", time.Now())
				e.must(err)
				if d := ent.ExpiresAt.Sub(at); d < 0 || d >= time.Second {
					t.Errorf("stored expiry %v, answered %v", ent.ExpiresAt, at)
				}
			}},
		{name: "put without value", method: "PUT", url: kv + "/k", as: asEditor, body: `{"ttl_seconds": 5}`, status: 422,
			contains: []string{"value is required"}, check: wantValue("k", "absent")},
		{name: "put bad ttl", method: "PUT", url: kv + "/k", as: asEditor, body: `{"value": 1, "ttl_seconds": 0}`, status: 422,
			contains: []string{"ttl_seconds must be an integer from 1 to"}, check: wantValue("k", "absent")},
		{name: "put malformed", method: "PUT", url: kv + "/k", as: asEditor, body: `{"value": }`, status: 400,
			check: wantValue("k", "absent")},
		{name: "put value over the limit", method: "PUT", url: kv + "/big", as: asEditor,
			body: `{"value": "` + strings.Repeat("x", 65535) + `"}`, status: 413,
			contains: []string{`"code":"too_large"`, "value of 65537 bytes is over the limit of 65536"},
			check:    wantValue("big", "absent")},
		{name: "put value at the limit", method: "PUT", url: kv + "/big", as: asEditor,
			body: `{"value": "` + strings.Repeat("x", 65534) + `"}`, status: 200,
			contains: []string{`"size":65536`}},
		{name: "put over the app's keys", method: "PUT", url: kv + "/third", as: asEditor, body: `{"value": 3}`, status: 413,
			before: func(t *testing.T, e *env) {
				app := e.apps["demo"]
				app.Limits.KVMaxKeys = 2
				e.must(e.st.UpdateApp(context.Background(), app))
			},
			contains: []string{`"code":"quota_exceeded"`, "the app would have 3 keys, over its limit of 2"},
			check:    wantValue("third", "absent")},
		{name: "put under the app's value limit", method: "PUT", url: kv + "/big", as: asEditor,
			body: `{"value": "` + strings.Repeat("x", 100) + `"}`, status: 413,
			before: func(t *testing.T, e *env) {
				app := e.apps["demo"]
				app.Limits.KVMaxValueBytes = 100
				e.must(e.st.UpdateApp(context.Background(), app))
			},
			contains: []string{"value of 102 bytes is over the limit of 100"}},

		{name: "delete", method: "DELETE", url: kv + "/greeting", as: asEditor, status: 204,
			check: wantValue("greeting", "absent")},
		{name: "delete absent", method: "DELETE", url: kv + "/nope", as: asEditor, status: 404,
			contains: []string{`key \"nope\" not found in app \"demo\"`}},

		{name: "kv limits of an app", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"kv_max_value_bytes": 1048576, "kv_max_keys": 50}}`, status: 200,
			contains: []string{`"kv_max_value_bytes":1048576`, `"kv_max_keys":50`}},
		{name: "kv limits too high", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"kv_max_bytes": 2147483648}}`, status: 422,
			contains: []string{"limits.kv_max_bytes must be between 0 (the server default) and 1073741824"}},
		{name: "runs in flight of an app", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"max_inflight": 2}}`, status: 200,
			contains: []string{`"max_inflight":2`}},
		{name: "runs in flight of an app, negative", method: "PATCH", url: "/api/v1/apps/demo", as: asAdmin,
			body: `{"limits": {"max_inflight": -1}}`, status: 422,
			contains: []string{"limits.max_inflight must be between 0 (the server default) and 10000"}},
		{name: "runs in flight set by an editor", method: "PATCH", url: "/api/v1/apps/demo", as: asEditor,
			body: `{"limits": {"max_inflight": 100}}`, status: 403,
			contains: []string{"only administrators may change an app's limits"}},
	})
}

// TestKVServerLimits checks that the server's configured limits apply to
// the API, as they do to scripts.
func TestKVServerLimits(t *testing.T) {
	e := newEnv(t, dbtest.SQLite)
	m := New(Config{Store: e.st, KVLimits: store.KVLimits{MaxValueBytes: 8}})
	e.srv = httptest.NewServer(m.Handler())
	t.Cleanup(e.srv.Close)
	res := e.do("PUT", "/api/v1/apps/demo/kv/k", `{"value": "1234567"}`, asEditor, "application/json")
	if res.status != 413 || !strings.Contains(res.body, "value of 9 bytes is over the limit of 8") {
		t.Fatalf("%d %s", res.status, res.body)
	}
	res = e.do("PUT", "/api/v1/apps/demo/kv/k", `{"value": "123456"}`, asEditor, "application/json")
	var out api.KVEntry
	if res.status != 200 || json.Unmarshal([]byte(res.body), &out) != nil || out.Size != 8 {
		t.Fatalf("%d %s", res.status, res.body)
	}
}
