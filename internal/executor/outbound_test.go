package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// upstream is an httptest server that counts the requests it gets.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func newUpstream(t *testing.T, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

// port is the upstream's port.
func (u *upstream) port() string {
	return strings.TrimPrefix(u.URL[strings.LastIndexByte(u.URL, ':'):], ":")
}

// allowed is an event of an app that allows hosts; tests reach their
// upstreams on 127.0.0.1, so with private the hosts are on the
// administrators' private list, and otherwise on the editors' allow-list,
// which reaches public addresses only.
func allowed(private bool, hosts ...string) Event {
	if private {
		return Event{App: "demo", Script: "call", Outbound: Outbound{Private: hosts}}
	}
	return Event{App: "demo", Script: "call", Outbound: Outbound{Allow: hosts}}
}

// runOK runs src and fails unless it finished ok; it returns the body.
func runOK(t *testing.T, x *Executor, src string, ev Event) string {
	t.Helper()
	res := run(t, x, src, ev, Limits{})
	if res.Status != StatusOK {
		t.Fatalf("status %s (%d): %v\n%s", res.Status, res.HTTPStatus, res.Err, src)
	}
	return string(res.Body)
}

// runErr runs src and fails unless it failed with an error whose text
// holds want; it returns the result.
func runErr(t *testing.T, x *Executor, src string, ev Event, lim Limits, want string) Result {
	t.Helper()
	res := run(t, x, src, ev, lim)
	if res.Status == StatusOK || res.Err == nil {
		t.Fatalf("status %s, body %q; want an error saying %q\n%s", res.Status, res.Body, want, src)
	}
	if !strings.Contains(res.Err.Error(), want) {
		t.Fatalf("error %q; want it to say %q\n%s", res.Err, want, src)
	}
	return res
}

func TestHTTPGet(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, `{"path": %q, "q": %q, "ua": %q, "token": %q}`, r.URL.Path, r.URL.RawQuery, r.UserAgent(), r.Header.Get("X-Token"))
	})
	x := New(Config{})
	src := fmt.Sprintf(`
		let r = http::get(%q);
		let h = http::get(%q, #{"X-Token": "s3cret", "User-Agent": "mine"});
		#{status: r.status, upstream: r.headers["x-upstream"], ctype: r.headers["content-type"],
		  path: r.json.path, q: r.json.q, ua: r.json.ua, body_is_string: type_of(r.body) == "string",
		  token: h.json.token, ua2: h.json.ua}`, up.URL+"/items?id=7", up.URL)
	var got map[string]any
	if err := json.Unmarshal([]byte(runOK(t, x, src, allowed(true, "127.0.0.1"))), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"status": 418.0, "upstream": "yes", "ctype": "application/json", "path": "/items", "q": "id=7",
		"ua": "PiCloud", "body_is_string": true, "token": "s3cret", "ua2": "mine"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}

func TestHTTPBodies(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s|%s|%s|%s", r.Method, r.URL.Path, r.Header.Get("Content-Type"), strings.Join(r.Header.Values("X-Multi"), ","), body)
	})
	x := New(Config{})
	ev := allowed(true, "127.0.0.1")
	for _, c := range []struct{ name, call, want string }{
		{"post a map as JSON", `http::post(URL, #{n: 1, tags: ["a"]})`, `POST /|application/json||{"n":1,"tags":["a"]}`},
		{"post an array as JSON", `http::post(URL, [1, 2])`, `POST /|application/json||[1,2]`},
		{"post a string", `http::post(URL, "hello")`, `POST /|text/plain; charset=utf-8||hello`},
		{"post a blob", `http::post(URL, blob(3, 65))`, `POST /|application/octet-stream||AAA`},
		{"post with headers", `http::post(URL, "<a/>", #{"content-type": "application/xml", "x-multi": ["1", "2"]})`, `POST /|application/xml|1,2|<a/>`},
		{"post nothing", `http::post(URL, ())`, `POST /|||`},
		{"request PUT", `http::request(#{method: "put", url: URL + "/x", body: #{ok: true}})`, `PUT /x|application/json||{"ok":true}`},
		{"request DELETE", `http::request(#{method: "DELETE", url: URL, headers: #{"X-Multi": "z"}})`, `DELETE /||z|`},
		{"request defaults to GET", `http::request(#{url: URL})`, `GET /|||`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "const URL = " + fmt.Sprintf("%q", up.URL) + ";\nlet r = " + c.call + ";\nif r.json != () { throw \"json for text\" }\nr.body"
			if got := runOK(t, x, src, ev); got != c.want {
				t.Errorf("upstream saw %q, want %q", got, c.want)
			}
		})
	}
}

