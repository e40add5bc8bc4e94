package orchestrator

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/metrics"
	"github.com/picloud/picloud/internal/store"
)

// How long one store write or prune may take.
const storeWriteTimeout = 30 * time.Second

// pruneEvery is how often at most old invocation records are pruned.
const pruneEvery = time.Hour

// writeBatches is how many batches one write carries at most: records
// that came in while the store was busy go out together, so that a busy
// server makes fewer, larger writes.
const writeBatches = 4

// logWriter keeps invocation records off the request path: add puts a
// record in a bounded in-memory buffer, and a background flush writes
// them with one InsertInvocations call per write.
//
// A flush starts when the buffer holds a full batch, or when a timer armed
// as the buffer went from empty to non-empty fires after the flush
// interval. It writes what is buffered, up to writeBatches batches per
// write, and goes on while a full batch is waiting; fewer records left
// over wait for their interval instead of making a small write at once.
// Small batches keep each write short (a write holds a processor while
// SQLite works, which requests then wait for); the larger writes under
// load keep the cost per record down. Nothing runs while the buffer is
// empty: no ticker, no goroutine, no polling.
//
// When the store falls behind and the buffer is full, add drops the oldest
// record and counts it (picloud_invocation_logs_dropped_total) rather than
// make requests wait for the database. A batch the store refuses is
// dropped and counted the same way, and logged.
//
// Records older than the retention, and jobs that ended ok before it, are
// pruned after a successful write, at most once per hour.
type logWriter struct {
	st        store.Store
	logger    *slog.Logger
	metrics   *metrics.Metrics
	batch     int
	interval  time.Duration
	capacity  int
	retention time.Duration // 0 keeps records forever
	// maxRecorded is the server's quota of recorded exchange bytes per
	// app, which an app's limits override (see trim).
	maxRecorded int64
	// written, when set, is called with each batch once it is stored
	// (to announce it to live log streams; see livelogs.go).
	written func([]store.Invocation)

	mu  sync.Mutex
	buf []store.Invocation
	// spare is the buffer a drain wrote last, emptied, to take over from
	// buf at the next drain: records go back and forth between two
	// buffers instead of a new one growing after every drain.
	spare    []store.Invocation
	oldest   time.Time   // when the buffer last went from empty to non-empty
	timer    *time.Timer // armed while the buffer waits for the interval
	timerGen uint64      // tells a stale timer callback from the armed one
	flushing bool        // a drain goroutine is running
	closed   bool
	dropping bool // records are being dropped; warned once until a write succeeds
	wg       sync.WaitGroup

	pruneMu   sync.Mutex
	lastPrune time.Time
}

func (w *logWriter) add(inv store.Invocation) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.metrics.LogsDropped(1)
		w.logger.Warn("orchestrator: invocation log dropped after close", "invocation", inv.ID)
		return
	}
	if len(w.buf) >= w.capacity {
		w.buf[0] = store.Invocation{}
		w.buf = w.buf[1:]
		w.metrics.LogsDropped(1)
		if !w.dropping {
			w.dropping = true
			w.logger.Warn("orchestrator: invocation log buffer full; dropping the oldest records", "capacity", w.capacity)
		}
	}
	if len(w.buf) == 0 {
		w.oldest = time.Now()
	}
	w.buf = append(w.buf, inv)
	switch {
	case w.flushing:
		// The running drain picks the record up, or arms the timer.
	case len(w.buf) >= w.batch:
		w.startDrain()
	case w.timer == nil:
		w.armTimer(w.interval)
	}
}

// armTimer starts a flush after d; w.mu is held.
func (w *logWriter) armTimer(d time.Duration) {
	w.timerGen++
	gen := w.timerGen
	w.timer = time.AfterFunc(d, func() { w.timerFired(gen) })
}

// startDrain starts the drain goroutine; w.mu is held.
func (w *logWriter) startDrain() {
	w.stopTimer()
	w.flushing = true
	w.wg.Add(1)
	go w.drain()
}

// stopTimer disarms the timer; w.mu is held.
func (w *logWriter) stopTimer() {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
		w.timerGen++
	}
}

func (w *logWriter) timerFired(gen uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if gen != w.timerGen {
		return // stopped or replaced after it fired
	}
	w.timer = nil
	if !w.flushing && !w.closed && len(w.buf) > 0 {
		w.startDrain()
	}
}

