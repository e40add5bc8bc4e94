package executor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/sqlstore"
)

// kvEnv is an executor whose kv module uses a real SQLite store with two
// apps.
type kvEnv struct {
	x          *Executor
	st         store.Store
	shop, blog store.App
}

func newKVEnv(t *testing.T) *kvEnv {
	t.Helper()
	st, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "kv.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &kvEnv{st: st, x: New(Config{KV: st}), shop: store.App{Slug: "shop"}, blog: store.App{Slug: "blog"}}
	for _, a := range []*store.App{&e.shop, &e.blog} {
		if err := st.CreateApp(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// run runs src as a script of app and returns its JSON body, failing
// unless it succeeds.
func (e *kvEnv) run(t *testing.T, app store.App, src string, lim Limits) string {
	t.Helper()
	res := run(t, e.x, src, Event{App: app.Slug, AppID: app.ID}, lim)
	if res.Status != StatusOK {
		t.Fatalf("%s: status %s: %v\n%s", app.Slug, res.Status, res.Err, src)
	}
	return string(res.Body)
}

func TestKVValues(t *testing.T) {
	e := newKVEnv(t)
	// Each value is stored and read back by a second run.
	for _, c := range []struct{ value, want string }{
		{`#{name: "pi", tags: ["a", "b"], n: 3, ratio: 0.5, ok: true, none: ()}`, `{"n":3,"name":"pi","none":null,"ok":true,"ratio":0.5,"tags":["a","b"]}`},
		{`[1, [2, [3]], #{}]`, `[1,[2,[3]],{}]`},
		{`"text with \"quotes\" and é"`, `["text with \"quotes\" and é","string"]`},
		{`42`, `[42,"i64"]`},
		{`-1.5`, `[-1.5,"f64"]`},
		{`1.0`, `[1.0,"f64"]`},
		{`'c'`, `["c","string"]`},
		{`false`, `[false,"bool"]`},
	} {
		e.run(t, e.shop, `kv::set("v", `+c.value+`)`, Limits{})
		got := e.run(t, e.shop, `let v = kv::get("v"); if type_of(v) == "map" || type_of(v) == "array" { v } else { [v, type_of(v)] }`, Limits{})
		if got != c.want {
			t.Errorf("set %s, got back %s, want %s", c.value, got, c.want)
		}
	}
	got := e.run(t, e.shop, `[kv::get("absent"), kv::get("absent", 7), kv::get("v", 7)]`, Limits{})
	if got != `[null,7,false]` {
		t.Errorf("get of an absent key and defaults: %s", got)
	}
	// Keys belong to the app.
	if got := e.run(t, e.blog, `[kv::get("v"), kv::list()]`, Limits{}); got != `[null,[]]` {
		t.Errorf("another app sees %s", got)
	}
}

func TestKVFunctions(t *testing.T) {
	e := newKVEnv(t)
	got := e.run(t, e.shop, `
		kv::set("user:2", "b");
		kv::set("user:1", "a");
		kv::set("user_x", "not a user");
		kv::set("zeta", 1);
		let out = [kv::list("user:"), kv::list("user:", 1), kv::list(), kv::list("nope")];
		out.push(kv::delete("user:2"));
		out.push(kv::delete("user:2"));
		out.push(kv::list("user"));
		out.push(kv::incr("hits"));
		out.push(kv::incr("hits", 41));
		out.push(kv::incr("hits", -2));
		out.push(kv::get("hits"));
		out`, Limits{})
	want := `[["user:1","user:2"],["user:1"],["user:1","user:2","user_x","zeta"],[],true,false,["user:1","user_x"],1,42,40,40]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// A TTL sets the expiry; a set without one clears it.
	before := time.Now()
	e.run(t, e.shop, `kv::set("session", #{user: 1}, 3600)`, Limits{})
	ent, err := e.st.KVGet(t.Context(), e.shop.ID, "session", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d := ent.ExpiresAt.Sub(before); d < time.Hour || d > time.Hour+time.Minute {
		t.Errorf("expires %v after the call, want an hour", d)
	}
	// A key that expired reads as absent, and counts from 0 again.
	past := time.Now().Add(-time.Second)
	if err := e.st.KVSet(t.Context(), e.shop.ID, "old", []byte(`5`), past, store.KVLimits{}, past.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := e.run(t, e.shop, `[kv::get("old"), kv::list("old"), kv::incr("old")]`, Limits{}); got != `[null,[],1]` {
		t.Errorf("expired key: %s", got)
	}
}

// TestKVErrors checks that every misuse is a runtime error a script can
// catch, with a message that says what is wrong.
func TestKVErrors(t *testing.T) {
	e := newKVEnv(t)
	lim := Limits{KV: store.KVLimits{MaxValueBytes: 100, MaxBytes: 1000, MaxKeys: 2}}
	for _, c := range []struct{ src, want string }{
		{`kv::get(42)`, `kv::get: the key must be a string, not i64`},
		{`kv::set("", 1)`, `kv::set: the key is empty`},
		{`kv::delete("` + strings.Repeat("k", 257) + `")`, `kv::delete: the key of 257 bytes is longer than the limit of 256`},
		{`kv::incr("a\x00b")`, `kv::incr: the key contains a NUL character`},
		{`kv::set("f", Fn("print"))`, `kv::set: a value of type Fn cannot be stored as JSON`},
		{`kv::set("f", #{list: [1, || 2]})`, `kv::set: a value of type Fn cannot be stored as JSON (at .list[1])`},
		{`kv::set("b", blob(2))`, `kv::set: a blob cannot be stored as JSON; store a string or an array of its bytes`},
		{`kv::set("t", timestamp())`, `kv::set: a value of type timestamp cannot be stored as JSON`},
		{`kv::set("n", 0.0 / 0.0)`, `kv::set: the value cannot be stored as JSON`},
		{`kv::set("big", "` + strings.Repeat("x", 99) + `")`, `kv::set: value of 101 bytes is over the limit of 100`},
		{`kv::set("k", 1, 0)`, `kv::set: ttl_seconds must be an integer from 1 to 3153600000, not 0`},
		{`kv::set("k", 1, "1h")`, `kv::set: ttl_seconds must be an integer from 1 to 3153600000, not 1h`},
		{`kv::list(1)`, `kv::list: the prefix must be a string, not i64`},
		{`kv::list("", 1001)`, `kv::list: the limit must be an integer from 1 to 1000, not 1001`},
		{`kv::incr("k", 1.5)`, `kv::incr: the increment must be an integer, not f64`},
		{`kv::set("s", "text"); kv::incr("s")`, `kv::incr: the value is not an integer`},
		{`kv::set("m", 9223372036854775807); kv::incr("m")`, `kv::incr: the sum overflows 64 bits`},
		{`kv::set("third", 1)`, `kv::set: the app would have 3 keys, over its limit of 2`},
	} {
		src := `let r = "no error"; try { ` + c.src + `; } catch (e) { r = e.message; } r`
		res := run(t, e.x, src, Event{App: "shop", AppID: e.shop.ID}, lim)
		if res.Status != StatusOK {
			t.Errorf("%s: status %s, %v; want a caught error", c.src, res.Status, res.Err)
			continue
		}
		if got := string(res.Body); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: caught %q, want %q", c.src, got, c.want)
		}
	}
	// Left uncaught, an error fails the run with the message in its log.
	res := run(t, e.x, `kv::set("big", "`+strings.Repeat("x", 70000)+`")`, Event{AppID: e.shop.ID}, Limits{})
	if res.Status != StatusError || res.HTTPStatus != 500 ||
		!strings.Contains(res.Summary, "kv::set: value of 70002 bytes is over the limit of 65536") {
		t.Errorf("uncaught: %s %d %q", res.Status, res.HTTPStatus, res.Summary)
	}
}

func TestKVUnavailable(t *testing.T) {
	x := New(Config{})
	res := run(t, x, `let r = (); try { kv::get("k"); } catch (e) { r = e.message; } r`, Event{AppID: 1}, Limits{})
	if got := string(res.Body); got != "kv::get: kv is not available: the executor has no database" {
		t.Errorf("without a store: %q", got)
	}
	e := newKVEnv(t)
	res = run(t, e.x, `let r = (); try { kv::get("k"); } catch (e) { r = e.message; } r`, Event{}, Limits{})
	if got := string(res.Body); got != "kv::get: kv is not available: the run has no app" {
		t.Errorf("without an app: %q", got)
	}
}

// blockingKV is a store that answers only when the caller gives up: a
// database that hangs.
type blockingKV struct{ KV }

func (blockingKV) KVGet(ctx context.Context, _ int64, _ string, _ time.Time) (store.KVEntry, error) {
	<-ctx.Done()
	return store.KVEntry{}, ctx.Err()
}

// TestKVDeadline checks that a kv call runs under the script's deadline:
// a store that hangs ends the run as a timeout, which try/catch cannot
// swallow.
func TestKVDeadline(t *testing.T) {
	x := New(Config{KV: blockingKV{}})
	start := time.Now()
	res := run(t, x, `try { kv::get("k"); } catch { return "caught"; }`, Event{AppID: 1}, Limits{Timeout: 50 * time.Millisecond})
	if res.Status != StatusTimeout || res.HTTPStatus != 504 {
		t.Errorf("status %s %d (%v), want timeout 504", res.Status, res.HTTPStatus, res.Err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the run took %v", d)
	}
}

// fullKV is a store whose disk is full: writes fail as the SQLite store's
// do then, wrapping the driver's error.
type fullKV struct{ KV }

func (fullKV) KVSet(context.Context, int64, string, []byte, time.Time, store.KVLimits, time.Time) error {
	return fmt.Errorf("sqlite: unable to set a key: %w", store.ErrFull)
}

// A kv write refused for want of space fails the run with 507 and says
// why; a script that catches the error may still answer, and a run that
// fails for another reason after such a write keeps its own status only
// when it is not an error (here, a timeout).
func TestKVStorageFull(t *testing.T) {
	x := New(Config{KV: fullKV{}})
	res := run(t, x, `kv::set("k", 1); "saved"`, Event{AppID: 1}, Limits{})
	if res.Status != StatusError || res.HTTPStatus != 507 {
		t.Errorf("a failed write: status %s %d, want error 507", res.Status, res.HTTPStatus)
	}
	if !strings.Contains(res.Summary, "kv::set: the server's storage is full: nothing was saved") {
		t.Errorf("summary %q does not say the storage is full", res.Summary)
	}
	res = run(t, x, `let r = "saved"; try { kv::set("k", 1); } catch (e) { r = e.message; } r`, Event{AppID: 1}, Limits{})
	if res.Status != StatusOK || res.HTTPStatus != 200 || string(res.Body) != "kv::set: the server's storage is full: nothing was saved" {
		t.Errorf("a caught failure: %s %d %q", res.Status, res.HTTPStatus, res.Body)
	}
	res = run(t, x, `try { kv::set("k", 1) } catch {} loop {}`, Event{AppID: 1}, Limits{Timeout: 50 * time.Millisecond})
	if res.Status != StatusTimeout || res.HTTPStatus != 504 {
		t.Errorf("a timeout after a caught failure: %s %d, want timeout 504", res.Status, res.HTTPStatus)
	}
	res = run(t, New(Config{KV: fullKV{}}), `throw "mine"`, Event{AppID: 1}, Limits{})
	if res.HTTPStatus != 500 {
		t.Errorf("a run without a failed write: %d, want 500", res.HTTPStatus)
	}
}

func TestKVLimitsMerge(t *testing.T) {
	d := DefaultLimits()
	if d.KV != (store.KVLimits{MaxValueBytes: 64 << 10, MaxBytes: 10 << 20, MaxKeys: 10_000}) {
		t.Fatalf("default kv limits %+v", d.KV)
	}
	m := d.Merge(store.AppLimits{KVMaxValueBytes: 1 << 20, KVMaxKeys: 5})
	if m.KV != (store.KVLimits{MaxValueBytes: 1 << 20, MaxBytes: 10 << 20, MaxKeys: 5}) {
		t.Errorf("merged kv limits %+v", m.KV)
	}
	if got := (Limits{KV: store.KVLimits{MaxKeys: 3}}).Or(d).KV; got != (store.KVLimits{MaxValueBytes: 64 << 10, MaxBytes: 10 << 20, MaxKeys: 3}) {
		t.Errorf("Or: %+v", got)
	}
}
