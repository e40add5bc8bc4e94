package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// kvNone is no limit at all.
var kvNone = store.KVLimits{}

// kvSet stores a value with no limit and no expiry, failing the test on
// error.
func kvSet(t *testing.T, st store.Store, appID int64, key, value string, now time.Time) {
	t.Helper()
	ok(t, "KVSet "+key, st.KVSet(t.Context(), appID, key, []byte(value), time.Time{}, kvNone, now))
}

// kvKeys returns the keys KVList finds.
func kvKeys(t *testing.T, st store.Store, appID int64, f store.KVFilter, now time.Time) []string {
	t.Helper()
	list, err := st.KVList(t.Context(), appID, f, now)
	ok(t, "KVList", err)
	keys := []string{}
	for _, e := range list {
		keys = append(keys, e.Key)
	}
	return keys
}

// checkUsage fails unless the app's usage is keys keys and bytes bytes.
func checkUsage(t *testing.T, st store.Store, appID, keys, bytes int64) {
	t.Helper()
	u, err := st.KVUsage(t.Context(), appID)
	ok(t, "KVUsage", err)
	check(t, "KVUsage", u, store.KVUsage{Keys: keys, Bytes: bytes})
}

func testKV(t *testing.T, st store.Store) {
	ctx := t.Context()
	shop, blog := newApp(t, st, "shop"), newApp(t, st, "blog")

	_, err := st.KVGet(ctx, shop.ID, "greeting", at(0))
	wantErr(t, "KVGet absent", err, store.ErrNotFound)
	checkUsage(t, st, shop.ID, 0, 0)

	ok(t, "KVSet", st.KVSet(ctx, shop.ID, "greeting", []byte(`"hello"`), time.Time{}, kvNone, at(0)))
	got, err := st.KVGet(ctx, shop.ID, "greeting", at(time.Second))
	ok(t, "KVGet", err)
	check(t, "KVGet", got, store.KVEntry{Key: "greeting", Value: []byte(`"hello"`), Size: 7, UpdatedAt: at(0)})
	checkUsage(t, st, shop.ID, 1, int64(len("greeting")+7))

	// Keys are per app.
	_, err = st.KVGet(ctx, blog.ID, "greeting", at(0))
	wantErr(t, "KVGet in another app", err, store.ErrNotFound)

	// A set replaces the value and the expiry and stamps UpdatedAt.
	ok(t, "KVSet again", st.KVSet(ctx, shop.ID, "greeting", []byte(`{"a":[1,2]}`), at(time.Hour), kvNone, at(time.Minute)))
	got, err = st.KVGet(ctx, shop.ID, "greeting", at(2*time.Minute))
	ok(t, "KVGet replaced", err)
	check(t, "KVGet replaced", got, store.KVEntry{Key: "greeting", Value: []byte(`{"a":[1,2]}`), Size: 11,
		ExpiresAt: at(time.Hour), UpdatedAt: at(time.Minute)})
	checkUsage(t, st, shop.ID, 1, int64(len("greeting")+11))

	// At its expiry time a key is gone.
	_, err = st.KVGet(ctx, shop.ID, "greeting", at(time.Hour))
	wantErr(t, "KVGet at the expiry", err, store.ErrNotFound)
	_, err = st.KVGet(ctx, shop.ID, "greeting", at(time.Hour-time.Microsecond))
	ok(t, "KVGet just before the expiry", err)

	// A set without expiry clears it.
	ok(t, "KVSet without expiry", st.KVSet(ctx, shop.ID, "greeting", []byte(`1`), time.Time{}, kvNone, at(2*time.Minute)))
	got, err = st.KVGet(ctx, shop.ID, "greeting", at(48*time.Hour))
	ok(t, "KVGet after the old expiry", err)
	check(t, "ExpiresAt cleared", got.ExpiresAt, time.Time{})

	// Values are kept byte for byte, NUL escapes and all.
	odd := `"tab\t nul\u0000 é 😀"`
	kvSet(t, st, shop.ID, "odd", odd, at(0))
	got, err = st.KVGet(ctx, shop.ID, "odd", at(0))
	ok(t, "KVGet odd", err)
	check(t, "odd value", string(got.Value), odd)
	unicodeKey := "clé/😀 with spaces"
	kvSet(t, st, shop.ID, unicodeKey, `true`, at(0))
	got, err = st.KVGet(ctx, shop.ID, unicodeKey, at(0))
	ok(t, "KVGet unicode key", err)
	check(t, "unicode key", got.Key, unicodeKey)

	// Delete reports whether the key existed.
	existed, err := st.KVDelete(ctx, shop.ID, "odd", at(0))
	ok(t, "KVDelete", err)
	check(t, "KVDelete existed", existed, true)
	existed, err = st.KVDelete(ctx, shop.ID, "odd", at(0))
	ok(t, "KVDelete again", err)
	check(t, "KVDelete again existed", existed, false)
	existed, err = st.KVDelete(ctx, blog.ID, "nothing", at(0))
	ok(t, "KVDelete in an app without keys", err)
	check(t, "KVDelete in an app without keys", existed, false)
	// An expired key did not exist, but its row goes.
	ok(t, "KVSet expiring", st.KVSet(ctx, shop.ID, "brief", []byte(`0`), at(time.Second), kvNone, at(0)))
	existed, err = st.KVDelete(ctx, shop.ID, "brief", at(time.Second))
	ok(t, "KVDelete expired", err)
	check(t, "KVDelete expired existed", existed, false)
	checkUsage(t, st, shop.ID, 2, int64(len("greeting")+1+len(unicodeKey)+4))

	// A write to an app that does not exist.
	err = st.KVSet(ctx, 1<<40, "k", []byte(`1`), time.Time{}, kvNone, at(0))
	wantErr(t, "KVSet unknown app", err, store.ErrNotFound)
	_, err = st.KVIncr(ctx, 1<<40, "k", 1, kvNone, at(0))
	wantErr(t, "KVIncr unknown app", err, store.ErrNotFound)

	// Deleting an app deletes its keys.
	kvSet(t, st, blog.ID, "post", `"draft"`, at(0))
	ok(t, "DeleteApp", st.DeleteApp(ctx, blog.ID))
	_, err = st.KVGet(ctx, blog.ID, "post", at(0))
	wantErr(t, "KVGet of a deleted app", err, store.ErrNotFound)
	checkUsage(t, st, blog.ID, 0, 0)
	_, err = st.KVGet(ctx, shop.ID, "greeting", at(0))
	ok(t, "KVGet of another app after DeleteApp", err)
}

