package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/orchestrator"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// loggedIDs holds the ids of the records the test servers' log writers
// stored (see InsertInvocations), for waitLogged.
var loggedIDs sync.Map

// InsertInvocations notes the records the log writer stores, so that a
// test can wait for one without sleeping or polling.
func (w *jobWatch) InsertInvocations(ctx context.Context, invs []store.Invocation) error {
	err := w.Store.InsertInvocations(ctx, invs)
	if err == nil {
		w.mu.Lock()
		for _, inv := range invs {
			loggedIDs.Store(inv.ID, true)
		}
		close(w.recorded)
		w.recorded = make(chan struct{})
		w.mu.Unlock()
	}
	return err
}

// waitLogged waits until the record id is stored.
func (s *testServer) waitLogged(t *testing.T, id string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		s.jobs.mu.Lock()
		recorded := s.jobs.recorded
		s.jobs.mu.Unlock()
		if _, ok := loggedIDs.Load(id); ok {
			return
		}
		select {
		case <-recorded:
		case <-timeout:
			t.Fatalf("record %s not stored after 10s", id)
		}
	}
}

// invoke calls app/script on the data plane and returns its invocation id.
func invoke(t *testing.T, srv *testServer, app, script, method, body string, header http.Header) string {
	t.Helper()
	req := client.InvokeRequest{App: app, Script: script, Method: method, Header: header}
	if body != "" {
		req.Body = strings.NewReader(body)
	}
	res, err := client.New(srv.URL, "").Invoke(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.InvocationID == "" {
		t.Fatalf("%s/%s: %d without an invocation id", app, script, res.Status)
	}
	return res.InvocationID
}

// running is a pic command running in the background, until stopped.
type running struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan int // the exit code
	out    *watchedBuffer
	errOut *watchedBuffer
}

// start runs pic in the background with a context that stop cancels, as
// Ctrl-C does.
func (sh *shell) start(args ...string) *running {
	sh.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: sh.t, cancel: cancel, done: make(chan int, 1), out: newWatchedBuffer(), errOut: newWatchedBuffer()}
	ios := &IOStreams{In: strings.NewReader(""), Out: r.out, ErrOut: r.errOut}
	go func() { r.done <- Run(ctx, args, ios, sh.getenv) }()
	sh.t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// stop interrupts the command and returns its exit code.
func (r *running) stop() int {
	r.t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code // for the cleanup
		return code
	case <-time.After(10 * time.Second):
		r.t.Fatal("pic did not stop after its interruption")
		return -1
	}
}

// watchedBuffer is an output stream that a test waits on.
type watchedBuffer struct {
	mu      sync.Mutex
	b       strings.Builder
	written chan struct{} // closed and replaced at every write
}

func newWatchedBuffer() *watchedBuffer { return &watchedBuffer{written: make(chan struct{})} }

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	close(w.written)
	w.written = make(chan struct{})
	return len(p), nil
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// waitFor waits until the stream holds s.
func (w *watchedBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		w.mu.Lock()
		text, written := w.b.String(), w.written
		w.mu.Unlock()
		if strings.Contains(text, s) {
			return
		}
		select {
		case <-written:
		case <-timeout:
			t.Fatalf("%q not written after 10s; got:\n%s", s, text)
		}
	}
}

func TestLogsFollow(t *testing.T) { dbtest.Run(t, testLogsFollow) }

