package manager

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// Live logs: GET /api/v1/apps/{slug}/logs/stream sends an app's new
// invocation records as server-sent events while the client stays.
//
// The orchestrators announce each batch of records they write on the bus
// (events.InvocationsLogged, with the records' ids); the manager that
// holds a stream reads the announced records from the store and sends
// them. So a record reaches the stream about one log flush interval
// after its run, whichever node ran it, and the store stays the source
// of truth: a stream that fell behind, or a client that reconnects with
// Last-Event-ID, reads what it missed from the store.
//
// Nothing runs for live logs while nobody streams: the bus callback sees
// no subscriber and returns, and each stream's keep-alive timer lives
// only as long as its connection.
//
// A stream lasts only as long as the access behind it: every
// streamAccessRecheck it authenticates its request again and checks its
// caller's role in the app, as a new request would be (stream_access.go),
// and it ends when either fails: a logout, a revoked API key, an expired
// session, a deleted user, a removal from the app or the app's deletion
// all end it within that interval, on whichever manager holds it, since
// the check reads the shared database.

// Stream settings.
const (
	// defaultKeepAlive is how long a quiet stream waits before it sends a
	// comment, so that proxies and clients see the connection alive.
	defaultKeepAlive = 20 * time.Second
	// streamWriteTimeout bounds each write to a client: one that does not
	// read is dropped rather than holding its stream forever.
	streamWriteTimeout = 30 * time.Second
	// defaultMaxPending bounds the ids announced to a stream and not read
	// yet; past it the stream drops them and catches up from the store.
	defaultMaxPending = 1000
	// streamPage is how many records one store read of a catch-up takes.
	streamPage = 500
	// streamRetryMS is the reconnection delay the stream suggests to
	// clients (the SSE retry field).
	streamRetryMS = 2000
	// recentIDs is how many sent ids a stream remembers, so that a record
	// both read in a catch-up and announced is sent once.
	recentIDs = 1024
)

// streamIDPattern bounds what Last-Event-ID and ?after= may hold: an
// invocation id, which is also written back in the stream's id fields.
var streamIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// beforeAllIDs sorts before every invocation id (letters, digits, '-'
// and '_'): a catch-up after it reads every record.
const beforeAllIDs = " "

// liveLogs fans the InvocationsLogged events out to the streams open on
// this manager, by app.
type liveLogs struct {
	maxPending int

	mu     sync.Mutex
	subs   map[string]map[*logSub]struct{} // by app slug
	closed bool
	done   chan struct{} // closed when the streams must end (shutdown)
}

func newLiveLogs() *liveLogs {
	return &liveLogs{maxPending: defaultMaxPending, subs: map[string]map[*logSub]struct{}{}, done: make(chan struct{})}
}

// logSub is one stream's subscription: the ids announced for its app
// since it last read them.
type logSub struct {
	wake chan struct{} // signalled when ids arrive; capacity 1

	mu   sync.Mutex
	ids  []string
	lost bool // ids overflowed and were dropped: catch up from the store
}

// subscribe registers a stream of app slug; nil once the streams are
// closed.
func (l *liveLogs) subscribe(slug string) *logSub {
	s := &logSub{wake: make(chan struct{}, 1)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	if l.subs[slug] == nil {
		l.subs[slug] = map[*logSub]struct{}{}
	}
	l.subs[slug][s] = struct{}{}
	return s
}

func (l *liveLogs) unsubscribe(slug string, s *logSub) {
	l.mu.Lock()
	delete(l.subs[slug], s)
	if len(l.subs[slug]) == 0 {
		delete(l.subs, slug)
	}
	l.mu.Unlock()
}

// count is the number of open streams, for tests.
func (l *liveLogs) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, subs := range l.subs {
		n += len(subs)
	}
	return n
}

// onEvent hands announced ids to the app's streams. It is called by the
// bus, from the goroutine that wrote the records in this process: it
// never blocks and does nothing when the app has no stream.
func (l *liveLogs) onEvent(e events.Event) {
	if e.Kind != events.InvocationsLogged {
		return
	}
	slug, _, _ := strings.Cut(e.Key, " ")
	l.mu.Lock()
	defer l.mu.Unlock()
	subs := l.subs[slug]
	if len(subs) == 0 {
		return
	}
	_, ids := events.ParseInvocationsLogged(e.Key)
	for s := range subs {
		s.push(ids, l.maxPending)
	}
}

