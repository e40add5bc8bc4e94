package sqlite

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// BenchmarkInsertInvocations measures the log writer's cost per record
// (ns/op is per record) for batches of several sizes, with records like
// the data-plane benchmark's: a GET with a few headers and a short text
// response. NOREC=1 leaves the recorded exchange out, to see its share.
func BenchmarkInsertInvocations(b *testing.B) {
	for _, batch := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			st, app := openWithApp(b, "bench")
			ctx := context.Background()
			header := http.Header{"User-Agent": {"Go-http-client/1.1"}, "Accept-Encoding": {"gzip"}}
			recs := make([]store.Invocation, batch)
			start := time.Now()
			b.ResetTimer()
			for n := 0; n < b.N; n += batch {
				for i := range recs {
					recs[i] = store.Invocation{
						ID: fmt.Sprintf("%026d", n+i), AppID: app.ID, Script: "hello", Version: 1,
						Trigger: store.TriggerHTTP, StartedAt: start.Add(time.Duration(n+i) * time.Microsecond),
						Duration: 20 * time.Microsecond, Status: store.StatusOK, HTTPStatus: 200, Operations: 1,
						Summary:  "200 text/plain, 13 B: Hello, world!",
						Request:  &store.HTTPRequest{Method: "GET", Header: header, Host: "127.0.0.1:8080"},
						Response: &store.HTTPResponse{Status: 200, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte("Hello, world!"), BodySize: 13},
					}
				}
				if os.Getenv("NOREC") != "" {
					for i := range recs {
						recs[i].Request, recs[i].Response = nil, nil
					}
				}
				if err := st.InsertInvocations(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