func testKVList(t *testing.T, st store.Store) {
	app := newApp(t, st, "shop")
	// LIKE wildcards and the escape character are plain characters of a
	// prefix; byte order puts upper case first and é (U+00E9) before ê.
	keys := []string{"B", "a", "a%b", "a\\b", "a_b", "ab", "axb", "é1", "é2", "ê", "\U0010FFFF", "\U0010FFFFz", "\uD7FFa", "\uE000"}
	for _, k := range keys {
		kvSet(t, st, app.ID, k, `1`, at(0))
	}
	ok(t, "KVSet expiring", st.KVSet(t.Context(), app.ID, "a-gone", []byte(`1`), at(time.Second), kvNone, at(0)))
	all := []string{"B", "a", "a%b", "a\\b", "a_b", "ab", "axb", "é1", "é2", "ê", "\uD7FFa", "\uE000", "\U0010FFFF", "\U0010FFFFz"}
	for _, c := range []struct {
		f    store.KVFilter
		want []string
	}{
		{store.KVFilter{}, all},
		{store.KVFilter{Prefix: "a"}, []string{"a", "a%b", "a\\b", "a_b", "ab", "axb"}},
		{store.KVFilter{Prefix: "a%"}, []string{"a%b"}},
		{store.KVFilter{Prefix: "a_"}, []string{"a_b"}},
		{store.KVFilter{Prefix: "a\\"}, []string{"a\\b"}},
		{store.KVFilter{Prefix: "é"}, []string{"é1", "é2"}},
		{store.KVFilter{Prefix: "\uD7FF"}, []string{"\uD7FFa"}},
		{store.KVFilter{Prefix: "\U0010FFFF"}, []string{"\U0010FFFF", "\U0010FFFFz"}},
		{store.KVFilter{Prefix: "nothing"}, []string{}},
		{store.KVFilter{Prefix: "\xff"}, []string{}},
		{store.KVFilter{Prefix: "a", Limit: 2}, []string{"a", "a%b"}},
		{store.KVFilter{Prefix: "a", After: "a%b", Limit: 2}, []string{"a\\b", "a_b"}},
		{store.KVFilter{Prefix: "a", After: "axb"}, []string{}},
		{store.KVFilter{After: "ê"}, []string{"\uD7FFa", "\uE000", "\U0010FFFF", "\U0010FFFFz"}},
	} {
		check(t, fmt.Sprintf("KVList prefix %q after %q limit %d", c.f.Prefix, c.f.After, c.f.Limit), kvKeys(t, st, app.ID, c.f, at(time.Second)), c.want)
	}
	// Before its expiry the expiring key is listed, with its times.
	list, err := st.KVList(t.Context(), app.ID, store.KVFilter{Prefix: "a-"}, at(0))
	ok(t, "KVList", err)
	check(t, "KVList entry", list, []store.KVEntry{{Key: "a-gone", Size: 1, ExpiresAt: at(time.Second), UpdatedAt: at(0)}})
	check(t, "KVList of another app", kvKeys(t, st, newApp(t, st, "blog").ID, store.KVFilter{}, at(0)), []string{})
}