func TestHTTPOffByDefault(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	x := New(Config{})
	res := runErr(t, x, fmt.Sprintf(`http::get(%q)`, up.URL), Event{App: "demo"}, Limits{},
		"http::get: outbound HTTP is off for app demo: allow hosts with 'pic apps set-outbound demo --allow HOST'")
	if res.HTTPStatus != http.StatusInternalServerError || res.Status != StatusError {
		t.Errorf("status %s %d, want error 500", res.Status, res.HTTPStatus)
	}
	if up.hits.Load() != 0 {
		t.Error("the upstream was called")
	}
}

func TestHTTPDisallowedHost(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	x := New(Config{})
	ev := allowed(true, "api.example.com", "127.0.0.1:1")
	runErr(t, x, `http::get("https://evil.com/steal")`, ev, Limits{}, "http::get: host evil.com is not in this app's allow-list")
	// An allowed IP on another port than the one listed.
	runErr(t, x, fmt.Sprintf(`http::get(%q)`, up.URL), ev, Limits{}, "host 127.0.0.1:"+up.port()+" is not in this app's allow-list")
	// The error can be caught.
	got := runOK(t, x, `let r = "sent"; try { http::post("http://evil.com", "x"); } catch (e) { r = "caught: " + e.message; } r`, ev)
	if got != "caught: http::post: host evil.com is not in this app's allow-list" {
		t.Errorf("caught %q", got)
	}
	if up.hits.Load() != 0 {
		t.Error("the upstream was called")
	}
}

func TestHTTPPrivateAddressRefused(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "inside") })
	x := New(Config{})
	src := fmt.Sprintf(`http::get(%q).body`, up.URL)
	runErr(t, x, src, allowed(false, "127.0.0.1"), Limits{},
		"http::get: refused to connect to 127.0.0.1 (a loopback address): private addresses are reachable only when an administrator names them in this app's private list")
	if up.hits.Load() != 0 {
		t.Fatal("the upstream was called")
	}
	// The same call with private addresses allowed by an administrator.
	if got := runOK(t, x, src, allowed(true, "127.0.0.1")); got != "inside" {
		t.Errorf("body %q", got)
	}
}

// TestHTTPNameResolvingToLoopback: a host name on the allow-list that
// resolves to a loopback address is refused when dialed; the check is on
// the address, not on the name.
func TestHTTPNameResolvingToLoopback(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "inside") })
	x := New(Config{})
	src := fmt.Sprintf(`http::get("http://localhost:%s/").body`, up.port())
	res := runErr(t, x, src, allowed(false, "localhost"), Limits{}, "http::get: refused to connect to ")
	if !strings.Contains(res.Err.Error(), "(a loopback address)") {
		t.Errorf("error %q does not name a loopback address", res.Err)
	}
	if up.hits.Load() != 0 {
		t.Fatal("the upstream was called")
	}
	if got := runOK(t, x, src, allowed(true, "localhost")); got != "inside" {
		t.Errorf("with the name on the private list: body %q", got)
	}
	// An administrator who lists the address rather than the name lets
	// the name reach it too.
	if got := runOK(t, x, src, Event{App: "demo", Outbound: Outbound{Allow: []string{"localhost"}, Private: []string{"127.0.0.0/8"}}}); got != "inside" {
		t.Errorf("with the address on the private list: body %q", got)
	}
}

// The attack: once an administrator let an app reach private addresses,
// its editors chose which. Now only the administrators' private list
// reaches them: a loopback address or a name resolving to one on the
// editors' list is refused, although the app may reach other private
// addresses; and a listed address does not open another.
func TestHTTPEditorsCannotChoosePrivateTargets(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "inside") })
	x := New(Config{})
	for _, ev := range []Event{
		{App: "demo", Outbound: Outbound{Allow: []string{"127.0.0.1", "localhost"}, Private: []string{"10.0.0.0/8", "db.internal"}}},
		{App: "demo", Outbound: Outbound{Allow: []string{"127.0.0.1", "localhost"}, Private: []string{"127.0.0.2"}}},
	} {
		for _, u := range []string{up.URL, "http://localhost:" + up.port()} {
			runErr(t, x, fmt.Sprintf(`http::get(%q)`, u), ev, Limits{}, "(a loopback address): private addresses are reachable only when an administrator names them")
		}
	}
	if up.hits.Load() != 0 {
		t.Fatalf("the loopback upstream was called %d times", up.hits.Load())
	}
	// A pooled connection of an app that may reach it serves no other app.
	if got := runOK(t, x, fmt.Sprintf(`http::get(%q).body`, up.URL), allowed(true, "127.0.0.1")); got != "inside" {
		t.Fatalf("the administrators' list: %q", got)
	}
	runErr(t, x, fmt.Sprintf(`http::get(%q)`, up.URL), allowed(false, "127.0.0.1"), Limits{}, "refused to connect to 127.0.0.1")
	if up.hits.Load() != 1 {
		t.Fatalf("the upstream was called %d times, want 1", up.hits.Load())
	}
}

