package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := time.Millisecond
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * ms
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{[]time.Duration{7 * ms}, 0.99, 7 * ms},
		{[]time.Duration{1 * ms, 2 * ms, 3 * ms, 4 * ms}, 0.5, 2 * ms},
		{[]time.Duration{1 * ms, 2 * ms, 3 * ms, 4 * ms}, 0.51, 3 * ms},
		{hundred, 0.99, 99 * ms},
		{hundred, 0.90, 90 * ms},
		{hundred, 1, 100 * ms},
		{hundred, 0, 1 * ms},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
		}
	}
}

func TestMedianRates(t *testing.T) {
	if got := median([]float64{300, 100, 200}); got != 200 {
		t.Errorf("median of 3 = %v, want 200", got)
	}
	if got := median([]float64{400, 100, 200, 300}); got != 250 {
		t.Errorf("median of 4 = %v, want 250", got)
	}
}

func TestSecondsFlag(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5", 5 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{"250ms", 250 * time.Millisecond, true},
		{"1m", time.Minute, true},
		{"five", 0, false},
	}
	for _, tt := range tests {
		var s seconds
		err := s.Set(tt.in)
		if (err == nil) != tt.ok || time.Duration(s) != tt.want {
			t.Errorf("Set(%q) = %v, %v; want %v, ok %v", tt.in, time.Duration(s), err, tt.want, tt.ok)
		}
	}
}

// startBareForTest runs serveBare in this process and returns its URL.
func startBareForTest(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- serveBare(ctx, pw) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serveBare: %v", err)
		}
	})
	line := make([]byte, 64)
	n, err := pr.Read(line)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(line[:n]))
}

// A server that answers anything other than 200 text/plain "Hello, world!"
// has every response counted as an error, in both loops; the bare handler
// has none.
func TestGeneratorChecksEveryResponse(t *testing.T) {
	handler := func(status int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	tests := []struct {
		name    string
		url     string
		wantErr string // "" for no error
	}{
		{"bare handler", startBareForTest(t), ""},
		{"status", httptest.NewServer(handler(500, textPlain, helloBody)).URL, "status 500"},
		{"body", httptest.NewServer(handler(200, textPlain, "Hello, world?")).URL, `body "Hello, world?"`},
		{"content type", httptest.NewServer(handler(200, "text/html", helloBody)).URL, `Content-Type "text/html"`},
		{"no server", "http://127.0.0.1:1", "connect"},
	}
	for _, kind := range []string{clientRaw, clientNetHTTP} {
		g := newGenerator(kind, defaultPacing, 4)
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				c := g.closedLoop(context.Background(), tt.url+fnPath, 2, 100*time.Millisecond)
				o := g.openLoop(context.Background(), tt.url+fnPath, 100, 2, 100*time.Millisecond)
				for _, got := range []tally{c.tally, o.tally} {
					if got.requests == 0 {
						t.Fatal("no requests")
					}
					if tt.wantErr == "" {
						if got.errors != 0 {
							t.Errorf("%d errors of %d requests: %v", got.errors, got.requests, got.firstErr)
						}
						continue
					}
					if got.errors != got.requests || got.firstErr == nil || !strings.Contains(got.firstErr.Error(), tt.wantErr) {
						t.Errorf("%d errors of %d requests, first %v; want all, mentioning %q", got.errors, got.requests, got.firstErr, tt.wantErr)
					}
				}
			})
		}
	}
}

// The open loop sends exactly rate × duration requests, however many
// workers share them and however they are paced, and its percentiles are
// ordered.
func TestOpenLoopSendsTheSchedule(t *testing.T) {
	url := startBareForTest(t)
	for _, kind := range []string{clientRaw, clientNetHTTP} {
		for _, pacing := range testPacings() {
			g := newGenerator(kind, pacing, 8)
			for _, workers := range []int{1, 3, 8} {
				l := g.openLoop(context.Background(), url+fnPath, 400, workers, 250*time.Millisecond)
				if l.requests != 100 || l.errors != 0 {
					t.Errorf("%s, %s, %d workers: %d requests, %d errors (%v); want 100, 0", kind, pacing, workers, l.requests, l.errors, l.firstErr)
				}
				if !(0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max) {
					t.Errorf("%s, %s, %d workers: percentiles out of order: p50 %v p90 %v p99 %v max %v", kind, pacing, workers, l.p50, l.p90, l.p99, l.max)
				}
			}
		}
	}
}

