package manager

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/orchestrator"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// liveEnv is an env with a data plane on the same database and bus, as
// the all-in-one server wires them, whose records are written every few
// milliseconds; its manager replays through the data plane.
type liveEnv struct {
	*env
	orch *orchestrator.Orchestrator
	fn   *httptest.Server
	// logged receives the ids of the records written, as announced.
	logged chan string
	ended  chan struct{} // a stream ended
}

func newLiveEnv(t *testing.T, b dbtest.Backend) *liveEnv {
	t.Helper()
	e := &liveEnv{env: newEnv(t, b), logged: make(chan string, 1000), ended: make(chan struct{}, 100)}
	e.orch = orchestrator.New(orchestrator.Config{Store: e.st, Bus: e.bus, Secrets: testKeyring, LogFlushInterval: 5 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { e.orch.Close(context.Background()) })
	e.fn = httptest.NewServer(e.orch.Handler())
	t.Cleanup(e.fn.Close)
	e.bus.Subscribe(func(ev events.Event) {
		if ev.Kind == events.InvocationsLogged {
			_, ids := events.ParseInvocationsLogged(ev.Key)
			for _, id := range ids {
				e.logged <- id
			}
		}
	})
	// The manager of newEnv has no replayer: swap it for one that does.
	e.srv.Close()
	e.m = New(Config{Store: e.st, Bus: e.bus, Logger: slog.New(slog.DiscardHandler), Replayer: e.orch, Secrets: testKeyring})
	e.m.hashParams = cheapHash
	e.m.streamEnded = func() { e.ended <- struct{}{} }
	e.srv = httptest.NewServer(e.m.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// invoke calls a script on the data plane and waits until its record is
// written; it returns the invocation id.
func (e *liveEnv) invoke(method, path, body string, header map[string]string) string {
	e.t.Helper()
	req, err := http.NewRequest(method, e.fn.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	id := res.Header.Get(orchestrator.InvocationHeader)
	if id == "" {
		e.t.Fatalf("%s %s: %d without an invocation id", method, path, res.StatusCode)
	}
	e.waitLogged(id)
	return id
}

func (e *liveEnv) waitLogged(id string) {
	e.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-e.logged:
			if got == id {
				return
			}
		case <-timeout:
			e.t.Fatalf("record %s not written after 10s", id)
		}
	}
}

// deploy deploys a version through the API, as the admin.
func (e *liveEnv) deploy(app, name, source string) {
	e.t.Helper()
	if res := e.do("PUT", "/api/v1/apps/"+app+"/scripts/"+name, source, asAdmin, "text/plain"); res.status != 201 && res.status != 200 {
		e.t.Fatalf("deploy %s/%s: %d %s", app, name, res.status, res.body)
	}
}

// sseEvent is one message of a stream: its fields, and the comments
// before it.
type sseEvent struct {
	id, event, data, retry string
	comments               []string
}

// sseStream is an open stream, read by a goroutine into events.
type sseStream struct {
	res    *http.Response
	events chan sseEvent
	cancel context.CancelFunc
	done   chan struct{} // closed when the server ended the stream
}

// stream opens GET path as the role and checks that it is a stream.
func (e *liveEnv) stream(path, as string, header map[string]string) *sseStream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[as])
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" || res.Header.Get("Cache-Control") != "no-cache" {
		b, _ := io.ReadAll(res.Body)
		e.t.Fatalf("GET %s: %d %s %s", path, res.StatusCode, res.Header, b)
	}
	wantAPIHeaders(e.t, res.Header)
	s := &sseStream{res: res, events: make(chan sseEvent, 100), cancel: cancel, done: make(chan struct{})}
	go s.read()
	e.t.Cleanup(s.close)
	return s
}

func (s *sseStream) read() {
	defer close(s.done)
	sc := bufio.NewScanner(s.res.Body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			s.events <- ev
			ev = sseEvent{}
			continue
		}
		if c, ok := strings.CutPrefix(line, ":"); ok {
			ev.comments = append(ev.comments, strings.TrimSpace(c))
			continue
		}
		name, value, _ := strings.Cut(line, ": ")
		switch name {
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "data":
			ev.data = value
		case "retry":
			ev.retry = value
		}
	}
}