func TestHTTPRedirects(t *testing.T) {
	inner := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "inner") })
	var loop *upstream
	loop = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL+"/again", http.StatusFound)
	})
	front := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/evil":
			http.Redirect(w, r, "http://evil.test/x", http.StatusFound)
		case "/inner":
			http.Redirect(w, r, inner.URL+"/", http.StatusTemporaryRedirect)
		case "/hop":
			http.Redirect(w, r, "/done", http.StatusMovedPermanently)
		default:
			io.WriteString(w, "front "+r.URL.Path)
		}
	})
	x := New(Config{})
	// front is public to this executor; every other address on 127.0.0.1
	// stays loopback.
	x.outbound.exempt = func(ap netip.AddrPort) bool { return fmt.Sprint(ap.Port()) == front.port() }
	ev := allowed(false, "127.0.0.1")

	if got := runOK(t, x, fmt.Sprintf(`http::get(%q).body`, front.URL+"/hop"), ev); got != "front /done" {
		t.Errorf("followed a redirect to %q, want front /done", got)
	}
	runErr(t, x, fmt.Sprintf(`http::get(%q)`, front.URL+"/evil"), ev, Limits{},
		"http::get: redirected to http://evil.test/x: host evil.test is not in this app's allow-list")
	runErr(t, x, fmt.Sprintf(`http::get(%q)`, front.URL+"/inner"), ev, Limits{},
		"http::get: refused to connect to 127.0.0.1 (a loopback address)")
	if inner.hits.Load() != 0 {
		t.Error("a redirect reached a private address")
	}

	runErr(t, x, fmt.Sprintf(`http::get(%q)`, loop.URL), allowed(true, "127.0.0.1"), Limits{}, "http::get: stopped after 5 redirects")
	if n := loop.hits.Load(); n != 1+MaxRedirects {
		t.Errorf("the redirect loop was called %d times, want %d", n, 1+MaxRedirects)
	}
}

func TestHTTPResponseLimit(t *testing.T) {
	big := strings.Repeat("x", 2048)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			io.WriteString(w, big[:1024])
			w.(http.Flusher).Flush() // no Content-Length
			io.WriteString(w, big[1024:])
			return
		}
		io.WriteString(w, big)
	})
	x := New(Config{})
	ev := allowed(true, "127.0.0.1")
	ev.Outbound.MaxResponseBytes = 1000
	for _, path := range []string{"/sized", "/chunked"} {
		runErr(t, x, fmt.Sprintf(`http::get(%q)`, up.URL+path), ev, Limits{}, "is larger than the limit of 1000 bytes")
	}
	ev.Outbound.MaxResponseBytes = 2048
	if got := runOK(t, x, fmt.Sprintf(`http::get(%q).body.len()`, up.URL+"/chunked"), ev); got != "2048" {
		t.Errorf("a body at the limit: length %s", got)
	}
	// The script's own memory limit holds too.
	ev.Outbound.MaxResponseBytes = 0
	res := run(t, x, fmt.Sprintf(`http::get(%q)`, up.URL), ev, Limits{MaxMemoryBytes: 1024})
	if res.Status != StatusLimit {
		t.Errorf("a body past the memory limit: status %s (%v), want limit", res.Status, res.Err)
	}
}

func TestHTTPRequestLimits(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	x := New(Config{})
	ev := allowed(true, "127.0.0.1")
	ev.Outbound.MaxRequestBytes = 10
	ev.Outbound.MaxRequests = 3
	runErr(t, x, fmt.Sprintf(`http::post(%q, "0123456789a")`, up.URL), ev, Limits{}, "http::post: the request body has 11 bytes, more than the limit of 10")
	if up.hits.Load() != 0 {
		t.Fatal("a request over the body limit was sent")
	}
	src := fmt.Sprintf(`let n = 0; for i in 0..10 { try { http::get(%q); n += 1; } catch (e) { return n + ": " + e.message; } } n`, up.URL)
	if got := runOK(t, x, src, ev); got != "3: http::get: this run has made 3 requests, the most one invocation may make" {
		t.Errorf("got %q", got)
	}
	if up.hits.Load() != 3 {
		t.Errorf("%d requests reached the upstream, want 3", up.hits.Load())
	}
}