func testKVQuota(t *testing.T, st store.Store) {
	ctx := t.Context()
	app := newApp(t, st, "shop")

	// The value's own limit.
	lim := store.KVLimits{MaxValueBytes: 20, MaxBytes: 40, MaxKeys: 3}
	err := st.KVSet(ctx, app.ID, "k", []byte(`"1234567890123456789"`), time.Time{}, lim, at(0))
	var qe *store.QuotaError
	if !errors.As(err, &qe) || !errors.Is(err, store.ErrQuota) {
		t.Fatalf("KVSet of 21 bytes over 20: error %v, want a *store.QuotaError", err)
	}
	check(t, "QuotaError", *qe, store.QuotaError{Limit: store.QuotaValue, Need: 21, Max: 20})
	if !strings.Contains(err.Error(), "value of 21 bytes is over the limit of 20") {
		t.Errorf("error %q does not give the sizes", err)
	}
	checkUsage(t, st, app.ID, 0, 0)

	// Keys: k1..k3 fit (2+8 bytes each), the fourth does not.
	for i := 1; i <= 3; i++ {
		ok(t, "KVSet", st.KVSet(ctx, app.ID, fmt.Sprintf("k%d", i), []byte(`"abcdef"`), time.Time{}, lim, at(0)))
	}
	checkUsage(t, st, app.ID, 3, 30)
	err = st.KVSet(ctx, app.ID, "k4", []byte(`1`), time.Time{}, lim, at(0))
	if !errors.As(err, &qe) {
		t.Fatalf("KVSet of a fourth key: error %v, want a *store.QuotaError", err)
	}
	check(t, "QuotaError keys", *qe, store.QuotaError{Limit: store.QuotaKeys, Need: 4, Max: 3})
	_, err = st.KVIncr(ctx, app.ID, "k4", 1, lim, at(0))
	wantErr(t, "KVIncr of a fourth key", err, store.ErrQuota)
	// Replacing a key adds none.
	ok(t, "KVSet replacing", st.KVSet(ctx, app.ID, "k1", []byte(`"abcdefgh"`), time.Time{}, lim, at(0)))
	checkUsage(t, st, app.ID, 3, 32)

	// Bytes: k2 may grow by 8 bytes to the limit of 40, not by 9.
	err = st.KVSet(ctx, app.ID, "k2", []byte(`"abcdefgh1234567"`), time.Time{}, lim, at(0))
	if !errors.As(err, &qe) {
		t.Fatalf("KVSet past the bytes: error %v, want a *store.QuotaError", err)
	}
	check(t, "QuotaError bytes", *qe, store.QuotaError{Limit: store.QuotaBytes, Need: 41, Max: 40})
	ok(t, "KVSet to the limit", st.KVSet(ctx, app.ID, "k2", []byte(`"abcdefgh123456"`), time.Time{}, lim, at(0)))
	checkUsage(t, st, app.ID, 3, 40)
	got, err := st.KVGet(ctx, app.ID, "k2", at(0))
	ok(t, "KVGet", err)
	check(t, "value kept", string(got.Value), `"abcdefgh123456"`)

	// Under a lowered limit, a write that does not grow the total passes.
	low := store.KVLimits{MaxValueBytes: 100, MaxBytes: 20, MaxKeys: 2}
	ok(t, "KVSet shrinking above a lowered limit", st.KVSet(ctx, app.ID, "k1", []byte(`1`), time.Time{}, low, at(0)))
	checkUsage(t, st, app.ID, 3, 31)
	_, err = st.KVIncr(ctx, app.ID, "k1", 1, low, at(0))
	ok(t, "KVIncr not growing above a lowered limit", err)
	err = st.KVSet(ctx, app.ID, "k1", []byte(`12`), time.Time{}, low, at(0))
	wantErr(t, "KVSet growing above a lowered limit", err, store.ErrQuota)
	existed, err := st.KVDelete(ctx, app.ID, "k2", at(0))
	ok(t, "KVDelete", err)
	check(t, "KVDelete existed", existed, true)
	checkUsage(t, st, app.ID, 2, 13)

	// Expired keys make room: they count until purged. A write purges a
	// few on the way, and all of them when it would otherwise exceed a
	// limit. 20 keys of 10 bytes expire at one minute.
	lim = store.KVLimits{MaxValueBytes: 300, MaxBytes: 213, MaxKeys: 100}
	for i := range 20 {
		key := fmt.Sprintf("tmp%02d", i)
		ok(t, "KVSet expiring", st.KVSet(ctx, app.ID, key, []byte(`"abc"`), at(time.Minute), lim, at(0)))
	}
	checkUsage(t, st, app.ID, 22, 213)
	big := []byte(`"` + strings.Repeat("x", 195) + `"`) // with the key "new", 200 bytes
	err = st.KVSet(ctx, app.ID, "new", big, time.Time{}, lim, at(30*time.Second))
	wantErr(t, "KVSet before the expiry", err, store.ErrQuota)
	checkUsage(t, st, app.ID, 22, 213)
	ok(t, "KVSet after the expiry", st.KVSet(ctx, app.ID, "new", big, time.Time{}, lim, at(time.Minute)))
	checkUsage(t, st, app.ID, 3, 213)
	check(t, "keys", kvKeys(t, st, app.ID, store.KVFilter{}, at(time.Minute)), []string{"k1", "k3", "new"})
}