// resync makes every stream catch up from the store: events may have
// been missed (the bus reconnected).
func (l *liveLogs) resync() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, subs := range l.subs {
		for s := range subs {
			s.mu.Lock()
			s.lost, s.ids = true, nil
			s.mu.Unlock()
			s.signal()
		}
	}
}

// close ends every stream and refuses new ones.
func (l *liveLogs) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
}

func (s *logSub) push(ids []string, maxPending int) {
	s.mu.Lock()
	switch {
	case s.lost:
	case len(s.ids)+len(ids) > maxPending:
		s.lost, s.ids = true, nil
	default:
		s.ids = append(s.ids, ids...)
	}
	s.mu.Unlock()
	s.signal()
}

func (s *logSub) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns the ids announced since the last take, or lost when some
// were dropped.
func (s *logSub) take() (ids []string, lost bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, lost = s.ids, s.lost
	s.ids, s.lost = nil, false
	return ids, lost
}

// EndStreams ends the live log streams and refuses new ones, so that a
// graceful shutdown (http.Server.Shutdown waits for every request) is not
// held up by clients that would stream forever. Register it with
// http.Server.RegisterOnShutdown.
func (m *Manager) EndStreams() { m.live.close() }

// Resync makes the live log streams read what they may have missed from
// the store: call it when events may have been lost, as after the bus
// reconnects.
func (m *Manager) Resync() { m.live.resync() }

// streamLogs serves GET /api/v1/apps/{slug}/logs/stream.
func (m *Manager) streamLogs(w http.ResponseWriter, r *http.Request, c *caller) error {
	app, err := m.appFor(r, c, canRead)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.InvocationFilter{AppID: app.ID, Script: q.Get("script"), Status: q.Get("status")}
	if f.Script != "" {
		if err := validScriptName(f.Script); err != nil {
			return err
		}
	}
	switch f.Status {
	case "", store.StatusOK, store.StatusError, store.StatusTimeout, store.StatusLimit:
	default:
		return httpx.Invalid("invalid status %q: a stream carries invocation records; use ok, error, timeout or limit", f.Status)
	}
	if err := httpStatusFilter(q.Get("http_status"), &f); err != nil {
		return err
	}
	after := r.Header.Get("Last-Event-ID")
	if after == "" {
		after = q.Get("after")
	}
	if after != "" && !streamIDPattern.MatchString(after) {
		return httpx.Invalid("invalid Last-Event-ID or after %q: use an invocation id", after)
	}

	// Subscribe before reading anything, so that no record written
	// meanwhile is missed.
	sub := m.live.subscribe(app.Slug)
	if sub == nil {
		return &httpx.Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the server is shutting down; reconnect shortly"}
	}
	if m.streamEnded != nil {
		defer m.streamEnded() // after unsubscribing
	}
	defer m.live.unsubscribe(app.Slug, sub)
	if after == "" {
		// Start from the newest record, the point to catch up from if
		// announcements are dropped.
		newest, err := m.store.ListInvocations(r.Context(), store.InvocationFilter{AppID: app.ID, Limit: 1})
		if err != nil {
			return fmt.Errorf("manager: unable to start the log stream of app %q: %w", app.Slug, err)
		}
		if len(newest) > 0 {
			after = newest[0].ID
		}
	}

	s := &logStream{m: m, w: w, rc: http.NewResponseController(w), r: r, f: f, cursor: after}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	w.WriteHeader(http.StatusOK)
	// The response has begun: failures from here on end the stream (the
	// client reconnects with Last-Event-ID) and are only logged.
	var b strings.Builder
	fmt.Fprintf(&b, "retry: %d\n", streamRetryMS)
	if after != "" {
		fmt.Fprintf(&b, "id: %s\n", after)
	}
	b.WriteString("\n")
	if err := s.write(b.String()); err != nil {
		return nil
	}
	if q.Get("after") != "" || r.Header.Get("Last-Event-ID") != "" {
		if err := s.catchUp(); err != nil {
			s.fail(err)
			return nil
		}
	}

	keepAlive := time.NewTimer(m.streamKeepAlive)
	defer keepAlive.Stop()
	recheck := time.NewTicker(m.streamRecheck)
	defer recheck.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-m.live.done:
			return nil
		case <-recheck.C:
			if !m.streamAllowed(r, app.Slug) {
				return nil
			}
			continue // not activity: the keep-alive timer runs on
		case <-keepAlive.C:
			if err := s.write(": keep-alive\n\n"); err != nil {
				return nil
			}
		case <-sub.wake:
			ids, lost := sub.take()
			var err error
			if lost {
				err = s.catchUp()
			} else {
				err = s.sendAnnounced(ids)
			}
			if err != nil {
				s.fail(err)
				return nil
			}
		}
		keepAlive.Reset(m.streamKeepAlive)
	}
}

