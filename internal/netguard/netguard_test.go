package netguard

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/metrics"
)

// serve starts a guarded server whose handler reads a JSON body (as the
// API does) and answers its length; /healthz answers ok.
func serve(t *testing.T, cfg Config) (addr string, m *metrics.Metrics) {
	t.Helper()
	m = metrics.New()
	cfg.Metrics = m
	g := New(cfg)
	mux := http.NewServeMux()
	read := func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := httpx.DecodeJSON(r, &v, 8<<20); err != nil {
			httpx.WriteError(w, err)
			return
		}
		fmt.Fprint(w, len(v))
	}
	mux.HandleFunc("/api/", read)
	mux.HandleFunc("/fn/", read)
	mux.HandleFunc("/unread/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusUnauthorized) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go g.Serve(srv, ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), m
}

// dialFrom opens a connection to addr from the loopback address from
// (127.0.0.x), so that tests can play several clients.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startBody sends the head of a request with a body of length n and its
// first byte, and leaves the rest unsent.
func startBody(t *testing.T, c net.Conn, path string, n int) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", path, n); err != nil {
		t.Fatal(err)
	}
}

// answer reads the response on c within d; status 0 when the server
// closed the connection without one.
func answer(t *testing.T, c net.Conn, d time.Duration) (status int, body string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("no answer within %s", d)
		}
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, c net.Conn, path string) (int, string) {
	t.Helper()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	return answer(t, c, 2*time.Second)
}

func metric(t *testing.T, m *metrics.Metrics, series string) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, l := range strings.Split(w.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}

// A body trickled a byte at a time is cut off once its grace is over,
// with 408, and counted.
func TestSlowBodyIsCutOff(t *testing.T) {
	addr, m := serve(t, Config{MinBodyRate: 1000, BodyGrace: 300 * time.Millisecond})
	c := dialFrom(t, "127.0.0.1", addr)
	startBody(t, c, "/api/x", 100)
	start := time.Now()
	status, body := answer(t, c, 5*time.Second)
	if status != http.StatusRequestTimeout || !strings.Contains(body, "request_timeout") {
		t.Fatalf("answer %d %q, want 408 request_timeout", status, body)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("cut off after %s, before its grace of 300ms", d)
	}
	if got := metric(t, m, "picloud_http_slow_bodies_total"); got != "1" {
		t.Errorf("slow bodies %q, want 1", got)
	}
}

