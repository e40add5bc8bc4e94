package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// TestQueuedBytesQuota is the attack of issue 15, item 8, scaled down:
// anonymous async requests of 1 MiB until the app's quota of queued job
// bytes. The next one is refused with 429, Retry-After and an error that
// names the quota, and stores nothing: the app's queued bytes stay under
// the quota. Another app, and an app whose own quota is larger, still get
// in.
func TestQueuedBytesQuota(t *testing.T) { dbtest.Run(t, testQueuedBytesQuota) }

func testQueuedBytesQuota(t *testing.T, b dbtest.Backend) {
	const quota = 5 << 20
	e := newEnvOn(t, b, Config{Storage: store.StorageQuotas{MaxQueuedBytes: quota}})
	e.app("big", store.AppLimits{MaxQueuedBytes: 2 * quota})
	for _, app := range []string{"demo", "other", "big"} {
		e.deploy(app, "s", `"ok"`)
	}
	body := strings.Repeat("a", 1<<20)
	// fill sends requests until one is refused and returns how many got
	// in and the refusal. The consumer is not started: every job stays
	// queued.
	fill := func(app string) (int, *http.Response) {
		for n := 0; n < 100; n++ {
			rec := e.do("POST", "/fn/"+app+"/s?async=1", strings.NewReader(body), nil)
			if rec.Code != http.StatusAccepted {
				return n, rec.Result()
			}
		}
		t.Fatalf("app %s: 100 requests of 1 MiB queued, none refused", app)
		return 0, nil
	}
	n, res := fill("demo")
	// A request of 1 MiB is stored as about 1.34 MiB (the body in
	// base64): three fit in 5 MiB, not four.
	if n != 3 {
		t.Errorf("demo: %d requests queued before a refusal, want 3", n)
	}
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "10" {
		t.Errorf("refusal: %d, Retry-After %q; want 429 and 10", res.StatusCode, res.Header.Get("Retry-After"))
	}
	var refusal struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&refusal); err != nil {
		t.Fatal(err)
	}
	if refusal.Error.Code != "quota_exceeded" || refusal.Error.Details["quota"] != "max_queued_bytes" ||
		refusal.Error.Details["limit"] != float64(quota) || !strings.Contains(refusal.Error.Message, "max_queued_bytes") {
		t.Errorf("refusal body: %+v", refusal.Error)
	}
	u, err := e.st.AppUsage(context.Background(), e.apps["demo"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.QueuedJobs != 3 || u.QueuedBytes > quota || u.QueuedBytes < 3<<20 {
		t.Errorf("demo's queue: %+v, want 3 jobs of at most %d bytes", u, quota)
	}
	if got := grep(scrape(t, e.metrics), `picloud_quota_refusals_total{app="demo",quota="max_queued_bytes"}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("refusal metric: %q", got)
	}

	if n, _ := fill("other"); n != 3 {
		t.Errorf("other: %d requests queued, want 3: an app's quota is its own", n)
	}
	if n, _ := fill("big"); n != 7 {
		t.Errorf("big: %d requests queued, want 7 under its own quota of 10 MiB", n)
	}
	// Synchronous requests are not queued, so not refused.
	if rec := e.do("POST", "/fn/demo/s", strings.NewReader(body), nil); rec.Code != http.StatusOK {
		t.Errorf("a synchronous request: %d", rec.Code)
	}
}

// TestRecordingQuotaPrunesOldest: requests whose recorded exchanges pass
// the app's quota make the oldest records go, not the newest, and the
// recorded bytes stay within the quota once the records are written.
func TestRecordingQuotaPrunesOldest(t *testing.T) { dbtest.Run(t, testRecordingQuotaPrunesOldest) }

func testRecordingQuotaPrunesOldest(t *testing.T, b dbtest.Backend) {
	const quota, size, requests = 100 << 10, 10 << 10, 30
	// A batch of one record: each write trims, so the bytes never pass
	// the quota by more than a record.
	e := newEnvOn(t, b, Config{Storage: store.StorageQuotas{MaxRecordedBytes: quota}, LogBatchSize: 1})
	e.deploy("demo", "echo", `request.body`)
	e.deploy("quiet", "echo", `request.body`)
	var ids []string
	for i := range requests {
		rec := e.do("POST", "/fn/demo/echo", strings.NewReader(fmt.Sprintf("%04d", i)+strings.Repeat("x", size-4)), nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
		ids = append(ids, rec.Header().Get(InvocationHeader))
	}
	if rec := e.do("POST", "/fn/quiet/echo", strings.NewReader("small"), nil); rec.Code != http.StatusOK {
		t.Fatalf("quiet: %d", rec.Code)
	}
	kept := map[string]bool{}
	for _, inv := range e.logs() {
		kept[inv.ID] = true
	}
	if !kept[ids[requests-1]] {
		t.Fatal("the newest record was pruned")
	}
	// Each record holds the body twice (request and response): about
	// 20 KiB, so the quota keeps the newest four or five.
	first := requests
	for i := requests - 1; i >= 0 && kept[ids[i]]; i-- {
		first = i
	}
	for i := range first {
		if kept[ids[i]] {
			t.Errorf("record %d of %d kept after newer ones were pruned", i, requests)
		}
	}
	if n := requests - first; n < 4 || n > 5 {
		t.Errorf("%d records kept, want the newest 4 or 5", n)
	}
	u, err := e.st.AppUsage(context.Background(), e.apps["demo"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.RecordedBytes > quota || u.RecordedBytes < quota/2 {
		t.Errorf("demo's recorded bytes: %d, want within %d and not far under", u.RecordedBytes, quota)
	}
	if !kept[mustLastID(t, e, "quiet")] {
		t.Error("the record of an app within its quota was pruned")
	}
	want := fmt.Sprintf(`picloud_recordings_pruned_total{app="demo"} %d`, first)
	if got := grep(scrape(t, e.metrics), `picloud_recordings_pruned_total{app="demo"}`); got != want {
		t.Errorf("pruned metric: %q, want %q", got, want)
	}
}

// mustLastID returns the id of the newest record of an app.
func mustLastID(t *testing.T, e *testEnv, app string) string {
	t.Helper()
	invs, err := e.st.ListInvocations(context.Background(), store.InvocationFilter{AppID: e.apps[app].ID, Limit: 1})
	if err != nil || len(invs) != 1 {
		t.Fatalf("records of %s: %v %v", app, invs, err)
	}
	return invs[0].ID
}