func TestHTTPBadCalls(t *testing.T) {
	x := New(Config{})
	ev := allowed(true, "127.0.0.1", "example.com")
	for _, c := range []struct{ src, want string }{
		{`http::get("ftp://example.com/f")`, `only http and https URLs can be called, not "ftp:"`},
		{`http::get("/relative")`, `only http and https URLs can be called`},
		{`http::get("http://%zz")`, `invalid URL`},
		{`http::request(#{url: "http://example.com", method: "TRACE"})`, `method "TRACE" is not supported`},
		{`http::request(#{url: "http://example.com", hedaers: #{}})`, `unknown option "hedaers"`},
		{`http::request(#{method: "GET"})`, `the url option is required`},
		{`http::request(#{url: "http://example.com", timeout_ms: 0})`, `timeout_ms must be a positive integer`},
		{`http::request(#{url: 42})`, `url must be a string, not i64`},
		{`http::get("http://example.com", #{"Host": "other"})`, `header Host is set by the platform`},
		{`http::get("http://example.com", #{"bad name": "v"})`, `invalid header name`},
		{`http::get("http://example.com", #{"X-A": "a\r\nX-B: b"})`, `invalid value for header`},
		{`http::post("http://example.com", 42)`, `the body must be a string, a blob, a map or an array, not i64`},
	} {
		res := runErr(t, x, c.src, ev, Limits{}, c.want)
		if res.Status != StatusError {
			t.Errorf("%s: status %s, want error", c.src, res.Status)
		}
	}
	ev.Outbound.Allow = []string{"not a host"}
	runErr(t, x, `http::get("http://example.com")`, ev, Limits{}, "the allow-list of app demo is invalid")
}

// TestHTTPSlowUpstreamHitsDeadline: the time a request takes counts against
// the run's deadline; a slow upstream ends the run as a timeout (504) at
// its deadline, and the script cannot catch it.
func TestHTTPSlowUpstreamHitsDeadline(t *testing.T) {
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	x := New(Config{})
	const deadline = 300 * time.Millisecond
	for _, src := range []string{
		fmt.Sprintf(`http::get(%q)`, up.URL),
		fmt.Sprintf(`let r = "answered"; try { http::get(%q); } catch (e) { r = "caught"; } r`, up.URL),
	} {
		start := time.Now()
		res := run(t, x, src, allowed(true, "127.0.0.1"), Limits{Timeout: deadline})
		took := time.Since(start)
		if res.Status != StatusTimeout || res.HTTPStatus != http.StatusGatewayTimeout {
			t.Errorf("%s: status %s %d (%v), want timeout 504", src, res.Status, res.HTTPStatus, res.Err)
		}
		if took < deadline || took > deadline+time.Second {
			t.Errorf("%s: the run took %s with a deadline of %s", src, took, deadline)
		}
		if !strings.Contains(res.Summary, "timeout after 300ms") || !strings.Contains(res.Summary, "http::get") {
			t.Errorf("summary %q", res.Summary)
		}
	}
}

// TestHTTPRequestTimeout: a request's own timeout, the smaller of the
// script's timeout_ms and the server's, is an error the script can catch.
func TestHTTPRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	x := New(Config{})
	ev := allowed(true, "127.0.0.1")
	for _, c := range []struct {
		server time.Duration
		call   string
		want   string
	}{
		{0, fmt.Sprintf(`http::request(#{url: %q, timeout_ms: 100})`, up.URL), "timed out after 100ms"},
		{150 * time.Millisecond, fmt.Sprintf(`http::request(#{url: %q, timeout_ms: 60000})`, up.URL), "timed out after 150ms"},
		{150 * time.Millisecond, fmt.Sprintf(`http::get(%q)`, up.URL), "timed out after 150ms"},
	} {
		ev.Outbound.Timeout = c.server
		start := time.Now()
		got := runOK(t, x, `let r = "answered"; try { `+c.call+`; } catch (e) { r = e.message; } r`, ev)
		if want := "GET " + up.URL + " " + c.want; !strings.HasSuffix(got, want) {
			t.Errorf("%s: %q, want it to end with %q", c.call, got, want)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s took %s", c.call, took)
		}
	}
}

