package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	rtrace "runtime/trace"
	"strings"
	"testing"
)

// A trace of a real HTTP server answering keep-alive requests: the
// server's connection goroutine is found as a request goroutine, each
// request readies it once, and the report says so.
func TestAnalyzeHTTPServer(t *testing.T) {
	var buf bytes.Buffer
	if err := rtrace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok")
	}))
	const requests = 50
	for range requests {
		resp, err := http.Get(srv.URL)
		if err != nil {
			rtrace.Stop()
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	srv.Close()
	rtrace.Stop()

	r, err := analyze(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.waits) < requests {
		t.Errorf("%d waits of request goroutines, want at least one per request (%d)", len(r.waits), requests)
	}
	if r.busy[kindRequest] <= 0 || r.busy[kindHeld] < r.busy[kindRequest] {
		t.Errorf("request goroutines ran %s with Ps held %s: want some, within the held time", r.busy[kindRequest], r.busy[kindHeld])
	}
	if r.length <= 0 || len(r.long) != 3 {
		t.Fatalf("length %s, %d thresholds", r.length, len(r.long))
	}
	var out strings.Builder
	r.print(&out)
	if !strings.Contains(out.String(), "request goroutines' waits for a P: ") {
		t.Errorf("report:\n%s", out.String())
	}
	if _, err := analyze(strings.NewReader("not a trace")); err == nil {
		t.Error("a file that is not a trace was read without an error")
	}
}
