package executor

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// roundTripFunc is a transport made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Config.Transport carries the requests of the http module; the app's
// allow-list still decides which requests are made.
func TestHTTPTransportOverride(t *testing.T) {
	var calls atomic.Int64
	x := New(Config{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return &http.Response{StatusCode: 203, Header: http.Header{}, Request: r,
			Body: io.NopCloser(strings.NewReader("stubbed " + r.URL.Path))}, nil
	})})
	ev := allowed(false, "api.example.com")
	if got := runOK(t, x, `let r = http::get("https://api.example.com/x"); r.status + " " + r.body`, ev); got != "203 stubbed /x" {
		t.Errorf("got %q", got)
	}
	runErr(t, x, `http::get("https://other.example.com/")`, ev, Limits{}, "not in this app's allow-list")
	runErr(t, x, `http::get("https://api.example.com/")`, Event{App: "demo", Script: "call"}, Limits{}, "outbound HTTP is off")
	if n := calls.Load(); n != 1 {
		t.Errorf("the transport got %d requests, want 1", n)
	}
}