func testKVIncr(t *testing.T, st store.Store) {
	ctx := t.Context()
	app := newApp(t, st, "shop")
	incr := func(key string, n int64, now time.Time) int64 {
		t.Helper()
		v, err := st.KVIncr(ctx, app.ID, key, n, kvNone, now)
		ok(t, "KVIncr "+key, err)
		return v
	}
	check(t, "KVIncr of an absent key", incr("hits", 1, at(0)), int64(1))
	check(t, "KVIncr", incr("hits", 41, at(time.Second)), int64(42))
	check(t, "KVIncr negative", incr("hits", -50, at(time.Second)), int64(-8))
	got, err := st.KVGet(ctx, app.ID, "hits", at(time.Second))
	ok(t, "KVGet", err)
	check(t, "KVGet after KVIncr", got, store.KVEntry{Key: "hits", Value: []byte(`-8`), Size: 2, UpdatedAt: at(time.Second)})
	checkUsage(t, st, app.ID, 1, 6)

	// An increment keeps the expiry; once expired the count restarts
	// with none.
	ok(t, "KVSet", st.KVSet(ctx, app.ID, "window", []byte(`5`), at(time.Minute), kvNone, at(0)))
	check(t, "KVIncr with expiry", incr("window", 1, at(time.Second)), int64(6))
	got, err = st.KVGet(ctx, app.ID, "window", at(time.Second))
	ok(t, "KVGet", err)
	check(t, "expiry kept", got.ExpiresAt, at(time.Minute))
	check(t, "KVIncr after the expiry", incr("window", 1, at(time.Minute)), int64(1))
	got, err = st.KVGet(ctx, app.ID, "window", at(time.Hour))
	ok(t, "KVGet", err)
	check(t, "expiry after restart", got.ExpiresAt, time.Time{})

	// A value that is not an integer.
	for _, v := range []string{`"1"`, `1.5`, `{"n":1}`, `null`, `1e3`} {
		kvSet(t, st, app.ID, "text", v, at(0))
		_, err := st.KVIncr(ctx, app.ID, "text", 1, kvNone, at(0))
		wantErr(t, "KVIncr of "+v, err, store.ErrKVNotInteger)
		wantErr(t, "KVIncr of "+v, err, store.ErrConflict)
		got, err := st.KVGet(ctx, app.ID, "text", at(0))
		ok(t, "KVGet", err)
		check(t, "value after a failed KVIncr", string(got.Value), v)
	}
	kvSet(t, st, app.ID, "big", `9223372036854775800`, at(0))
	_, err = st.KVIncr(ctx, app.ID, "big", 8, kvNone, at(0))
	wantErr(t, "KVIncr overflowing", err, store.ErrKVOverflow)
	check(t, "KVIncr to the maximum", incr("big", 7, at(0)), int64(9223372036854775807))
}