func (s *sseStream) close() {
	s.cancel()
	s.res.Body.Close()
}

// next returns the next message with data, skipping the others.
func (s *sseStream) next(t *testing.T) (sseEvent, api.Invocation) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if ev.data == "" {
				continue
			}
			var inv api.Invocation
			if err := json.Unmarshal([]byte(ev.data), &inv); err != nil {
				t.Fatalf("event data %q: %v", ev.data, err)
			}
			return ev, inv
		case <-s.done:
			t.Fatal("the stream ended")
		case <-timeout:
			t.Fatal("no event after 10s")
		}
	}
}

// TestLogStream: a stream gets the records of its app written after it
// opened, in the logs list's shape, and only those its filters select.
func TestLogStream(t *testing.T) { dbtest.Run(t, testLogStream) }

func testLogStream(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	e.deploy("demo", "fail", `throw "no"`)
	all := e.stream("/api/v1/apps/demo/logs/stream", asViewer, nil)
	errs := e.stream("/api/v1/apps/demo/logs/stream?status=error", asViewer, nil)
	fails := e.stream("/api/v1/apps/demo/logs/stream?script=fail", asAdmin, nil)
	if n := e.m.live.count(); n != 3 {
		t.Fatalf("%d streams registered, want 3", n)
	}

	other := e.invoke("GET", "/fn/other/secret", "", nil)
	ok := e.invoke("GET", "/fn/demo/hello", "", nil)
	failed := e.invoke("POST", "/fn/demo/fail", "x", nil)

	// The id field is the greatest id sent, or the starting point: here
	// the seeded inv-demo-error, which sorts after the data plane's ids.
	ev, inv := all.next(t)
	if ev.event != "invocation" || ev.id != max("inv-demo-error", ok) || inv.ID != ok || inv.App != "demo" || inv.Script != "hello" || inv.Version != 2 ||
		inv.Trigger != "http" || inv.Status != "ok" || inv.HTTPStatus != 200 || inv.Output != nil {
		t.Errorf("first event %+v %+v", ev, inv)
	}
	if strings.Contains(ev.data, `"request"`) || strings.Contains(ev.data, `"output"`) {
		t.Errorf("event data is not the list's shape: %s", ev.data)
	}
	if ev, inv = all.next(t); inv.ID != failed || inv.Status != "error" || ev.id != max("inv-demo-error", failed) {
		t.Errorf("second event %+v", inv)
	}
	if _, inv = errs.next(t); inv.ID != failed {
		t.Errorf("the error stream got %+v first, want %s", inv, failed)
	}
	if _, inv = fails.next(t); inv.ID != failed {
		t.Errorf("the script stream got %+v first, want %s", inv, failed)
	}
	// Nothing else came: not the other app's record, nor a repeat.
	marker := e.invoke("GET", "/fn/demo/fail", "", nil)
	for _, s := range []*sseStream{all, errs, fails} {
		if _, inv := s.next(t); inv.ID != marker {
			t.Errorf("got %s, want the marker %s (other app: %s)", inv.ID, marker, other)
		}
	}
}

// TestLogStreamResume: with Last-Event-ID or ?after=, a stream first
// sends the records after that id, oldest first, then goes on live.
func TestLogStreamResume(t *testing.T) { dbtest.Run(t, testLogStreamResume) }