// drain writes out what is buffered, then goes on while a full batch is
// waiting (or the writer is closing). It takes the whole buffer at once,
// leaving the spare one to add to meanwhile. Fewer than a batch of
// records left at the end wait for the timer, armed for the flush
// interval counted from the first of them.
func (w *logWriter) drain() {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		taken := w.buf
		w.buf, w.spare = w.spare[:0], nil
		w.mu.Unlock()
		for rest := taken; len(rest) > 0; {
			n := min(len(rest), writeBatches*w.batch)
			w.write(rest[:n:n])
			rest = rest[n:]
		}
		clear(taken) // let the records' strings go
		w.mu.Lock()
		if cap(taken) <= 2*writeBatches*w.batch {
			w.spare = taken[:0]
		}
		n := len(w.buf)
		if n >= w.batch || n > 0 && w.closed {
			w.mu.Unlock()
			continue
		}
		if n > 0 {
			w.armTimer(w.interval - time.Since(w.oldest))
		}
		w.flushing = false
		w.mu.Unlock()
		return
	}
}

func (w *logWriter) write(batch []store.Invocation) {
	ctx, cancel := context.WithTimeout(context.Background(), storeWriteTimeout)
	defer cancel()
	if err := w.st.InsertInvocations(ctx, batch); err != nil {
		w.metrics.LogsDropped(len(batch))
		w.logger.Error("orchestrator: unable to write invocation logs", "records", len(batch), "err", err)
		return
	}
	w.mu.Lock()
	w.dropping = false
	w.mu.Unlock()
	if w.written != nil {
		w.written(batch)
	}
	w.trim(ctx, batch)
	w.prune(ctx)
}

// trim keeps the apps of a stored batch within their quota of recorded
// bytes: the store deletes their oldest records when they are over it.
// An app is thus over its quota by at most one write until the write
// that put it there returns.
func (w *logWriter) trim(ctx context.Context, batch []store.Invocation) {
	slugs := make(map[int64]string, 1)
	var ids []int64
	for _, inv := range batch {
		if _, seen := slugs[inv.AppID]; !seen {
			slugs[inv.AppID] = inv.AppSlug
			ids = append(ids, inv.AppID)
		}
	}
	trims, err := w.st.TrimRecordings(ctx, ids, w.maxRecorded)
	if err != nil {
		w.logger.Error("orchestrator: unable to keep apps within their recording quota", "err", err)
	}
	for _, t := range trims {
		w.metrics.RecordingsPruned(slugs[t.AppID], t.Records, t.Bytes)
		w.logger.Info("orchestrator: pruned the oldest invocation records of an app over its recording quota",
			"app", slugs[t.AppID], "records", t.Records, "bytes", t.Bytes)
	}
}

// prune removes the invocation records, and the jobs that ended ok, older
// than the retention, at most once per pruneEvery; and with them a batch
// of expired keys of the key-value store (which the writes of each app
// remove as well). It runs after writes (of logs, or of a job's attempt),
// so an idle server does nothing.
func (w *logWriter) prune(ctx context.Context) {
	if w.retention <= 0 {
		return
	}
	w.pruneMu.Lock()
	defer w.pruneMu.Unlock()
	now := time.Now()
	if now.Sub(w.lastPrune) < pruneEvery {
		return
	}
	w.lastPrune = now
	w.purgeKV(ctx, now)
	n, err := w.st.PruneInvocations(ctx, now.Add(-w.retention))
	if err != nil {
		w.logger.Error("orchestrator: unable to prune invocation logs", "err", err)
		return
	}
	if n > 0 {
		w.logger.Info("orchestrator: pruned invocation logs", "records", n, "retention", w.retention)
	}
	n, err = w.st.PruneJobs(ctx, now.Add(-w.retention))
	if err != nil {
		w.logger.Error("orchestrator: unable to prune finished jobs", "err", err)
		return
	}
	if n > 0 {
		w.logger.Info("orchestrator: pruned finished jobs", "jobs", n, "retention", w.retention)
	}
}

// kvPurgeBatch bounds the expired keys one prune removes: the writes of
// each app remove theirs too, and the backlog goes at the next prunes.
const kvPurgeBatch = 10_000

// purgeKV removes a batch of expired keys, of the apps that wrote none
// since they expired.
func (w *logWriter) purgeKV(ctx context.Context, now time.Time) {
	n, err := w.st.PurgeExpiredKV(ctx, now, kvPurgeBatch)
	if err != nil {
		w.logger.Error("orchestrator: unable to purge expired keys", "err", err)
		return
	}
	if n > 0 {
		w.logger.Info("orchestrator: purged expired keys", "keys", n)
	}
}

// close flushes what is buffered and stops taking records. It returns
// ctx's error if the flush does not finish in time; the flush goes on in
// the background.
func (w *logWriter) close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		w.stopTimer()
		if !w.flushing && len(w.buf) > 0 {
			w.startDrain()
		}
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