// incrementers and increments are how many goroutines increment one key
// at once, and how many times each.
const incrementers, increments = 20, 50

// testKVConcurrentIncr increments one key from many goroutines at once:
// no increment is lost, and each returns a distinct count.
func testKVConcurrentIncr(t *testing.T, st store.Store) {
	app := newApp(t, st, "race")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int64]bool{}
	)
	for g := range incrementers {
		wg.Go(func() {
			for range increments {
				v, err := st.KVIncr(t.Context(), app.ID, "hits", 1, store.DefaultKVLimits(), time.Now())
				if err != nil {
					t.Errorf("incrementer %d: %v", g, err)
					return
				}
				mu.Lock()
				if seen[v] {
					t.Errorf("count %d returned twice", v)
				}
				seen[v] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got, err := st.KVGet(t.Context(), app.ID, "hits", time.Now())
	ok(t, "KVGet", err)
	check(t, "count", string(got.Value), fmt.Sprint(incrementers*increments))
	check(t, "distinct counts", len(seen), incrementers*increments)
	checkUsage(t, st, app.ID, 1, int64(len("hits")+len("1000")))
}

func testKVPurge(t *testing.T, st store.Store) {
	ctx := t.Context()
	a, b := newApp(t, st, "aa"), newApp(t, st, "bb")
	for _, app := range []store.App{a, b} {
		for i := range 3 {
			ok(t, "KVSet", st.KVSet(ctx, app.ID, fmt.Sprintf("tmp%d", i), []byte(`0`), at(time.Minute), kvNone, at(0)))
		}
		kvSet(t, st, app.ID, "keep", `1`, at(0))
		ok(t, "KVSet", st.KVSet(ctx, app.ID, "later", []byte(`1`), at(time.Hour), kvNone, at(0)))
	}
	n, err := st.PurgeExpiredKV(ctx, at(30*time.Second), 100)
	ok(t, "PurgeExpiredKV before any expiry", err)
	check(t, "purged before any expiry", n, int64(0))

	n, err = st.PurgeExpiredKV(ctx, at(time.Minute), 4)
	ok(t, "PurgeExpiredKV", err)
	check(t, "purged with a limit of 4", n, int64(4))
	n, err = st.PurgeExpiredKV(ctx, at(time.Minute), 100)
	ok(t, "PurgeExpiredKV", err)
	check(t, "purged the rest", n, int64(2))
	for _, app := range []store.App{a, b} {
		checkUsage(t, st, app.ID, 2, int64(len("keep")+1+len("later")+1))
		check(t, "keys left", kvKeys(t, st, app.ID, store.KVFilter{}, at(time.Minute)), []string{"keep", "later"})
	}

	// Writes purge an app's expired keys on the way.
	for i := range 3 {
		ok(t, "KVSet", st.KVSet(ctx, a.ID, fmt.Sprintf("tmp%d", i), []byte(`0`), at(2*time.Minute), kvNone, at(time.Minute)))
	}
	checkUsage(t, st, a.ID, 5, 26)
	kvSet(t, st, a.ID, "other", `2`, at(2*time.Minute))
	checkUsage(t, st, a.ID, 3, 17)
	n, err = st.PurgeExpiredKV(ctx, at(2*time.Minute), 100)
	ok(t, "PurgeExpiredKV", err)
	check(t, "nothing left to purge", n, int64(0))
}
