package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/ids"
	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/store"
)

// idLen is the length of the invocation ids the tests check.
const idLen = ids.Len

func TestCacheDoesNotKeepFailures(t *testing.T) {
	calls := 0
	c := newScriptCache(func(app, script string) (*compiled, error) {
		calls++
		if calls == 1 {
			return nil, store.ErrNotFound
		}
		return &compiled{version: calls}, nil
	})
	if _, err := c.get(context.Background(), "a", "s"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err %v", err)
	}
	v, err := c.get(context.Background(), "a", "s")
	if err != nil || v.version != 2 {
		t.Fatalf("%v %v", v, err)
	}
	if v, _ := c.get(context.Background(), "a", "s"); v.version != 2 || calls != 2 {
		t.Fatalf("a hit loaded again: %d calls", calls)
	}
}

func TestCacheInvalidateDuringLoad(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	calls := 0
	c := newScriptCache(func(app, script string) (*compiled, error) {
		calls++
		started <- struct{}{}
		if calls == 1 {
			<-release
		}
		return &compiled{version: calls}, nil
	})
	done := make(chan *compiled)
	go func() {
		v, _ := c.get(context.Background(), "a", "s")
		done <- v
	}()
	<-started
	c.invalidate("a/s") // a deploy lands while the old version loads
	close(release)
	if v := <-done; v.version != 1 {
		t.Fatalf("first caller got %+v", v)
	}
	v, _ := c.get(context.Background(), "a", "s")
	if v.version != 2 {
		t.Fatalf("a load that raced an invalidation was kept: %+v", v)
	}
}

func TestCacheWaiters(t *testing.T) {
	release := make(chan struct{})
	c := newScriptCache(func(app, script string) (*compiled, error) {
		<-release
		panic("compiler exploded")
	})
	first := make(chan error)
	go func() {
		_, err := c.get(context.Background(), "a", "s")
		first <- err
	}()
	for c.len() == 0 {
		time.Sleep(time.Millisecond)
	}
	// A waiter whose request goes away stops waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.get(ctx, "a", "s"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter: %v", err)
	}
	close(release)
	if err := <-first; err == nil || !strings.Contains(err.Error(), "compiler exploded") {
		t.Fatalf("loader: %v", err)
	}
	if c.len() != 0 {
		t.Fatal("a failed load was kept")
	}
}

// fakeStore records invocation writes; a unit test of the log writer needs
// control over timing and failures that a real database does not give.
type fakeStore struct {
	store.Store
	mu      sync.Mutex
	block   chan struct{} // when set, writes wait for it to close
	fail    int           // the next fail writes fail
	batches [][]string
	prunes  []time.Time
	// kvPurges are the times PurgeExpiredKV was called with.
	kvPurges []time.Time
}

func (f *fakeStore) InsertInvocations(ctx context.Context, invs []store.Invocation) error {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("disk on fire")
	}
	var ids []string
	for _, inv := range invs {
		ids = append(ids, inv.ID)
	}
	f.batches = append(f.batches, ids)
	return nil
}

func (f *fakeStore) PruneInvocations(ctx context.Context, before time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prunes = append(f.prunes, before)
	return 0, nil
}

func (f *fakeStore) PruneJobs(ctx context.Context, before time.Time) (int64, error) { return 0, nil }

func (f *fakeStore) PurgeExpiredKV(ctx context.Context, now time.Time, limit int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kvPurges = append(f.kvPurges, now)
	return 0, nil
}

func (f *fakeStore) written() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []string
	for _, b := range f.batches {
		all = append(all, b...)
	}
	return all
}

func newWriter(st store.Store, m *metrics.Metrics, batch, capacity int, interval, retention time.Duration) *logWriter {
	return &logWriter{st: st, logger: slog.New(slog.DiscardHandler), metrics: m, batch: batch,
		capacity: capacity, interval: interval, retention: retention}
}

func rec(i int) store.Invocation { return store.Invocation{ID: fmt.Sprintf("r%d", i)} }