func testLogsFollow(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	deploy(t, srv, app, "ok", `"fine"`)
	deploy(t, srv, app, "fail", `throw "no"`)

	t.Run("table", func(t *testing.T) {
		r := sh.start("logs", app, "--follow")
		r.errOut.waitFor(t, `Following the logs of app "`+app+`"; stop with Ctrl-C.`)
		id := invoke(t, srv, app, "ok", "GET", "", nil)
		r.out.waitFor(t, id)
		if code := r.stop(); code != 0 {
			t.Fatalf("exit %d after Ctrl-C; stderr %s", code, r.errOut)
		}
		got := rows(r.out.String())
		if len(got) != 2 || strings.Join(got[0], "\t") != strings.Join(logsHeader, "\t") {
			t.Fatalf("output %q", got)
		}
		row := got[1]
		if len(row) != len(logsHeader) || row[0] != id || row[1] != "ok" || row[2] != "1" || row[3] != "http" || row[4] != "ok" ||
			row[5] != "200" || !isRFC3339(row[7]) {
			t.Errorf("row %q", row)
		}
	})

	t.Run("json with a filter", func(t *testing.T) {
		r := sh.start("logs", app, "-f", "--status", "error", "-o", "json")
		r.errOut.waitFor(t, "Following the logs")
		invoke(t, srv, app, "ok", "GET", "", nil)
		failed := invoke(t, srv, app, "fail", "POST", "x", nil)
		r.out.waitFor(t, failed)
		if code := r.stop(); code != 0 {
			t.Fatalf("exit %d", code)
		}
		out := lines(r.out.String())
		if len(out) != 1 {
			t.Fatalf("want one JSON line, the error's; got %q", out)
		}
		var inv client.Invocation
		if err := json.Unmarshal([]byte(out[0]), &inv); err != nil {
			t.Fatal(err)
		}
		if inv.ID != failed || inv.Script != "fail" || inv.Status != "error" || inv.HTTPStatus != 500 || inv.App != app {
			t.Errorf("record %+v", inv)
		}
	})

	t.Run("after", func(t *testing.T) {
		first := invoke(t, srv, app, "ok", "GET", "", nil)
		second := invoke(t, srv, app, "ok", "GET", "", nil)
		srv.waitLogged(t, second)
		r := sh.start("logs", app, "--follow", "--after", first, "--script", "ok")
		r.out.waitFor(t, second)
		r.stop()
		if got := rows(r.out.String()); len(got) != 2 || got[1][0] != second {
			t.Errorf("after %s: %q", first, got)
		}
	})
}

