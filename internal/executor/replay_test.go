package executor

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// replayed runs src in the sandbox against j and returns the result.
func replayed(t *testing.T, x *Executor, src string, ev Event, j *Journal) Result {
	t.Helper()
	ev.Journal, ev.Replay = false, j
	res := run(t, x, src, ev, Limits{})
	if res.Replay == nil {
		t.Fatalf("a replay has no report: %+v", res)
	}
	return res
}

func TestReplayClockAndRandomAreDeterministic(t *testing.T) {
	x := New(Config{})
	src := `let t = timestamp();
		let a = [time::unix(), time::unix_ms(), encoding::hex_encode(crypto::random_bytes(8)), crypto::uuid()];
		for i in 0..20000 {}
		a.push(t.elapsed > 0.0);
		a.push(t.elapsed);
		a`
	ev := Event{App: "a"}
	rec := journaled(t, x, src, ev)
	for i := range 2 {
		res := replayed(t, x, src, ev, rec.Journal)
		if res.Status != StatusOK || string(res.Body) != string(rec.Body) {
			t.Fatalf("replay %d answered %s %q; production %q", i, res.Status, res.Body, rec.Body)
		}
		if len(res.Replay.NewEffects) != 0 || len(res.Replay.Writes) != 0 {
			t.Errorf("replay %d reports %+v", i, res.Replay)
		}
	}
	// Draws the journal lacks are answered from the recorded start and a
	// fixed seed: the same at each replay.
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	more := `[time::unix(), time::unix(), crypto::uuid(), encoding::hex_encode(crypto::random_bytes(3))]`
	ev.ReplayStart = start
	a := replayed(t, x, more, ev, &Journal{})
	b := replayed(t, x, more, ev, &Journal{})
	if string(a.Body) != string(b.Body) || a.Status != StatusOK {
		t.Errorf("replays of fresh draws differ: %q, %q", a.Body, b.Body)
	}
	if want := "[1767323045,1767323045,"; string(a.Body[:len(want)]) != want {
		t.Errorf("clock beyond the journal %q, want the recorded start", a.Body)
	}
}

func TestReplayKV(t *testing.T) {
	e := newKVEnv(t)
	e.run(t, e.shop, `kv::set("price", 10); kv::set("p/1", 1)`, Limits{})
	ev := Event{App: e.shop.Slug, AppID: e.shop.ID}
	src := `let p = kv::get("price"); kv::set("seen", p + 1); kv::incr("hits"); kv::delete("p/1"); [p, kv::list("p/")]`
	rec := journaled(t, e.x, src, ev)

	// Production moves on: the replay still sees what the run saw, and
	// writes nothing.
	e.run(t, e.shop, `kv::set("price", 99); kv::delete("seen"); kv::set("p/1", 1)`, Limits{})
	res := replayed(t, e.x, src, ev, rec.Journal)
	if string(res.Body) != string(rec.Body) || string(res.Body) != `[10,[]]` {
		t.Fatalf("replay answered %q; production %q", res.Body, rec.Body)
	}
	if got := e.run(t, e.shop, `[kv::get("seen"), kv::get("hits"), kv::get("p/1")]`, Limits{}); got != `[null,1,1]` {
		t.Errorf("the replay wrote to the store: %s", got)
	}
	w := res.Replay.Writes
	if len(w) != 3 || w[0].Op != "kv::set" || w[0].Key != "seen" || w[0].Value != "11" ||
		w[1].Op != "kv::incr" || w[1].Int != 1 || w[2].Op != "kv::delete" || !w[2].Found {
		t.Errorf("captured writes %+v", w)
	}
	if len(res.Replay.NewEffects) != 0 {
		t.Errorf("new effects %+v", res.Replay.NewEffects)
	}

	// A version that reads another key: not read from the store, which
	// has it, but reported, and answered as absent.
	res = replayed(t, e.x, `[kv::get("price"), kv::get("stock", "none")]`, ev, rec.Journal)
	if string(res.Body) != `[10,"none"]` {
		t.Errorf("answered %q", res.Body)
	}
	if ne := res.Replay.NewEffects; len(ne) != 1 || ne[0].Op != "kv::get" || ne[0].Key != "stock" {
		t.Errorf("new effects %+v", ne)
	}
}

func TestReplayHTTP(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"n":` + r.URL.Query().Get("n") + `}`))
	})
	x := New(Config{})
	ev := allowed(true, "127.0.0.1")
	src := `http::get("` + up.URL + `/?n=1").json.n + http::post("` + up.URL + `/?n=2", "x").json.n`
	rec := journaled(t, x, src, ev)
	if string(rec.Body) != "3" || up.hits.Load() != 2 {
		t.Fatalf("production answered %q after %d calls", rec.Body, up.hits.Load())
	}
	res := replayed(t, x, src, ev, rec.Journal)
	if string(res.Body) != "3" || up.hits.Load() != 2 {
		t.Fatalf("replay answered %q; the upstream got %d calls", res.Body, up.hits.Load())
	}
	if w := res.Replay.Writes; len(w) != 2 || w[1].HTTP.Method != "POST" || string(w[1].HTTP.Body) != "x" {
		t.Errorf("captured writes %+v", w)
	}

	// A call production never made is not made, and reported.
	res = replayed(t, x, `let r = "called"; try { http::get("`+up.URL+`/?n=9"); } catch (e) { r = e.to_string(); } r`, ev, rec.Journal)
	if up.hits.Load() != 2 {
		t.Errorf("the replay called the upstream")
	}
	if ne := res.Replay.NewEffects; len(ne) != 1 || ne[0].HTTP.URL != up.URL+"/?n=9" {
		t.Errorf("new effects %+v", ne)
	}
	if !strings.Contains(string(res.Body), "not made by the recorded run") || res.Status != StatusOK {
		t.Errorf("status %s, body %q", res.Status, res.Body)
	}
}
