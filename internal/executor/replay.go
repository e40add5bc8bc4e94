package executor

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// sandbox answers the effects of a replayed run from a recorded journal
// (Event.Replay): reads return what production saw, matched by operation
// and key in order; writes are captured, not applied; clock and random
// draws are the journal's; what the journal has no answer for is not
// performed and is reported as a new effect.
type sandbox struct {
	j    *Journal
	used []bool
	// start is rhai.Now() when the replay started: timestamps are start
	// plus the journal's offsets. clock is the last offset answered, the
	// sandbox's now for draws the journal lacks.
	start, clock int64
	// wall answers time::unix and unix_ms beyond the journal's: the
	// recorded run's start (Event.ReplayStart).
	wall   time.Time
	rand   *rand.ChaCha8 // random values beyond the journal's
	report ReplayReport
	// secrets put the app's secrets back where the journal has their
	// markers ("[secret NAME]"), as text and inside JSON; red redacts
	// them from the report. nil when the run has no secrets.
	secrets, jsonSecrets *strings.Replacer
	red                  *Redactor
}

func newSandbox(ev *Event, red *Redactor) *sandbox {
	if ev.Replay == nil {
		return nil
	}
	s := &sandbox{j: ev.Replay, used: make([]bool, len(ev.Replay.Entries)), start: rhai.Now(),
		wall: ev.ReplayStart, rand: rand.NewChaCha8([32]byte{'p', 'i', 'c', 'l', 'o', 'u', 'd'}), red: red}
	if len(ev.Env) > 0 {
		var text, js []string
		for name, value := range ev.Env {
			q, _ := json.Marshal(value) // a string always encodes
			text = append(text, "[secret "+name+"]", value)
			js = append(js, "[secret "+name+"]", string(q[1:len(q)-1]))
		}
		s.secrets, s.jsonSecrets = strings.NewReplacer(text...), strings.NewReplacer(js...)
	}
	return s
}

// unredact puts the secrets back in a text the journal answers.
func (s *sandbox) unredact(text string) string {
	if s.secrets == nil || !strings.Contains(text, "[secret ") {
		return text
	}
	return s.secrets.Replace(text)
}

// unredactJSON puts the secrets back in a JSON text, escaped.
func (s *sandbox) unredactJSON(text string) string {
	if s.jsonSecrets == nil || !strings.Contains(text, "[secret ") {
		return text
	}
	return s.jsonSecrets.Replace(text)
}

// next returns the first entry not answered yet with this op and key,
// and marks it answered.
func (s *sandbox) next(op, key string) (JournalEntry, bool) {
	return s.nextFunc(func(e JournalEntry) bool { return e.Op == op && e.Key == key })
}

// nextFunc is next with a match of its own.
func (s *sandbox) nextFunc(match func(JournalEntry) bool) (JournalEntry, bool) {
	for i, e := range s.j.Entries {
		if !s.used[i] && match(e) {
			s.used[i] = true
			return e, true
		}
	}
	return JournalEntry{}, false
}

// last returns the last entry of op in the journal, answered or not.
func (s *sandbox) last(op string) (JournalEntry, bool) {
	for i := len(s.j.Entries) - 1; i >= 0; i-- {
		if s.j.Entries[i].Op == op {
			return s.j.Entries[i], true
		}
	}
	return JournalEntry{}, false
}

// write and newEffect add to the report, with the secrets redacted, so
// that it compares with the recorded journal.
func (s *sandbox) write(e JournalEntry) {
	s.report.Writes = append(s.report.Writes, s.red.RedactEntry(e))
}
func (s *sandbox) newEffect(e JournalEntry) {
	s.report.NewEffects = append(s.report.NewEffects, s.red.RedactEntry(e))
}

// wallClock answers time::unix (op store.JournalUnix) or unix_ms in order from
// the journal, then with the last value it holds, then with the recorded
// run's start.
func (s *sandbox) wallClock(op string) int64 {
	if e, ok := s.next(op, ""); ok {
		return e.Int
	}
	if e, ok := s.last(op); ok {
		return e.Int
	}
	if op == store.JournalUnixMillis {
		return s.wall.UnixMilli()
	}
	return s.wall.Unix()
}

// timestamp answers timestamp(): the journal's next offset from the
// run's start, else the last one answered.
func (s *sandbox) timestamp() int64 {
	if e, ok := s.next(store.JournalTimestamp, ""); ok {
		s.clock = max(s.clock, e.Int)
		return s.start + e.Int
	}
	return s.start + s.clock
}

// elapsed answers t.elapsed in nanoseconds: the journal's next answer,
// else the time from t to the sandbox's now.
func (s *sandbox) elapsed(t int64) int64 {
	if e, ok := s.next(store.JournalElapsed, ""); ok {
		return e.Int
	}
	return max(s.start+s.clock-t, 0)
}

// randomBytes answers crypto::random_bytes(n): the journal's next draw
// of n bytes, else bytes of a fixed-seed generator.
func (s *sandbox) randomBytes(n int) []byte {
	if e, ok := s.nextFunc(func(e JournalEntry) bool { return e.Op == store.JournalRandomBytes && len(e.Bytes) == n }); ok {
		return e.Bytes
	}
	b := make([]byte, n)
	_, _ = s.rand.Read(b) // never fails
	return b
}

// uuid answers crypto::uuid(): the journal's next, else one made from
// the fixed-seed generator.
func (s *sandbox) uuid() string {
	if e, ok := s.next(store.JournalUUID, ""); ok {
		return e.Value
	}
	var u [16]byte
	_, _ = s.rand.Read(u[:])
	return formatUUID(u)
}

// http answers an outbound request with the response production got to
// its next request of the same method and URL, and captures it as a
// write; a request production never made is a new effect, not performed,
// which fails with a catchable error.
func (s *sandbox) http(fn string, x *JournalExchange) (rhai.Value, error) {
	e, ok := s.nextFunc(func(e JournalEntry) bool {
		return e.Op == store.JournalHTTP && e.HTTP != nil && e.HTTP.Method == x.Method && e.HTTP.URL == x.URL
	})
	if !ok {
		s.newEffect(JournalEntry{Op: store.JournalHTTP, HTTP: x})
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "%s: %s %s was not made by the recorded run: a replay does not perform it",
			fn, x.Method, x.URL)
	}
	s.write(JournalEntry{Op: store.JournalHTTP, HTTP: x})
	if e.Err != "" {
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "%s", s.unredact(e.Err))
	}
	header := make(http.Header, len(e.HTTP.RespHeader))
	for k, vs := range e.HTTP.RespHeader {
		for _, v := range vs {
			header.Add(k, s.unredact(v))
		}
	}
	return responseValue(e.HTTP.Status, header, []byte(s.unredact(string(e.HTTP.RespBody)))), nil
}