func dropped(t *testing.T, m *metrics.Metrics) string {
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, l := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(l, "picloud_invocation_logs_dropped_total ") {
			return l
		}
	}
	return ""
}

func TestLogWriterDropsOldestWhenFull(t *testing.T) {
	st := &fakeStore{block: make(chan struct{})}
	m := metrics.New()
	w := newWriter(st, m, 2, 4, time.Hour, 0)
	w.add(rec(0))
	w.add(rec(1)) // a full batch: the drain takes r0 and r1 and blocks in the store
	waitTaken(t, w)
	for i := 2; i < 8; i++ {
		w.add(rec(i)) // adding never waits for the store
	}
	close(st.block)
	if err := w.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"r0", "r1", "r4", "r5", "r6", "r7"}
	if got := st.written(); !slices.Equal(got, want) {
		t.Fatalf("written %v, want %v", got, want)
	}
	if got := dropped(t, m); got != "picloud_invocation_logs_dropped_total 2" {
		t.Fatalf("dropped: %q", got)
	}
	// What waited during the blocked write goes out in one write.
	if len(st.batches) != 2 || len(st.batches[1]) != 4 {
		t.Fatalf("writes %v, want [r0 r1] then the four kept", st.batches)
	}
}

// waitUntil polls cond until it holds, failing the test with what after
// five seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(time.Millisecond)
	}
}

// locked reads f of w under its lock.
func locked[T any](w *logWriter, f func() T) T {
	w.mu.Lock()
	defer w.mu.Unlock()
	return f()
}

// waitTaken waits until the drain has taken the buffer.
func waitTaken(t *testing.T, w *logWriter) {
	t.Helper()
	waitUntil(t, "the drain did not take the buffer", func() bool { return locked(w, func() bool { return len(w.buf) == 0 }) })
}

// waitIdle waits until w has no drain running.
func waitIdle(t *testing.T, w *logWriter) {
	t.Helper()
	waitUntil(t, "the drain did not end", func() bool { return locked(w, func() bool { return !w.flushing }) })
}

// Under load, records that came in during a write go out together, up to
// writeBatches batches per write.
func TestLogWriterBatchesWhatWaited(t *testing.T) {
	st := &fakeStore{block: make(chan struct{})}
	w := newWriter(st, nil, 2, 100, time.Hour, 0)
	w.add(rec(0))
	w.add(rec(1)) // a full batch: the drain takes r0 and r1 and blocks in the store
	waitTaken(t, w)
	for i := 2; i < 13; i++ {
		w.add(rec(i))
	}
	close(st.block)
	waitIdle(t, w)
	var sizes []int
	for _, b := range st.batches {
		sizes = append(sizes, len(b))
	}
	// r2…r12 waited: one write of four batches, then the other three.
	if want := []int{2, 8, 3}; !slices.Equal(sizes, want) {
		t.Fatalf("writes of %v records, want %v", sizes, want)
	}
	if got := st.written(); len(got) != 13 || got[12] != "r12" {
		t.Fatalf("written %v, want r0…r12", got)
	}
	w.mu.Lock()
	armed := w.timer != nil
	w.mu.Unlock()
	if armed {
		t.Fatal("timer armed with nothing left to write")
	}
}