func TestHTTPConnectionError(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	addr := up.URL
	up.Close() // nothing listens there any more
	x := New(Config{})
	runErr(t, x, fmt.Sprintf(`http::get(%q)`, addr), allowed(true, "127.0.0.1"), Limits{}, "http::get: GET "+addr+" failed: ")
}

func TestHTTPIgnoresProxyEnvironment(t *testing.T) {
	x := New(Config{})
	if x.outbound.public.Proxy != nil || x.outbound.transport([]string{"10.0.0.0/8"}, nil).Proxy != nil {
		t.Fatal("an outbound transport uses a proxy: it would dial past the address check")
	}
	if x.outbound.public.DialContext == nil {
		t.Fatal("the public transport has no checked dialer")
	}
}

// TestOutboundEventJSON: the policy travels with the event to an executor
// process (package execrpc encodes events as JSON).
func TestOutboundEventJSON(t *testing.T) {
	ev := Event{App: "demo", Outbound: Outbound{Allow: []string{"api.github.com", "*.stripe.com"}, Private: []string{"10.0.0.0/8"},
		OutboundLimits: OutboundLimits{Timeout: 3 * time.Second, MaxResponseBytes: 10, MaxRequestBytes: 20, MaxRequests: 4}}}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"outbound":{"allow":["api.github.com","*.stripe.com"],"private":["10.0.0.0/8"],"timeout_ns":3000000000,`) {
		t.Errorf("JSON %s", data)
	}
	var back Event
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back.Outbound) != fmt.Sprint(ev.Outbound) {
		t.Errorf("round trip: %+v, want %+v", back.Outbound, ev.Outbound)
	}
}

func TestOutboundLimitsOr(t *testing.T) {
	got := OutboundLimits{MaxRequests: 2}.Or(DefaultOutboundLimits())
	want := OutboundLimits{Timeout: DefaultOutboundTimeout, MaxResponseBytes: DefaultOutboundMaxResponseBytes,
		MaxRequestBytes: DefaultOutboundMaxRequestBytes, MaxRequests: 2}
	if got != want {
		t.Errorf("Or = %+v, want %+v", got, want)
	}
}

// TestHTTPCancelled: a run cancelled by its caller (the client went away)
// stops waiting for the upstream at once.
func TestHTTPCancelled(t *testing.T) {
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	x := New(Config{})
	ast, err := x.Compile(fmt.Sprintf(`let r = "answered"; try { http::get(%q); } catch (e) { r = "caught"; } r`, up.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	res := x.Run(ctx, ast, allowed(true, "127.0.0.1"), Limits{Timeout: 10 * time.Second})
	if res.Status != StatusError || res.HTTPStatus != http.StatusServiceUnavailable || res.Duration > 2*time.Second {
		t.Errorf("status %s %d after %s (%v), want error 503 at once", res.Status, res.HTTPStatus, res.Duration, res.Err)
	}
}

// TestScriptsDocOutboundExamples: the http examples of docs/scripts.md,
// fenced "rhai no-run" because they call real hosts, compile; and run
// against a stand-in upstream that answers every URL, they finish.
func TestScriptsDocOutboundExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/scripts.md")
	if err != nil {
		t.Skip("docs/scripts.md not found:", err)
	}
	blocks := strings.Split(string(data), "```rhai no-run\n")[1:]
	if len(blocks) < 2 {
		t.Fatalf("%d no-run examples", len(blocks))
	}
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"stargazers_count": 42}`)
	})
	x := New(Config{})
	// Every host resolves to the stand-in.
	var d net.Dialer
	x.outbound.public.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, up.Listener.Addr().String())
	}
	ev := Event{App: "demo", Script: "doc", Method: "POST", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"id": 7}`),
		Outbound: Outbound{Allow: []string{"api.github.com", "hooks.example.com"}}}
	for _, b := range blocks {
		src := b[:strings.Index(b, "```")]
		src = strings.ReplaceAll(src, "https://", "http://") // the stand-in speaks plain HTTP
		ast, err := x.Compile(src)
		if err != nil {
			t.Errorf("example does not compile: %v\n%s", err, src)
			continue
		}
		if res := x.Run(context.Background(), ast, ev, Limits{}); res.Status != StatusOK || res.HTTPStatus >= 300 {
			t.Errorf("example answered %d (%s): %s %s\n%s", res.HTTPStatus, res.Status, res.Summary, res.Body, src)
		}
	}
}