func testLogStreamResume(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	// The seeded records of demo by id: inv-demo-dead-1..3, inv-demo-error, inv-demo-ok.
	for _, tc := range []struct {
		name   string
		path   string
		header map[string]string
		want   []string
	}{
		{"after", "/api/v1/apps/demo/logs/stream?after=inv-demo-dead-3", nil, []string{"inv-demo-error", "inv-demo-ok"}},
		{"Last-Event-ID", "/api/v1/apps/demo/logs/stream", map[string]string{"Last-Event-ID": "inv-demo-dead-1"},
			[]string{"inv-demo-dead-2", "inv-demo-dead-3", "inv-demo-error", "inv-demo-ok"}},
		{"header over query", "/api/v1/apps/demo/logs/stream?after=inv-demo-dead-1", map[string]string{"Last-Event-ID": "inv-demo-error"},
			[]string{"inv-demo-ok"}},
		{"with a filter", "/api/v1/apps/demo/logs/stream?status=ok&after=inv-demo-dead-1", nil, []string{"inv-demo-ok"}},
		{"by HTTP status", "/api/v1/apps/demo/logs/stream?http_status=2xx&after=inv-demo-dead-1", nil, []string{"inv-demo-ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := e.stream(tc.path, asViewer, tc.header)
			for _, want := range tc.want {
				if ev, inv := s.next(t); inv.ID != want || ev.id != want {
					t.Fatalf("got %s (id field %s), want %s", inv.ID, ev.id, want)
				}
			}
		})
	}
	// The stream goes on live after catching up, and a record both read
	// and announced is sent once.
	s := e.stream("/api/v1/apps/demo/logs/stream?after=inv-demo-error", asViewer, nil)
	if _, inv := s.next(t); inv.ID != "inv-demo-ok" {
		t.Fatalf("caught up with %s", inv.ID)
	}
	live := e.invoke("GET", "/fn/demo/hello", "", nil)
	if _, inv := s.next(t); inv.ID != live {
		t.Fatalf("live record %s, want %s", inv.ID, live)
	}
}

// TestLogStreamStart: a stream without a starting point announces the
// newest record's id, to resume from; a stream's first message suggests
// a retry delay.
func TestLogStreamStart(t *testing.T) {
	e := newLiveEnv(t, dbtest.SQLite)
	s := e.stream("/api/v1/apps/demo/logs/stream", asViewer, nil)
	select {
	case ev := <-s.events:
		if ev.retry != "2000" || ev.id != "inv-demo-error" || ev.data != "" {
			t.Errorf("first message %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no first message")
	}
}

// TestLogStreamCatchUp: announcements that overflow a stream's buffer,
// or that may have been missed (Resync), are read from the store after
// the last record sent.
func TestLogStreamCatchUp(t *testing.T) { dbtest.Run(t, testLogStreamCatchUp) }

func testLogStreamCatchUp(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	e := newLiveEnv(t, b)
	e.m.live.maxPending = 2
	s := e.stream("/api/v1/apps/demo/logs/stream?after=inv-demo-ok", asViewer, nil) // the greatest seeded id
	demo := e.apps["demo"]
	rec := func(id string) store.Invocation {
		return store.Invocation{ID: id, AppID: demo.ID, AppSlug: "demo", Script: "hello", Version: 2, Trigger: store.TriggerHTTP,
			StartedAt: time.Now().UTC(), Status: store.StatusOK, HTTPStatus: 200}
	}
	e.must(e.st.InsertInvocations(context.Background(), []store.Invocation{rec("zz-1"), rec("zz-2"), rec("zz-3")}))
	// Three ids for a buffer of two: dropped, then read from the store.
	for _, ev := range events.InvocationsLoggedEvents("demo", []string{"zz-1", "zz-2", "zz-3"}) {
		e.bus.Publish(ev)
	}
	for _, want := range []string{"zz-1", "zz-2", "zz-3"} {
		if _, inv := s.next(t); inv.ID != want {
			t.Fatalf("got %s, want %s", inv.ID, want)
		}
	}
	// Written with no announcement (the bus was down): Resync.
	e.must(e.st.InsertInvocations(context.Background(), []store.Invocation{rec("zz-4")}))
	e.m.Resync()
	if _, inv := s.next(t); inv.ID != "zz-4" {
		t.Fatalf("after Resync: %s", inv.ID)
	}
}

// TestLogStreamKeepAlive: a quiet stream sends comments.
func TestLogStreamKeepAlive(t *testing.T) {
	e := newLiveEnv(t, dbtest.SQLite)
	e.m.streamKeepAlive = 10 * time.Millisecond
	s := e.stream("/api/v1/apps/demo/logs/stream", asViewer, nil)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if len(ev.comments) > 0 {
				if ev.comments[0] != "keep-alive" {
					t.Fatalf("comment %q", ev.comments[0])
				}
				return
			}
		case <-timeout:
			t.Fatal("no keep-alive after 10s")
		}
	}
}