// A record left over after a write, less than a batch, waits for the
// flush interval rather than make a small write at once; then it is
// written by the timer, or at close.
func TestLogWriterLeftoverWaits(t *testing.T) {
	for _, interval := range []time.Duration{time.Hour, 20 * time.Millisecond} {
		st := &fakeStore{block: make(chan struct{})}
		w := newWriter(st, nil, 2, 100, interval, 0)
		w.add(rec(0))
		w.add(rec(1))
		waitTaken(t, w)
		w.add(rec(2)) // comes in during the blocked write
		close(st.block)
		waitIdle(t, w)
		if interval == time.Hour {
			w.mu.Lock()
			armed, left := w.timer != nil, len(w.buf)
			w.mu.Unlock()
			if got := st.written(); !slices.Equal(got, []string{"r0", "r1"}) || !armed || left != 1 {
				t.Fatalf("after the first write: written %v, timer armed %v, %d left; want r2 waiting for the timer", got, armed, left)
			}
			if err := w.close(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		waitUntil(t, fmt.Sprintf("interval %s: the leftover record was not written", interval),
			func() bool { return len(st.written()) == 3 })
		if got := len(st.batches); got != 2 {
			t.Fatalf("interval %s: %d writes, want 2", interval, got)
		}
	}
}

func TestLogWriterStoreFailure(t *testing.T) {
	st := &fakeStore{fail: 1}
	m := metrics.New()
	w := newWriter(st, m, 2, 10, time.Hour, 0)
	w.add(rec(0))
	w.add(rec(1)) // a full batch, which the store refuses
	waitTaken(t, w)
	w.add(rec(2)) // less than a batch: written at close
	if err := w.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := st.written(); !slices.Equal(got, []string{"r2"}) {
		t.Fatalf("written %v", got)
	}
	if got := dropped(t, m); got != "picloud_invocation_logs_dropped_total 2" {
		t.Fatalf("dropped: %q", got)
	}
}

func TestLogWriterPrunesHourly(t *testing.T) {
	st := &fakeStore{}
	w := newWriter(st, nil, 1, 10, time.Hour, 24*time.Hour)
	for i := range 5 {
		w.add(rec(i))
	}
	if err := w.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(st.written()) != 5 || len(st.prunes) != 1 {
		t.Fatalf("%d written, %d prunes", len(st.written()), len(st.prunes))
	}
	if d := time.Since(st.prunes[0]) - 24*time.Hour; d < 0 || d > time.Minute {
		t.Fatalf("pruned before %s", st.prunes[0])
	}
	// No retention, no pruning.
	st2 := &fakeStore{}
	w2 := newWriter(st2, nil, 1, 10, time.Hour, 0)
	w2.add(rec(0))
	w2.close(context.Background())
	if len(st2.prunes) != 0 {
		t.Fatal("pruned without a retention")
	}
}

func TestLogWriterTimer(t *testing.T) {
	st := &fakeStore{}
	w := newWriter(st, nil, 100, 1000, 30*time.Millisecond, 0)
	w.mu.Lock()
	armed := w.timer != nil
	w.mu.Unlock()
	if armed {
		t.Fatal("timer armed while empty")
	}
	w.add(rec(0))
	w.add(rec(1))
	waitUntil(t, "not flushed after the interval", func() bool { return len(st.written()) == 2 })
	w.mu.Lock()
	idle := w.timer == nil && !w.flushing && len(w.buf) == 0
	w.mu.Unlock()
	if !idle {
		t.Fatal("not idle after the flush")
	}
	if len(st.batches) != 1 {
		t.Fatalf("%d batches for 2 records within one interval", len(st.batches))
	}
}

func TestLogWriterCloseTimeout(t *testing.T) {
	st := &fakeStore{block: make(chan struct{})}
	w := newWriter(st, nil, 10, 100, time.Hour, 0)
	w.add(rec(0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close: %v", err)
	}
	close(st.block)
	if err := w.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := st.written(); !slices.Equal(got, []string{"r0"}) {
		t.Fatalf("written %v", got)
	}
}

// TestLogWriterPurgesExpiredKeys checks that the hourly prune also removes
// expired keys of the key-value store.
func TestLogWriterPurgesExpiredKeys(t *testing.T) {
	st := &fakeStore{}
	w := newWriter(st, nil, 1, 10, time.Hour, 24*time.Hour)
	before := time.Now()
	for i := range 3 {
		w.add(rec(i))
	}
	if err := w.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(st.kvPurges) != 1 {
		t.Fatalf("%d purges of expired keys after 3 writes, want 1", len(st.kvPurges))
	}
	if at := st.kvPurges[0]; at.Before(before) || at.After(time.Now()) {
		t.Errorf("purged as of %v, want the time of the write", at)
	}
}

func (f *fakeStore) TrimRecordings(ctx context.Context, appIDs []int64, defaultMax int64) ([]store.RecordingTrim, error) {
	return nil, nil
}