// A large body sent at a decent rate, past the grace, passes: the
// deadline moves on with the bytes.
func TestSteadyUploadPasses(t *testing.T) {
	addr, m := serve(t, Config{MinBodyRate: 64 << 10, BodyGrace: 100 * time.Millisecond})
	c := dialFrom(t, "127.0.0.1", addr)
	// 40 chunks of 8 KiB, one every 25 ms: 320 KiB/s for a second,
	// five times the minimum rate and ten times the grace.
	chunk := `"k":"` + strings.Repeat("x", 8<<10) + `"`
	var parts []string
	for i := range 40 {
		parts = append(parts, strings.Replace(chunk, `"k"`, fmt.Sprintf(`"k%d"`, i), 1))
	}
	body := "{" + strings.Join(parts, ",") + "}"
	fmt.Fprintf(c, "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	for i := 0; i < len(body); i += 8 << 10 {
		if _, err := io.WriteString(c, body[i:min(i+8<<10, len(body))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(25 * time.Millisecond)
	}
	if status, got := answer(t, c, 5*time.Second); status != 200 || got != "40" {
		t.Fatalf("answer %d %q, want 200 40", status, got)
	}
	if got := metric(t, m, "picloud_http_slow_bodies_total"); got != "0" {
		t.Errorf("slow bodies %q, want 0", got)
	}
}

// One client address gets its cap of connections; the next is closed at
// once, while another address is still served.
func TestPerClientCap(t *testing.T) {
	addr, m := serve(t, Config{MaxConns: 100, MaxConnsPerClient: 3})
	for range 3 {
		startBody(t, dialFrom(t, "127.0.0.2", addr), "/fn/a/b", 100)
	}
	if status, _ := get(t, dialFrom(t, "127.0.0.2", addr), "/healthz"); status != 0 {
		t.Errorf("a fourth connection of one client got %d, want it closed", status)
	}
	if status, body := get(t, dialFrom(t, "127.0.0.3", addr), "/healthz"); status != 200 || body != "ok" {
		t.Errorf("another client: %d %q", status, body)
	}
	if got := metric(t, m, `picloud_http_connections_refused_total{reason="client"}`); got != "1" {
		t.Errorf("refused %q, want 1", got)
	}
}

// The connections past the cap are closed; in the reserve below it, the
// control plane and /healthz are served and the data plane refused.
func TestConnectionCapKeepsAReserve(t *testing.T) {
	addr, m := serve(t, Config{MaxConns: 16}) // a reserve of 2
	for range 14 {
		startBody(t, dialFrom(t, "127.0.0.2", addr), "/fn/a/b", 100)
	}
	fn := dialFrom(t, "127.0.0.3", addr)
	fmt.Fprint(fn, "POST /fn/a/b HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	if status, body := answer(t, fn, 2*time.Second); status != 503 || !strings.Contains(body, "server_busy") {
		t.Errorf("data plane in the reserve: %d %q, want 503 server_busy", status, body)
	}
	// The server closes the refused connection after a short linger.
	waitOpen(t, m, 14)
	health := dialFrom(t, "127.0.0.3", addr)
	if status, body := get(t, health, "/healthz"); status != 200 || body != "ok" {
		t.Errorf("/healthz in the reserve: %d %q", status, body)
	}
	api := dialFrom(t, "127.0.0.3", addr)
	fmt.Fprint(api, "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	if status, body := answer(t, api, 2*time.Second); status != 200 || body != "0" {
		t.Errorf("API in the reserve: %d %q", status, body)
	}
	// health and api are open: 16 of 16.
	if status, _ := get(t, dialFrom(t, "127.0.0.3", addr), "/healthz"); status != 0 {
		t.Errorf("a connection past the cap got %d, want it closed", status)
	}
	if got := metric(t, m, `picloud_http_connections_refused_total{reason="total"}`); got != "1" {
		t.Errorf("refused %q, want 1", got)
	}
	if got := metric(t, m, "picloud_http_connections_open"); got != "16" {
		t.Errorf("open %q, want 16", got)
	}
}

// A handler that answers without reading the body (401, 404) leaves
// net/http to read the rest before the connection can serve another
// request: a trickled body must not hold the connection then either.
func TestUnreadSlowBodyIsCutOff(t *testing.T) {
	addr, _ := serve(t, Config{MinBodyRate: 1000, BodyGrace: 300 * time.Millisecond})
	c := dialFrom(t, "127.0.0.1", addr)
	startBody(t, c, "/unread/x", 100)
	if status, _ := answer(t, c, 2*time.Second); status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", status)
	}
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after the answer: %v, want EOF (the connection closed)", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the connection was held %s after the answer", d)
	}
}

// A data-plane request refused in the reserve does not hold its
// connection while its body trickles.
func TestReserveRefusalClosesAtOnce(t *testing.T) {
	addr, _ := serve(t, Config{MaxConns: 8}) // a reserve of 1, no body rate
	for range 7 {
		startBody(t, dialFrom(t, "127.0.0.2", addr), "/api/x", 100)
	}
	fn := dialFrom(t, "127.0.0.3", addr)
	startBody(t, fn, "/fn/a/b", 100)
	if status, _ := answer(t, fn, 2*time.Second); status != 503 {
		t.Fatalf("status %d, want 503", status)
	}
	fn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := fn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after the 503: %v, want EOF (the connection closed)", err)
	}
}

// waitOpen waits until the guard counts n open connections: the server
// closes a connection some time after its last answer.
func waitOpen(t *testing.T, m *metrics.Metrics, n int) {
	t.Helper()
	want := fmt.Sprint(n)
	deadline := time.Now().Add(5 * time.Second)
	for metric(t, m, "picloud_http_connections_open") != want {
		if time.Now().After(deadline) {
			t.Fatalf("open connections %s, want %s", metric(t, m, "picloud_http_connections_open"), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
