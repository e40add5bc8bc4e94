package executor

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store"
)

// journaled runs src for app with its journal recorded and returns the
// result, failing unless it finished ok.
func journaled(t *testing.T, x *Executor, src string, ev Event) Result {
	t.Helper()
	ev.Journal = true
	res := run(t, x, src, ev, Limits{})
	if res.Status != StatusOK {
		t.Fatalf("status %s: %v\n%s", res.Status, res.Err, src)
	}
	return res
}

// ops lists the entries' operations.
func ops(j *Journal) string {
	if j == nil {
		return ""
	}
	var s []string
	for _, e := range j.Entries {
		s = append(s, e.Op)
	}
	return strings.Join(s, " ")
}

func TestJournalKV(t *testing.T) {
	e := newKVEnv(t)
	e.run(t, e.shop, `kv::set("seen", 41); kv::set("a/1", "x")`, Limits{})
	ev := Event{App: e.shop.Slug, AppID: e.shop.ID}
	res := journaled(t, e.x, `
		let n = kv::get("seen");
		let none = kv::get("absent", 0);
		let keys = kv::list("a/");
		kv::set("last", #{n: n}, 60);
		let gone = kv::delete("a/1");
		let c = kv::incr("count", 5);
		[n, none, keys, gone, c]`, ev)
	if string(res.Body) != `[41,0,["a/1"],true,5]` {
		t.Fatalf("body %s", res.Body)
	}
	j := res.Journal
	if got, want := ops(j), "kv::get kv::get kv::list kv::set kv::delete kv::incr"; got != want {
		t.Fatalf("ops %q, want %q", got, want)
	}
	es := j.Entries
	checks := []struct {
		ok   bool
		what string
	}{
		{es[0].Key == "seen" && es[0].Found && es[0].Value == "41", "the read of a present key"},
		{es[1].Key == "absent" && !es[1].Found && es[1].Value == "", "the read of an absent key"},
		{es[2].Key == "a/" && es[2].N == store.MaxKVList && len(es[2].Keys) == 1 && es[2].Keys[0] == "a/1", "the list"},
		{es[3].Key == "last" && es[3].Value == `{"n":41}` && es[3].N == 60, "the set with its ttl"},
		{es[4].Key == "a/1" && es[4].Found, "the delete"},
		{es[5].Key == "count" && es[5].N == 5 && es[5].Int == 5, "the increment"},
		{!es[0].IsWrite() && !es[2].IsWrite() && es[3].IsWrite() && es[4].IsWrite() && es[5].IsWrite(), "which are writes"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s is wrong: %+v", c.what, es)
		}
	}
}

func TestJournalOffAndEmpty(t *testing.T) {
	e := newKVEnv(t)
	ev := Event{App: e.shop.Slug, AppID: e.shop.ID}
	if res := run(t, e.x, `kv::set("k", 1); time::unix()`, ev, Limits{}); res.Journal != nil {
		t.Errorf("a run that did not ask recorded a journal: %+v", res.Journal)
	}
	if res := journaled(t, e.x, `"hello"`, ev); res.Journal != nil {
		t.Errorf("a run without effects has a journal: %+v", res.Journal)
	}
}

func TestJournalClockAndRandom(t *testing.T) {
	x := New(Config{})
	res := journaled(t, x, `
		let t = timestamp();
		[time::unix(), time::unix_ms(), crypto::random_bytes(4).len(), crypto::uuid().len(), t.elapsed >= 0.0]`, Event{App: "a"})
	if got, want := ops(res.Journal), "timestamp time::unix time::unix_ms crypto::random_bytes crypto::uuid elapsed"; got != want {
		t.Fatalf("ops %q, want %q", got, want)
	}
	es := res.Journal.Entries
	if es[1].Int < 1_700_000_000 || es[2].Int/1000 != es[1].Int && es[2].Int/1000 != es[1].Int+1 {
		t.Errorf("clock values %d, %d", es[1].Int, es[2].Int)
	}
	if len(es[3].Bytes) != 4 || len(es[4].Value) != 36 || es[0].Int < 0 || es[5].Int < 0 {
		t.Errorf("entries %+v", es)
	}
}

func TestJournalHTTP(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Trace", "t1")
		w.WriteHeader(201)
		w.Write([]byte(`{"ok":true}`))
	})
	x := New(Config{})
	ev := allowed(true, "127.0.0.1")
	res := journaled(t, x, `let r = http::post("`+up.URL+`/orders?x=1", #{item: "pi"}, #{"X-Id": "7"}); r.json.ok`, ev)
	if got := ops(res.Journal); got != "http" {
		t.Fatalf("ops %q", got)
	}
	h := res.Journal.Entries[0].HTTP
	switch {
	case h.Method != "POST" || h.URL != up.URL+"/orders?x=1":
		t.Errorf("request %s %s", h.Method, h.URL)
	case h.Header.Get("X-Id") != "7" || string(h.Body) != `{"item":"pi"}` || h.BodySize != 13 || len(h.BodyHash) != 64:
		t.Errorf("request header %v, body %q (%d, %q)", h.Header, h.Body, h.BodySize, h.BodyHash)
	case h.Status != 201 || h.RespHeader.Get("X-Trace") != "t1" || string(h.RespBody) != `{"ok":true}`:
		t.Errorf("response %d %v %q", h.Status, h.RespHeader, h.RespBody)
	}

	// A failed call is journaled with its error.
	res = journaled(t, x, `try { http::get("http://127.0.0.1:1/"); } catch (e) { } "caught"`, ev)
	if es := res.Journal.Entries; len(es) != 1 || es[0].Err == "" || es[0].HTTP.Status != 0 {
		t.Errorf("failed call: %+v", res.Journal)
	}
}

func TestJournalTruncated(t *testing.T) {
	x := New(Config{})
	// Each draw is about 1 KiB of journal: past MaxJournalBytes the
	// journal stops and says so.
	n := MaxJournalBytes/MaxRandomBytes + 10
	res := journaled(t, x, `for i in 0..`+strconv.Itoa(n)+` { crypto::random_bytes(1024); } "done"`, Event{App: "a"})
	j := res.Journal
	if !j.Truncated || len(j.Entries) >= n || len(j.Entries) < MaxJournalBytes/(MaxRandomBytes+64) {
		t.Fatalf("truncated %v with %d entries of %d", j.Truncated, len(j.Entries), n)
	}
	if string(res.Body) != "done" {
		t.Errorf("a full journal changed the run: %q", res.Body)
	}
	// A body is cut at MaxJournalBody.
	b, cut := journalBody(make([]byte, MaxJournalBody+1))
	if len(b) != MaxJournalBody || !cut {
		t.Errorf("body of %d bytes, cut %v", len(b), cut)
	}
}
