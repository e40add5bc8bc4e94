package executor

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// Journal is the effect journal of a run (see store.Journal): what it
// read from outside, the clock and random values it drew and the writes
// it made, in order. A run records one when its event asks
// (Event.Journal), and a replay answers its effects from one
// (Event.Replay).
type Journal = store.Journal

// JournalEntry is one effect in a Journal.
type JournalEntry = store.JournalEntry

// JournalExchange is an outbound request and its response in a Journal.
type JournalExchange = store.JournalExchange

// Bounds of a recorded journal: each body it keeps (an outbound request's
// or response's) is cut at MaxJournalBody bytes, and past MaxJournalBytes
// in all the journal stops, marked Truncated.
const (
	MaxJournalBody  = 64 << 10
	MaxJournalBytes = 256 << 10
)

// ReplayReport is what a replayed run did besides answering: the writes
// it made, captured rather than applied, and its new effects, the reads
// and outbound calls the journal had no answer for, which were not
// performed (a kv read of a key production never read answers as absent;
// an outbound call production never made fails with a catchable error).
type ReplayReport struct {
	Writes     []JournalEntry `json:"writes,omitempty"`
	NewEffects []JournalEntry `json:"new_effects,omitempty"`
}

// recorder collects the journal of one run. Its zero value records
// nothing; a run that records but has no effect allocates no journal.
type recorder struct {
	on    bool
	start int64 // rhai.Now() when the run started, for timestamp offsets
	j     *Journal
	size  int
}

func newRecorder(on bool) recorder {
	if !on {
		return recorder{}
	}
	return recorder{on: true, start: rhai.Now()}
}

// add appends e unless the journal is full; a full journal is marked
// Truncated and takes nothing more.
func (r *recorder) add(e JournalEntry) {
	if !r.on {
		return
	}
	if r.j == nil {
		r.j = &Journal{}
	}
	if r.j.Truncated {
		return
	}
	n := entrySize(e)
	if r.size+n > MaxJournalBytes {
		r.j.Truncated = true
		return
	}
	r.size += n
	r.j.Entries = append(r.j.Entries, e)
}

// entrySize estimates the stored bytes of an entry.
func entrySize(e JournalEntry) int {
	n := 32 + len(e.Op) + len(e.Key) + len(e.Value) + len(e.Bytes) + len(e.Err)
	for _, k := range e.Keys {
		n += len(k) + 3
	}
	if x := e.HTTP; x != nil {
		n += 64 + len(x.Method) + len(x.URL) + len(x.Body) + len(x.RespBody) + len(x.BodyHash)
		for _, h := range []map[string][]string{x.Header, x.RespHeader} {
			for k, vs := range h {
				n += len(k) + 6
				for _, v := range vs {
					n += len(v) + 3
				}
			}
		}
	}
	return n
}

// journalBody is b cut to MaxJournalBody bytes, copied, and whether it
// was cut.
func journalBody(b []byte) (store.JournalBody, bool) {
	if len(b) == 0 {
		return nil, false
	}
	cut := len(b) > MaxJournalBody
	return append(store.JournalBody(nil), b[:min(len(b), MaxJournalBody)]...), cut
}

// journalRequest is the journal's record of an outbound request: the URL
// without its password, the headers as sent (the orchestrator leaves out
// credentials before keeping them), the body bounded, with its size and
// hash. The hash is the redacted body's, so that it cannot confirm a
// guess of a secret.
func journalRequest(method string, u *url.URL, header http.Header, body []byte, red *Redactor) *JournalExchange {
	x := &JournalExchange{Method: method, URL: u.Redacted(), Header: header.Clone(), BodySize: len(body)}
	if len(body) > 0 {
		sum := sha256.Sum256(red.RedactBytes(body))
		x.BodyHash = hex.EncodeToString(sum[:])
	}
	x.Body, x.BodyTruncated = journalBody(body)
	return x
}

// RedactEntry returns e with the secrets redacted from its texts, headers
// and bodies; e itself when there are none.
func (red *Redactor) RedactEntry(e JournalEntry) JournalEntry {
	if red.Margin() == 0 {
		return e
	}
	e.Key, e.Value, e.Err = red.Redact(e.Key), red.Redact(e.Value), red.Redact(e.Err)
	if len(e.Keys) > 0 {
		keys := make([]string, len(e.Keys))
		for i, k := range e.Keys {
			keys[i] = red.Redact(k)
		}
		e.Keys = keys
	}
	if e.HTTP != nil {
		x := *e.HTTP
		x.URL = red.Redact(x.URL)
		x.Header, x.RespHeader = redactHeader(x.Header, red), redactHeader(x.RespHeader, red)
		x.Body, x.RespBody = red.RedactBytes(x.Body), red.RedactBytes(x.RespBody)
		e.HTTP = &x
	}
	return e
}

// redactHeader returns a copy of h with the secrets redacted from its
// values; nil for nil.
func redactHeader(h http.Header, red *Redactor) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		for _, v := range vs {
			out[k] = append(out[k], red.Redact(v))
		}
	}
	return out
}
