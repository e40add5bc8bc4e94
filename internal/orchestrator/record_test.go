package orchestrator

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestDeniedHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
		"X-Api-Key": true, "X-API-KEY": true, "Apikey": true, "X-Auth-Token": true, "X-Csrf-Token": true,
		"X-Xsrf-Token": true, "X-Hub-Signature-256": true, "Stripe-Signature": true, "X-Session-Id": true,
		"X-Client-Secret": true, "X-Password": true, "Www-Authenticate": true, "Ocp-Apim-Subscription-Key": true,
		"X-Amz-Security-Token": true, "X-Credentials": true,
		"Content-Type": false, "Accept": false, "User-Agent": false, "X-Request-Id": false, "X-Forwarded-For": false,
		"Content-Length": false, "Accept-Encoding": false, "X-Github-Event": false, "Keep-Alive": false, "": false,
	} {
		if got := deniedHeader(name); got != want {
			t.Errorf("deniedHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRecordedHeaderSharesWhenNothingIsDenied(t *testing.T) {
	h := http.Header{"Content-Type": {"text/plain"}, "Accept": {"*/*"}}
	if got := recordedHeader(h); got == nil || &got["Accept"][0] != &h["Accept"][0] || len(got) != 2 {
		t.Fatalf("recordedHeader copied a header with nothing to leave out: %v", got)
	}
	if n := testing.AllocsPerRun(100, func() { recordedHeader(h) }); n != 0 {
		t.Errorf("recordedHeader of a clean header allocates %v times", n)
	}
	h.Set("Authorization", "Bearer x")
	got := recordedHeader(h)
	if len(got) != 2 || got.Get("Authorization") != "" || h.Get("Authorization") == "" {
		t.Fatalf("recordedHeader = %v from %v", got, h)
	}
	if got := recordedHeader(http.Header{"Cookie": {"a=1"}}); got != nil {
		t.Errorf("recordedHeader of credentials alone = %v, want nil", got)
	}
}

func TestRecordedBody(t *testing.T) {
	small := []byte("hello")
	if b, cut := recordedBody(small); cut || &b[0] != &small[0] {
		t.Errorf("a small body is copied or cut: %q %v", b, cut)
	}
	if b, cut := recordedBody(nil); b != nil || cut {
		t.Errorf("empty body: %q %v", b, cut)
	}
	exact := make([]byte, MaxRecordedBody)
	if b, cut := recordedBody(exact); cut || len(b) != MaxRecordedBody {
		t.Errorf("a body of the bound: %d bytes, cut %v", len(b), cut)
	}
	// Text whose cut falls inside "é" (2 bytes) is cut before it.
	text := []byte(strings.Repeat("a", MaxRecordedBody-1) + "éé")
	b, cut := recordedBody(text)
	if !cut || len(b) != MaxRecordedBody-1 || !utf8.Valid(b) {
		t.Errorf("text cut to %d bytes (valid %v), cut %v", len(b), utf8.Valid(b), cut)
	}
	text[0] = 'z'
	if b[0] != 'a' {
		t.Error("a cut body shares the request's memory")
	}
	bin := make([]byte, MaxRecordedBody+10)
	for i := range bin {
		bin[i] = 0xff
	}
	if b, cut := recordedBody(bin); !cut || len(b) < MaxRecordedBody-3 || len(b) > MaxRecordedBody {
		t.Errorf("binary cut to %d bytes, cut %v", len(b), cut)
	}
}

// TestRecordedExchange: an HTTP invocation's record carries its request
// (without credentials) and the script's response (without Set-Cookie);
// a failed run's, the status alone; a long body is cut and marked.
func TestRecordedExchange(t *testing.T) { dbtest.Run(t, testRecordedExchange) }

func testRecordedExchange(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.app("demo", store.AppLimits{MaxBodyBytes: 1 << 20})
	e.deploy("demo", "echo", `response(201, "got " + request.body.len(), #{"X-Out": "yes", "Set-Cookie": "s=1", "Content-Type": "text/plain"})`)
	e.deploy("demo", "fail", `throw "no"`)

	rec := e.do("POST", "/fn/demo/echo/a/b?x=1&y=%C3%A9", strings.NewReader("payload"), map[string]string{
		"Content-Type": "text/plain", "X-Custom": "kept", "Authorization": "Bearer secret-1", "Cookie": "sid=secret-2",
		"X-Api-Key": "secret-3", "X-Hub-Signature-256": "sha256=secret-4"})
	if rec.Code != 201 {
		t.Fatalf("echo: %d %s", rec.Code, rec.Body)
	}
	okID := rec.Header().Get(InvocationHeader)
	rec = e.do("GET", "/fn/demo/fail", nil, nil)
	failID := rec.Header().Get(InvocationHeader)
	big := strings.Repeat("x", MaxRecordedBody+100)
	rec = e.do("PUT", "/fn/demo/echo", strings.NewReader(big), nil)
	bigID := rec.Header().Get(InvocationHeader)
	e.logs()

	got := e.getRecord(okID)
	req, resp := got.Request, got.Response
	if req == nil || resp == nil {
		t.Fatalf("record without exchange: %+v", got)
	}
	if req.Method != "POST" || req.Path != "/a/b" || req.Query != "x=1&y=%C3%A9" || req.Host != "example.com" ||
		string(req.Body) != "payload" || req.BodySize != 7 || req.BodyTruncated {
		t.Errorf("request %+v", req)
	}
	if req.Header.Get("Content-Type") != "text/plain" || req.Header.Get("X-Custom") != "kept" {
		t.Errorf("request headers %v", req.Header)
	}
	for _, name := range []string{"Authorization", "Cookie", "X-Api-Key", "X-Hub-Signature-256"} {
		if _, ok := req.Header[name]; ok {
			t.Errorf("request header %s recorded", name)
		}
	}
	if resp.Status != 201 || string(resp.Body) != "got 7" || resp.Header.Get("X-Out") != "yes" || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("response %+v", resp)
	}

	got = e.getRecord(failID)
	if got.Request == nil || got.Request.Method != "GET" || got.Response == nil || !reflect.DeepEqual(*got.Response, store.HTTPResponse{Status: 500}) {
		t.Errorf("failed run's exchange: %+v %+v", got.Request, got.Response)
	}

	got = e.getRecord(bigID)
	if got.Request == nil || !got.Request.BodyTruncated || got.Request.BodySize != len(big) || len(got.Request.Body) != MaxRecordedBody {
		t.Errorf("big request: truncated %v, size %d, kept %d", got.Request.BodyTruncated, got.Request.BodySize, len(got.Request.Body))
	}
}

// TestRecordedAsyncExchange: an async job's attempt records the request
// it was queued with, without credentials, and its script's response.
func TestRecordedAsyncExchange(t *testing.T) { dbtest.Run(t, testRecordedAsyncExchange) }

func testRecordedAsyncExchange(t *testing.T, b dbtest.Backend) {
	e := newEnvOn(t, b, Config{})
	e.deploy("demo", "echo", `"async " + request.body`)
	ran := watch(e.orch)
	id := accepted(t, e.do("POST", "/fn/demo/echo/p?async=1&q=1", strings.NewReader("hi"),
		map[string]string{"Authorization": "Bearer secret", "X-Trace": "t1"}))
	start(t, e.orch)
	ran.next(t)
	invs := e.attemptsOf(id)
	if len(invs) != 1 {
		t.Fatalf("attempts %+v", invs)
	}
	got := e.getRecord(invs[0].ID)
	req := got.Request
	if req == nil || req.Method != "POST" || req.Path != "/p" || req.Query != "async=1&q=1" || string(req.Body) != "hi" ||
		req.Header.Get("X-Trace") != "t1" || req.Header.Get("Authorization") != "" {
		t.Errorf("async request %+v", req)
	}
	if got.Response == nil || got.Response.Status != 200 || string(got.Response.Body) != "async hi" {
		t.Errorf("async response %+v", got.Response)
	}
}

// TestAnnounceAfterWrite: once a batch of records is stored, the bus
// carries InvocationsLogged events naming them by app, and a job's
// attempt is announced as it is recorded; nothing is published before
// the records can be read.
func TestAnnounceAfterWrite(t *testing.T) {
	e := newEnv(t, Config{})
	e.deploy("demo", "ok", `"ok"`)
	e.deploy("other", "ok", `"ok"`)
	type seen struct {
		slug  string
		ids   []string
		found int // how many of ids the store had when the event came
	}
	ch := make(chan seen, 10)
	e.bus.Subscribe(func(ev events.Event) {
		if ev.Kind != events.InvocationsLogged {
			return
		}
		slug, ids := events.ParseInvocationsLogged(ev.Key)
		list, err := e.st.ListInvocations(context.Background(), store.InvocationFilter{IDs: ids})
		if err != nil {
			t.Error(err)
		}
		ch <- seen{slug, ids, len(list)}
	})
	var demo []string
	for range 3 {
		demo = append(demo, e.do("GET", "/fn/demo/ok", nil, nil).Header().Get(InvocationHeader))
	}
	other := e.do("GET", "/fn/other/ok", nil, nil).Header().Get(InvocationHeader)
	e.logs() // flushes

	got := map[string]seen{}
	for range 2 {
		select {
		case s := <-ch:
			got[s.slug] = s
		default:
			t.Fatalf("announced: %v", got)
		}
	}
	if s := got["demo"]; !slices.Equal(s.ids, demo) || s.found != 3 {
		t.Errorf("demo announced %+v, want %v", s, demo)
	}
	if s := got["other"]; !slices.Equal(s.ids, []string{other}) || s.found != 1 {
		t.Errorf("other announced %+v, want %v", s, other)
	}
	select {
	case s := <-ch:
		t.Errorf("extra event %+v", s)
	default:
	}
}

func TestAnnounceJobAttempt(t *testing.T) {
	e := newEnv(t, Config{})
	e.deploy("demo", "ok", `"ok"`)
	ch := make(chan string, 10)
	e.bus.Subscribe(func(ev events.Event) {
		if ev.Kind == events.InvocationsLogged {
			ch <- ev.Key
		}
	})
	ran := watch(e.orch)
	id := accepted(t, e.do("POST", "/fn/demo/ok?async=1", nil, nil))
	start(t, e.orch)
	ran.next(t)
	invs := e.attemptsOf(id)
	if len(invs) != 1 {
		t.Fatalf("attempts %+v", invs)
	}
	select {
	case key := <-ch:
		if key != "demo "+invs[0].ID {
			t.Errorf("announced %q, want %q", key, "demo "+invs[0].ID)
		}
	default:
		t.Fatal("the attempt was not announced")
	}
}

func TestInvocationsLoggedEventsSplit(t *testing.T) {
	var ids []string
	for i := range 400 {
		ids = append(ids, fmt.Sprintf("%s%03d", strings.Repeat("A", idLen-3), i))
	}
	evs := events.InvocationsLoggedEvents("some-app", ids)
	if len(evs) < 2 {
		t.Fatalf("%d events for 400 ids", len(evs))
	}
	var back []string
	for _, ev := range evs {
		if len(ev.Key) > 4000 {
			t.Errorf("key of %d bytes", len(ev.Key))
		}
		slug, part := events.ParseInvocationsLogged(ev.Key)
		if slug != "some-app" {
			t.Errorf("slug %q", slug)
		}
		back = append(back, part...)
	}
	if !slices.Equal(back, ids) {
		t.Error("the ids do not come back whole and in order")
	}
	if evs := events.InvocationsLoggedEvents("x", nil); len(evs) != 0 {
		t.Errorf("events for no ids: %v", evs)
	}
}

// getRecord reads one record with its exchange.
func (e *testEnv) getRecord(id string) store.Invocation {
	e.t.Helper()
	inv, err := e.st.GetInvocation(context.Background(), id)
	if err != nil {
		e.t.Fatalf("GetInvocation %s: %v", id, err)
	}
	return inv
}
