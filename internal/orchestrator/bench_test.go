package orchestrator

import (
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkServe measures the data plane's own cost per request: cache
// hit, run of a trivial script, response, log record and metrics.
func BenchmarkServe(b *testing.B) {
	e := newEnv(b, Config{LogFlushInterval: 500 * time.Millisecond})
	e.deploy("demo", "hello", `"Hello, world!"`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/fn/demo/hello", nil))
			if rec.Code != 200 {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