// logStream is the state of one stream.
type logStream struct {
	m  *Manager
	w  http.ResponseWriter
	rc *http.ResponseController
	r  *http.Request
	f  store.InvocationFilter
	// cursor is the greatest id sent (or the starting point): the id
	// field of each event, from which a reconnecting client resumes.
	cursor string
	recent []string            // the last ids sent, oldest first
	sent   map[string]struct{} // the same, as a set
}

// errClientGone ends a stream whose client stopped reading.
var errClientGone = errors.New("manager: the stream's client is gone")

// write sends text and flushes it, within streamWriteTimeout.
func (s *logStream) write(text string) error {
	// Not every writer supports deadlines (a test recorder); the write
	// goes on without one.
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := s.w.Write([]byte(text)); err != nil {
		return errClientGone
	}
	if err := s.rc.Flush(); err != nil {
		return errClientGone
	}
	return nil
}

// fail logs why a stream ends, unless its client left.
func (s *logStream) fail(err error) {
	if errors.Is(err, errClientGone) || s.r.Context().Err() != nil {
		return
	}
	s.m.log.ErrorContext(s.r.Context(), "manager: log stream failed", "path", s.r.URL.Path, "err", err)
}

// sendAnnounced reads the announced records that pass the filter and
// sends those not sent yet, by id.
func (s *logStream) sendAnnounced(ids []string) error {
	ids = slices.DeleteFunc(ids, func(id string) bool { _, ok := s.sent[id]; return ok })
	if len(ids) == 0 {
		return nil
	}
	f := s.f
	f.IDs, f.Limit = ids, len(ids)
	invs, err := s.m.store.ListInvocations(s.r.Context(), f)
	if err != nil {
		return fmt.Errorf("manager: unable to read announced records: %w", err)
	}
	slices.SortFunc(invs, func(a, b store.Invocation) int { return strings.Compare(a.ID, b.ID) })
	return s.send(invs)
}

// catchUp sends the records after the cursor, page by page, oldest first.
func (s *logStream) catchUp() error {
	for {
		f := s.f
		f.After, f.Limit = s.cursor, streamPage
		if f.After == "" {
			f.After = beforeAllIDs
		}
		page, err := s.m.store.ListInvocations(s.r.Context(), f)
		if err != nil {
			return fmt.Errorf("manager: unable to read records to catch up: %w", err)
		}
		n := len(page)
		last := ""
		if n > 0 {
			last = page[n-1].ID
		}
		page = slices.DeleteFunc(page, func(inv store.Invocation) bool { _, ok := s.sent[inv.ID]; return ok })
		if err := s.send(page); err != nil {
			return err
		}
		// Past the page even when all of it had been sent already.
		if last > s.cursor {
			s.cursor = last
		}
		if n < streamPage {
			return nil
		}
	}
}

// send writes one event per record.
func (s *logStream) send(invs []store.Invocation) error {
	if len(invs) == 0 {
		return nil
	}
	var b strings.Builder
	for _, inv := range invs {
		data, err := json.Marshal(toInvocation(inv, false))
		if err != nil {
			return fmt.Errorf("manager: unable to encode record %q: %w", inv.ID, err)
		}
		if inv.ID > s.cursor {
			s.cursor = inv.ID
		}
		s.remember(inv.ID)
		fmt.Fprintf(&b, "id: %s\nevent: invocation\ndata: %s\n\n", s.cursor, data)
	}
	return s.write(b.String())
}

func (s *logStream) remember(id string) {
	if s.sent == nil {
		s.sent = make(map[string]struct{}, recentIDs)
	}
	if len(s.recent) == recentIDs {
		delete(s.sent, s.recent[0])
		s.recent = s.recent[1:]
	}
	s.recent = append(s.recent, id)
	s.sent[id] = struct{}{}
}