// TestLogsFollowResumes: when the stream drops, pic reconnects and
// resumes after the last record it printed, with Last-Event-ID.
func TestLogsFollowResumes(t *testing.T) {
	t.Parallel()
	srv := shared(t, dbtest.SQLite)
	app := newApp(t, srv)
	deploy(t, srv, app, "ok", `"fine"`)

	// A proxy that cuts the first stream when told to.
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	var (
		mu          sync.Mutex
		lastEventID []string // of each stream request
		cutFirst    = make(chan struct{})
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/logs/stream") {
			mu.Lock()
			n := len(lastEventID)
			lastEventID = append(lastEventID, r.Header.Get("Last-Event-ID"))
			mu.Unlock()
			if n == 0 {
				ctx, cancel := context.WithCancel(r.Context())
				defer cancel()
				go func() {
					select {
					case <-cutFirst:
						cancel()
					case <-ctx.Done():
					}
				}()
				r = r.WithContext(ctx)
			}
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	sh := admin(t, srv).set(EnvURL, proxy.URL)
	r := sh.start("logs", app, "--follow")
	r.errOut.waitFor(t, "Following the logs")
	a := invoke(t, srv, app, "ok", "GET", "", nil)
	r.out.waitFor(t, a)
	close(cutFirst)
	r.errOut.waitFor(t, "reconnecting in 250ms")
	b := invoke(t, srv, app, "ok", "GET", "", nil)
	r.out.waitFor(t, b)
	r.errOut.waitFor(t, "Reconnected.")
	if code := r.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got := rows(r.out.String())
	if len(got) != 3 || got[1][0] != a || got[2][0] != b {
		t.Fatalf("output %q; want %s then %s once each", got, a, b)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lastEventID) < 2 || lastEventID[0] != "" || lastEventID[1] != a {
		t.Errorf("Last-Event-ID of the streams: %q, want \"\" then %s", lastEventID, a)
	}
}

func TestLogsFollowRefused(t *testing.T) {
	t.Parallel()
	srv := shared(t, dbtest.SQLite)
	app := newApp(t, srv)
	outsider, _, _ := newUser(t, srv, "member")
	sh := admin(t, srv)
	sh.fails(1, "error: HTTP 404: ", "logs", "no-such-app", "--follow")
	outsider.fails(1, "error: HTTP 403: ", "logs", app, "--follow")
	sh.fails(2, "--limit bounds a list", "logs", app, "--follow", "--limit", "5")
	sh.fails(2, "--after needs --follow", "logs", app, "--after", "X")
	sh.fails(2, "--follow streams invocation records", "logs", app, "--follow", "--status", "queued")
	sh.fails(2, "--follow and --after follow an app's logs", "logs", "show", "X", "--follow")
	down, _ := probe(t)
	sh.set(EnvURL, down).fails(1, "error: HTTP 418", "logs", app, "--follow")
}

func TestLogsReplay(t *testing.T) { dbtest.Run(t, testLogsReplay) }

func testLogsReplay(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	deploy(t, srv, app, "echo", `"v1 " + request.body`)
	deploy(t, srv, app, "echo", `"v2 " + request.body`)
	id := invoke(t, srv, app, "echo", "POST", "hello", http.Header{"Authorization": {"Bearer not-for-logs"}})
	srv.waitLogged(t, id)

	out := sh.ok("logs", "replay", id)
	ls := lines(out)
	if len(ls) < 6 {
		t.Fatalf("replay output:\n%s", out)
	}
	left, right, ok := strings.Cut(ls[0], " | ")
	if !ok || !strings.HasPrefix(left, "ORIGINAL "+id+" (version 2)") || !strings.HasPrefix(right, "REPLAY ") || !strings.HasSuffix(right, "(version 2)") {
		t.Errorf("title line %q", ls[0])
	}
	if !strings.Contains(out, "HTTP 200 ok") || !strings.Contains(out, "v2 hello") || !strings.HasSuffix(out, "\nThe responses are identical.\n") {
		t.Errorf("replay against live:\n%s", out)
	}

	out = sh.ok("logs", "replay", id, "--version", "1")
	if !strings.Contains(out, "| REPLAY ") || !strings.Contains(out, "(version 1)") || !strings.HasSuffix(out, "\nThe responses differ: body.\n") {
		t.Errorf("replay against v1:\n%s", out)
	}
	var body string
	for _, l := range lines(out) {
		if strings.HasPrefix(l, "v2 hello") {
			body = l
		}
	}
	if l, r, _ := strings.Cut(body, " | "); strings.TrimSpace(l) != "v2 hello" || r != "v1 hello" {
		t.Errorf("body line %q, want v2 hello | v1 hello", body)
	}

	var rep client.Replay
	if err := json.Unmarshal([]byte(sh.ok("logs", "replay", id, "--version", "1", "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Identical || rep.Original.InvocationID != id || *rep.Original.Body != "v2 hello" || *rep.Replay.Body != "v1 hello" ||
		rep.Replay.Version != 1 || rep.Replay.Status != 200 {
		t.Errorf("json %+v", rep)
	}

	// The record shows its request, without the Authorization header.
	shown := sh.ok("logs", "show", id, "-o", "json")
	if !strings.Contains(shown, `"request": {`) || !strings.Contains(shown, `"body": "hello"`) || strings.Contains(shown, "not-for-logs") {
		t.Errorf("logs show:\n%s", shown)
	}

	viewer, name, _ := newUser(t, srv, "member")
	if _, _, err := client.New(srv.URL, srv.AdminToken).PutMember(context.Background(), app, name, "viewer"); err != nil {
		t.Fatal(err)
	}
	viewer.fails(1, "error: HTTP 403: ", "logs", "replay", id)
	sh.fails(1, "error: HTTP 404: ", "logs", "replay", "no-such-id")
	sh.fails(1, "error: HTTP 404: ", "logs", "replay", id, "--version", "7")
	sh.fails(2, "--version must be", "logs", "replay", id, "--version", "-1")
	sh.fails(2, "--script, --status, --http-status and --limit filter a list", "logs", "replay", id, "--limit", "3")
	sh.fails(2, "--version and --force are for 'logs replay ID'", "logs", app, "--version", "1")

	// A request whose body was cut is replayed with --force: the refusal
	// names pic's flag, not the API's field.
	big := strings.Repeat("b", orchestrator.MaxRecordedBody+10)
	cut := invoke(t, srv, app, "echo", "POST", big, nil)
	srv.waitLogged(t, cut)
	r := sh.fails(1, fmt.Sprintf("error: HTTP 409: the request body of %s (%d bytes) was cut when it was recorded, so a replay would not send the same body; add --force to send the %d bytes that were kept\n",
		cut, len(big), orchestrator.MaxRecordedBody), "logs", "replay", cut)
	if strings.Contains(r.stderr, `"force"`) {
		t.Errorf("the CLI names the API's field: %v", r)
	}
	sh.ok("logs", "replay", cut, "--force")
}
