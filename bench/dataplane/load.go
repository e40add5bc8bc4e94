package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"
)

// generator is the load generator: HTTP/1.1 keep-alive requests, every
// response checked, sent by the raw client (rawclient.go) or through one
// shared net/http transport.
type generator struct {
	kind   string // clientRaw or clientNetHTTP
	pacing string // pacingTimerfd or pacingSleep: how open-loop workers wait
	client *http.Client
	body   []byte // the expected response body
}

// newGenerator returns a generator of the given client kind, whose
// open-loop workers wait for their due times with the given pacing; with
// net/http, its transport keeps up to conns idle connections per server,
// so that no run opens connections after its warm-up.
func newGenerator(kind, pacing string, conns int) *generator {
	tr := &http.Transport{
		MaxIdleConns:        2 * conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true, // no Accept-Encoding: the request is the same for both servers anyway
	}
	return &generator{
		kind:   kind,
		pacing: pacing,
		client: &http.Client{Transport: tr, Timeout: 10 * time.Second},
		body:   []byte(helloBody),
	}
}

// tally counts one worker's requests.
type tally struct {
	requests int
	errors   int
	firstErr error
}

func (t *tally) add(err error) {
	t.requests++
	if err != nil {
		t.errors++
		if t.firstErr == nil {
			t.firstErr = err
		}
	}
}

func (t *tally) merge(o tally) {
	t.requests += o.requests
	t.errors += o.errors
	if t.firstErr == nil {
		t.firstErr = o.firstErr
	}
}

// httpRequester is a worker's requester through net/http: its request,
// reused, and its body buffer.
type httpRequester struct {
	g   *generator
	req *http.Request
	buf bytes.Buffer
}

func (g *generator) newHTTPRequester(url string) (*httpRequester, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	return &httpRequester{g: g, req: req}, nil
}

// Reusing req is allowed once the previous response's body is closed,
// which do does.
func (h *httpRequester) do() error { return h.g.do(h.req, &h.buf) }
func (h *httpRequester) close()    {}

// do sends req and checks the response: 200, text/plain, the body. buf is
// the worker's reusable body buffer.
func (g *generator) do(req *http.Request, buf *bytes.Buffer) error {
	resp, err := g.client.Do(req)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("reading the body: %w", err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d, body %.100q", resp.StatusCode, buf.Bytes())
	case resp.Header.Get("Content-Type") != textPlain:
		return fmt.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	case !bytes.Equal(buf.Bytes(), g.body):
		return fmt.Errorf("body %.100q", buf.Bytes())
	}
	return nil
}

// throughput is the outcome of one closed-loop run.
type throughput struct {
	tally
	elapsed time.Duration
	cpu     cpuUse
}

// rate is requests per second.
func (t throughput) rate() float64 { return float64(t.requests) / t.elapsed.Seconds() }

// closedLoop keeps conns requests in flight against url for d: each of
// conns workers sends its next request as soon as the previous one is
// answered. Requests in flight at the end are finished and counted, and
// the elapsed time runs until the last of them.
func (g *generator) closedLoop(ctx context.Context, url string, conns int, d time.Duration) throughput {
	tallies := make([]tally, conns)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			rq, err := g.newRequester(url)
			if err != nil {
				tallies[i].add(err)
				return
			}
			defer rq.close()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				tallies[i].add(rq.do())
			}
		})
	}
	wg.Wait()
	t := throughput{elapsed: time.Since(start)}
	for _, w := range tallies {
		t.merge(w)
	}
	return t
}

// latency is the outcome of one open-loop run.
type latency struct {
	tally
	rate               float64       // the requests per second asked for
	elapsed            time.Duration // from the first scheduled request to the last answer
	p50, p90, p99, max time.Duration // from each request's scheduled time to its answer
	lagP99             time.Duration // 99th percentile of how late requests were sent
	cpu                cpuUse
}

// asThroughput is the run's counts, time and CPU, for the CPU figures.
func (l latency) asThroughput() throughput {
	return throughput{tally: l.tally, elapsed: l.elapsed, cpu: l.cpu}
}

// achieved is the requests per second answered.
func (l latency) achieved() float64 { return float64(l.requests) / l.elapsed.Seconds() }

// openLoop sends requests to url at a constant rate for d, whatever the
// server's answers take: request i is due at start + i/rate, and the
// workers take the due times in turn (worker k has requests k, k+workers,
// k+2·workers…). A worker whose previous request is still running sends
// late, and the lateness counts in the latency, as it would for a client
// arriving at that moment: latency is measured from the scheduled time,
// not from the send.
func (g *generator) openLoop(ctx context.Context, url string, rate float64, workers int, d time.Duration) latency {
	n := int(math.Round(rate * d.Seconds()))
	lats := make([][]time.Duration, workers)
	lags := make([][]time.Duration, workers)
	tallies := make([]tally, workers)
	start := time.Now().Add(10 * time.Millisecond) // every worker is waiting when the first is due
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			rq, err := g.newRequester(url)
			if err != nil {
				tallies[k].add(err)
				return
			}
			defer rq.close()
			pc, err := newPacer(g.pacing)
			if err != nil {
				tallies[k].add(err)
				return
			}
			defer pc.close()
			lats[k] = make([]time.Duration, 0, n/workers+1)
			lags[k] = make([]time.Duration, 0, n/workers+1)
			for i := k; i < n && ctx.Err() == nil; i += workers {
				due := dueTime(start, i, rate)
				if err := pc.wait(due); err != nil {
					tallies[k].add(err)
					return
				}
				lags[k] = append(lags[k], time.Since(due))
				tallies[k].add(rq.do())
				lats[k] = append(lats[k], time.Since(due))
			}
		})
	}
	wg.Wait()
	l := latency{rate: rate, elapsed: time.Since(start)}
	for _, t := range tallies {
		l.merge(t)
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	l.p50, l.p90, l.p99 = percentile(all, 0.50), percentile(all, 0.90), percentile(all, 0.99)
	if len(all) > 0 {
		l.max = all[len(all)-1]
	}
	lag := slices.Concat(lags...)
	slices.Sort(lag)
	l.lagP99 = percentile(lag, 0.99)
	return l
}

// dueTime is when request i of an open loop at rate per second from
// start is due.
func dueTime(start time.Time, i int, rate float64) time.Time {
	return start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
}

// percentile is the nearest-rank p-quantile of sorted: the smallest value
// with at least p of the values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func rates(ts []throughput) []float64 {
	r := make([]float64, len(ts))
	for i, t := range ts {
		r[i] = t.rate()
	}
	return r
}