// testPacings are the pacings this system has.
func testPacings() []string {
	if runtime.GOOS == "linux" {
		return []string{pacingSleep, pacingTimerfd}
	}
	return []string{pacingSleep}
}

func TestSameResponses(t *testing.T) {
	bare := startBareForTest(t)
	ctx := context.Background()
	if err := sameResponses(ctx, bare+fnPath, bare+fnPath); err != nil {
		t.Errorf("the bare handler against itself: %v", err)
	}
	extra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", textPlain)
		w.Header().Set(invocationHeader, bareInvocationID)
		w.Header().Set("X-Extra", "1")
		io.WriteString(w, helloBody)
	}))
	defer extra.Close()
	if err := sameResponses(ctx, bare+fnPath, extra.URL+fnPath); err == nil || !strings.Contains(err.Error(), "X-Extra") {
		t.Errorf("a server with an extra header: %v, want an error naming it", err)
	}
	noID := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", textPlain)
		io.WriteString(w, helloBody)
	}))
	defer noID.Close()
	if err := sameResponses(ctx, bare+fnPath, noID.URL+fnPath); err == nil {
		t.Error("a server without the invocation header passed")
	}
}

func TestPicloudCounters(t *testing.T) {
	metrics := `# HELP picloud_invocations_total Script invocations.
# TYPE picloud_invocations_total counter
picloud_invocations_total{app="bench",status="ok"} 123456
picloud_invocations_total{app="bench",status="error"} 2
picloud_invocations_total{app="other",status="ok"} 99
# TYPE picloud_invocation_logs_dropped_total counter
picloud_invocation_logs_dropped_total 7
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+metricsToken {
			http.Error(w, "no metrics token", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, metrics)
	}))
	defer srv.Close()
	inv, dropped, err := picloudCounters(context.Background(), srv.URL)
	if err != nil || inv != 123458 || dropped != 7 {
		t.Errorf("picloudCounters = %d, %d, %v; want 123458, 7, nil", inv, dropped, err)
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	run := func(p99, maxLat time.Duration, errs int) latency {
		return latency{tally: tally{requests: 100, errors: errs}, rate: 100, elapsed: time.Second,
			p50: p99 / 4, p90: p99 / 2, p99: p99, max: maxLat, cpu: cpuUse{server: ms, client: ms, other: ms}}
	}
	s := summarize([]latency{run(4*ms, 9*ms, 0), run(12*ms, 30*ms, 1), run(8*ms, 10*ms, 0)})
	if s.p50 != 2*ms || s.p90 != 4*ms || s.p99 != 8*ms || s.max != 30*ms {
		t.Errorf("percentiles p50 %v p90 %v p99 %v max %v; want the medians 2ms 4ms 8ms and the largest max 30ms", s.p50, s.p90, s.p99, s.max)
	}
	if s.requests != 300 || s.errors != 1 || s.elapsed != 3*time.Second || s.achieved() != 100 || s.cpu.other != 3*ms {
		t.Errorf("sums: %d requests, %d errors, %v, %v/s, other CPU %v", s.requests, s.errors, s.elapsed, s.achieved(), s.cpu.other)
	}
	unknown := run(ms, ms, 0)
	unknown.cpu.other = -1
	if s := summarize([]latency{run(ms, ms, 0), unknown}); s.cpu.other >= 0 {
		t.Errorf("a run without CPU figures gave other CPU %v, want unknown", s.cpu.other)
	}
}

func TestReportTargets(t *testing.T) {
	run := func(requests int) throughput {
		return throughput{tally: tally{requests: requests}, elapsed: time.Second, cpu: cpuUse{server: -1, client: -1, other: -1}}
	}
	lat := func(p99 time.Duration) latency {
		return latency{tally: tally{requests: 100}, elapsed: time.Second, p50: p99 / 4, p90: p99 / 2, p99: p99, max: 2 * p99}
	}
	tests := []struct {
		name    string
		picloud int
		p99     time.Duration
		want    []string
	}{
		{"both met", 6000, 4 * time.Millisecond, []string{"| 60.0% | yes |", "| 4.00 ms | yes |"}},
		{"throughput missed", 4000, 4 * time.Millisecond, []string{"| 40.0% | **no** |", "| 4.00 ms | yes |"}},
		{"latency missed", 6000, 5 * time.Millisecond, []string{"| 60.0% | yes |", "| 5.00 ms | **no** |"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &report{
				cfg:        config{conns: 32, duration: time.Second, rounds: 1, workers: 32},
				env:        "test",
				bare:       []throughput{run(10000)},
				picloud:    []throughput{run(tt.picloud)},
				rate:       float64(tt.picloud) / 2,
				picloudLat: []latency{lat(tt.p99)},
				bareLat:    []latency{lat(time.Millisecond)},
			}
			var b bytes.Buffer
			r.write(&b)
			for _, want := range tt.want {
				if !strings.Contains(b.String(), want) {
					t.Errorf("the report lacks %q:\n%s", want, b.String())
				}
			}
			if n, _ := r.errors(); n != 0 || strings.Contains(b.String(), "not valid") {
				t.Errorf("a run without errors reported %d:\n%s", n, b.String())
			}
		})
	}
}

// Runs during which other processes were busy are marked, and the
// comparison is repeated over the others; a quiet report has neither.
func TestReportDisturbedRuns(t *testing.T) {
	quiet := cpuUse{server: time.Second, client: time.Second, other: 0}
	busy := cpuUse{server: time.Second, client: time.Second, other: 500 * time.Millisecond}
	run := func(requests int, cpu cpuUse) throughput {
		return throughput{tally: tally{requests: requests}, elapsed: time.Second, cpu: cpu}
	}
	lat := func(p99 time.Duration, cpu cpuUse) latency {
		return latency{tally: tally{requests: 100}, elapsed: time.Second, p50: p99 / 2, p90: p99, p99: p99, max: p99, cpu: cpu}
	}
	base := report{
		cfg: config{conns: 32, duration: time.Second, rounds: 2, workers: 32},
		env: "test", rate: 3000,
		bareLat: []latency{lat(time.Millisecond, quiet), lat(time.Millisecond, quiet)},
	}

	r := base
	r.bare = []throughput{run(10000, quiet), run(10000, quiet)}
	r.picloud = []throughput{run(6000, quiet), run(6000, quiet)}
	r.picloudLat = []latency{lat(4*time.Millisecond, quiet), lat(4*time.Millisecond, quiet)}
	var b bytes.Buffer
	r.write(&b)
	if strings.Contains(b.String(), "†") || strings.Contains(b.String(), "undisturbed") || strings.Contains(b.String(), "not quiet") {
		t.Errorf("a quiet report mentions disturbance:\n%s", b.String())
	}

	r = base
	r.bare = []throughput{run(10000, quiet), run(5000, busy)}
	r.picloud = []throughput{run(6000, quiet), run(2000, busy)}
	r.picloudLat = []latency{lat(4*time.Millisecond, quiet), lat(40*time.Millisecond, busy)}
	b.Reset()
	r.write(&b)
	for _, want := range []string{"10,000, 5,000†", "4.00, 40.00†", "On the undisturbed runs only: bare 10,000 requests/s (1 runs), picloud 6,000 (1 runs), 60.0%; picloud's p99 4.00 ms (1 runs)."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, b.String())
		}
	}
}

// The raw client re-dials when the server closes the connection after a
// response, and refuses what it cannot read exactly: a response without
// Content-Length.
func TestRawClientConnectionsAndFraming(t *testing.T) {
	var conns atomic.Int64
	closing := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", textPlain)
		io.WriteString(w, helloBody)
	}))
	closing.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	closing.Start()
	defer closing.Close()
	c, err := newRawClient(closing.URL+fnPath, []byte(helloBody))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := c.do(); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for 3 requests answered with Connection: close, want 3", n)
	}

	streamed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", textPlain)
		io.WriteString(w, "Hello, ")
		w.(http.Flusher).Flush() // chunked: no Content-Length
		io.WriteString(w, "world!")
	}))
	defer streamed.Close()
	c, err = newRawClient(streamed.URL+fnPath, []byte(helloBody))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.do(); err == nil || !strings.Contains(err.Error(), "without Content-Length") {
		t.Errorf("a chunked response: %v, want an error about Content-Length", err)
	}
	if _, err := newRawClient("https://127.0.0.1:1/fn", nil); err == nil {
		t.Error("an https URL was accepted")
	}
}

// A pacer never returns before the due time, whether the time is ahead,
// now or past, and -pacing refuses an unknown kind.
func TestPacersWaitUntilDue(t *testing.T) {
	for _, kind := range testPacings() {
		pc, err := newPacer(kind)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		for _, ahead := range []time.Duration{-time.Millisecond, 0, 50 * time.Microsecond, 700 * time.Microsecond, 3 * time.Millisecond} {
			due := time.Now().Add(ahead)
			if err := pc.wait(due); err != nil {
				t.Fatalf("%s, %v ahead: %v", kind, ahead, err)
			}
			if now := time.Now(); now.Before(due) {
				t.Errorf("%s: returned %v before a due time %v ahead", kind, due.Sub(now), ahead)
			}
		}
		pc.close()
	}
	if _, err := newPacer("spin"); err == nil || !strings.Contains(err.Error(), `not "spin"`) {
		t.Errorf("newPacer(spin): %v; want an error naming it", err)
	}
}

// BenchmarkPacing measures how late each pacing wakes a worker: 32
// workers take due times at 6,000 per second, as the latency runs do,
// but send nothing, so the lateness is the pacing's own. Each iteration
// is one wake-up; run it with -benchtime 30000x (5 seconds):
//
//	go test -run '^$' -bench Pacing -benchtime 30000x ./dataplane
func BenchmarkPacing(b *testing.B) {
	const rate, workers = 6000.0, 32
	for _, kind := range testPacings() {
		b.Run(kind, func(b *testing.B) {
			n := b.N
			lates := make([][]time.Duration, workers)
			start := time.Now().Add(10 * time.Millisecond)
			var wg sync.WaitGroup
			for k := range workers {
				wg.Go(func() {
					pc, err := newPacer(kind)
					if err != nil {
						b.Error(err)
						return
					}
					defer pc.close()
					lates[k] = make([]time.Duration, 0, n/workers+1)
					for i := k; i < n; i += workers {
						due := dueTime(start, i, rate)
						if err := pc.wait(due); err != nil {
							b.Error(err)
							return
						}
						lates[k] = append(lates[k], time.Since(due))
					}
				})
			}
			wg.Wait()
			all := slices.Concat(lates...)
			slices.Sort(all)
			b.ReportMetric(float64(percentile(all, 0.50).Microseconds()), "p50-late-µs")
			b.ReportMetric(float64(percentile(all, 0.99).Microseconds()), "p99-late-µs")
			b.ReportMetric(float64(percentile(all, 0.999).Microseconds()), "p99.9-late-µs")
		})
	}
}

// The floor's runs get a section of their own with the p99 target's
// verdict, count in the errors and the number of runs, and are left out
// of the report when there are none (-floor=false).
func TestReportFloor(t *testing.T) {
	run := throughput{tally: tally{requests: 10000}, elapsed: time.Second, cpu: cpuUse{server: -1, client: -1, other: -1}}
	lat := func(p99 time.Duration, errors int) latency {
		return latency{tally: tally{requests: 100, errors: errors}, elapsed: time.Second, p50: p99 / 4, p90: p99 / 2, p99: p99, max: 2 * p99,
			cpu: cpuUse{server: -1, client: -1, other: -1}}
	}
	report := func(floor ...latency) *report {
		return &report{
			cfg:  config{conns: 32, duration: time.Second, rounds: 1, workers: 32},
			env:  "test",
			bare: []throughput{run}, picloud: []throughput{run},
			rate: 5000, picloudLat: []latency{lat(time.Millisecond, 0)}, bareLat: []latency{lat(time.Millisecond, 0)},
			floorRate: 5000, floorLat: floor,
		}
	}
	tests := []struct {
		name  string
		floor []latency
		want  []string
		runs  int
	}{
		{"under the line", []latency{lat(3*time.Millisecond, 0), lat(4*time.Millisecond, 0), lat(9*time.Millisecond, 0)},
			[]string{"half of its own peak, 5,000 requests/s (medians of 3 runs)", "| bare net/http | 1.00 ms | 2.00 ms | 4.00 ms | 18.00 ms | 3.00, 4.00, 9.00 | 0 |", "p99 there is under the 5.00 ms line"}, 7},
		{"over the line", []latency{lat(6*time.Millisecond, 0)},
			[]string{"(medians of 1 runs)", "p99 there is not under the 5.00 ms line"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := report(tt.floor...)
			var b bytes.Buffer
			r.write(&b)
			for _, want := range tt.want {
				if !strings.Contains(b.String(), want) {
					t.Errorf("the report lacks %q:\n%s", want, b.String())
				}
			}
			if r.runs() != tt.runs {
				t.Errorf("runs() = %d, want %d", r.runs(), tt.runs)
			}
		})
	}

	var b bytes.Buffer
	report().write(&b)
	if strings.Contains(b.String(), "The floor") {
		t.Errorf("a report without floor runs has a floor section:\n%s", b.String())
	}
	r := report(lat(time.Millisecond, 2))
	if n, _ := r.errors(); n != 2 {
		t.Errorf("errors() = %d with two failed floor requests, want 2", n)
	}
}