// TestLogStreamDisconnect: when the client goes, its stream ends and
// unsubscribes: no goroutine or subscription is left behind.
func TestLogStreamDisconnect(t *testing.T) {
	e := newLiveEnv(t, dbtest.SQLite)
	s := e.stream("/api/v1/apps/demo/logs/stream", asViewer, nil)
	if n := e.m.live.count(); n != 1 {
		t.Fatalf("%d streams, want 1", n)
	}
	s.close()
	select {
	case <-e.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream's handler did not end after its client left")
	}
	if n := e.m.live.count(); n != 0 {
		t.Errorf("%d streams left, want 0", n)
	}
	// With nobody listening, an announcement finds no stream.
	e.invoke("GET", "/fn/demo/hello", "", nil)
	if n := e.m.live.count(); n != 0 {
		t.Errorf("%d streams after an announcement", n)
	}
}

// TestLogStreamShutdown: EndStreams ends the open streams, so that
// http.Server.Shutdown returns at once, and new streams are refused.
func TestLogStreamShutdown(t *testing.T) {
	e := newLiveEnv(t, dbtest.SQLite)
	srv := &http.Server{Handler: e.m.Handler()}
	srv.RegisterOnShutdown(e.m.EndStreams)
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = srv
	hs.Start()
	e.srv = hs // e.stream uses it
	streams := []*sseStream{
		e.stream("/api/v1/apps/demo/logs/stream", asViewer, nil),
		e.stream("/api/v1/apps/other/logs/stream", asAdmin, nil),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	var shutdownErr error
	go func() {
		defer wg.Done()
		shutdownErr = srv.Shutdown(ctx)
	}()
	for _, s := range streams {
		select {
		case <-s.done:
		case <-ctx.Done():
			t.Fatal("a stream did not end on shutdown")
		}
	}
	wg.Wait()
	if shutdownErr != nil {
		t.Fatalf("Shutdown: %v", shutdownErr)
	}

	// A manager whose streams ended refuses new ones.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/apps/demo/logs/stream", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens[asViewer])
	e.m.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "shutting down") {
		t.Errorf("stream after EndStreams: %d %s", rec.Code, rec.Body)
	}
}

func TestLogStreamScenarios(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "anonymous", method: "GET", url: "/api/v1/apps/demo/logs/stream", status: 401},
		{name: "outsider", method: "GET", url: "/api/v1/apps/demo/logs/stream", as: asOutsider, status: 403},
		{name: "unknown app", method: "GET", url: "/api/v1/apps/nope/logs/stream", as: asAdmin, status: 404},
		{name: "unknown app as member", method: "GET", url: "/api/v1/apps/nope/logs/stream", as: asViewer, status: 403},
		{name: "job state", method: "GET", url: "/api/v1/apps/demo/logs/stream?status=queued", as: asViewer, status: 422,
			contains: []string{"ok, error, timeout or limit"}},
		{name: "bad status", method: "GET", url: "/api/v1/apps/demo/logs/stream?status=weird", as: asViewer, status: 422},
		{name: "bad HTTP status", method: "GET", url: "/api/v1/apps/demo/logs/stream?http_status=2x", as: asViewer, status: 422,
			contains: []string{`invalid http_status \"2x\"`}},
		{name: "bad script", method: "GET", url: "/api/v1/apps/demo/logs/stream?script=-x", as: asViewer, status: 422},
		{name: "bad after", method: "GET", url: "/api/v1/apps/demo/logs/stream?after=a%0Ab", as: asViewer, status: 422,
			contains: []string{"invalid Last-Event-ID or after"}},
		{name: "POST", method: "POST", url: "/api/v1/apps/demo/logs/stream", as: asViewer, status: 405},
	})
}
