package executor

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// BenchmarkRun is the executor's share of a data-plane request: a run of
// a one-line script with a typical GET request's event, and of a script
// that reads the request.
func BenchmarkRun(b *testing.B) {
	x := New(Config{})
	ev := Event{App: "bench", Script: "hello", Method: "GET", Path: "/", Query: url.Values{},
		Header: http.Header{"User-Agent": {"Go-http-client/1.1"}, "Accept": {"*/*"}}, Host: "127.0.0.1:8080"}
	for _, c := range []struct{ name, src string }{
		{"literal", `"Hello, world!"`},
		{"reads-request", `"Hello, " + request.method`},
	} {
		ast, err := x.Compile(c.src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := x.Run(context.Background(), ast, ev, Limits{}); res.Status != StatusOK {
					b.Fatal(res.Err)
				}
			}
		})
	}
}
