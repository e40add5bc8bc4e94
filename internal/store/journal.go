package store

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// Journal is the effect journal of one run: in order, what the script
// read from outside (kv reads, outbound responses), the clock and random
// values it drew, and the writes it made (kv writes, outbound requests).
// It is recorded with the invocation, so that a run can be replayed with
// its effects answered from it (executor.Event.Replay). Secrets are
// redacted from it and it is bounded like the recorded bodies; a journal
// cut short says so in Truncated, and its entries stop there.
type Journal struct {
	Entries   []JournalEntry `json:"entries,omitempty"`
	Truncated bool           `json:"truncated,omitempty"`
}

// The operations of journal entries: the functions scripts call.
const (
	JournalKVGet       = "kv::get"    // Key; Found and Value (JSON) when the key existed
	JournalKVList      = "kv::list"   // Key is the prefix, N the limit; Keys
	JournalKVSet       = "kv::set"    // Key, Value (JSON); N the ttl in seconds, 0 for none
	JournalKVDelete    = "kv::delete" // Key; Found: whether it existed
	JournalKVIncr      = "kv::incr"   // Key, N the increment; Int the new value
	JournalHTTP        = "http"       // HTTP: the request and its response
	JournalUnix        = "time::unix" // Int: seconds since the epoch
	JournalUnixMillis  = "time::unix_ms"
	JournalTimestamp   = "timestamp" // Int: nanoseconds since the run started
	JournalElapsed     = "elapsed"   // Int: the nanoseconds elapsed answered
	JournalRandomBytes = "crypto::random_bytes"
	JournalUUID        = "crypto::uuid" // Value: the UUID
)

// JournalEntry is one effect of a run. Op says which (the Journal*
// constants) and which fields it uses.
type JournalEntry struct {
	Op    string           `json:"op"`
	Key   string           `json:"key,omitempty"`
	Value string           `json:"value,omitempty"`
	Found bool             `json:"found,omitempty"`
	Keys  []string         `json:"keys,omitempty"`
	N     int64            `json:"n,omitempty"`
	Int   int64            `json:"int,omitempty"`
	Bytes JournalBody      `json:"bytes,omitempty"` // crypto::random_bytes
	HTTP  *JournalExchange `json:"http,omitempty"`
	// Err is the error the call ended with, redacted; the other fields
	// then hold only the call's arguments.
	Err string `json:"error,omitempty"`
}

// IsWrite reports whether the entry changed something outside the run:
// a kv write or an outbound request (whose method may not be safe).
func (e JournalEntry) IsWrite() bool {
	switch e.Op {
	case JournalKVSet, JournalKVDelete, JournalKVIncr, JournalHTTP:
		return true
	}
	return false
}

// JournalExchange is an outbound request of a run and the response it
// got (Status 0 when it failed: see the entry's Err). Headers leave out
// credentials as in the recorded exchanges; bodies are bounded like them.
type JournalExchange struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"header,omitempty"`
	Body   JournalBody `json:"body,omitempty"`
	// BodySize is the whole request body's length and BodyHash its
	// SHA-256 (hex), which compare requests whose body was cut.
	BodySize      int    `json:"body_size,omitempty"`
	BodyHash      string `json:"body_sha256,omitempty"`
	BodyTruncated bool   `json:"body_truncated,omitempty"`

	Status            int         `json:"status,omitempty"`
	RespHeader        http.Header `json:"resp_header,omitempty"`
	RespBody          JournalBody `json:"resp_body,omitempty"`
	RespBodySize      int         `json:"resp_body_size,omitempty"`
	RespBodyTruncated bool        `json:"resp_body_truncated,omitempty"`
}

// JournalBody is bytes kept in a journal: JSON writes it as a string when
// it is UTF-8 text, else as {"base64": …}.
type JournalBody []byte

// MarshalJSON writes b as a string or as base64.
func (b JournalBody) MarshalJSON() ([]byte, error) { return appendJournalBody(nil, b), nil }

func appendJournalBody(out []byte, b JournalBody) []byte {
	if utf8.Valid(b) {
		return appendString(out, b)
	}
	out = append(out, `{"base64":"`...)
	out = base64.StdEncoding.AppendEncode(out, b)
	return append(out, '"', '}')
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (b *JournalBody) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*b = []byte(s)
		return nil
	}
	var w struct {
		Base64 []byte `json:"base64"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*b = w.Base64
	return nil
}

// journalDeflated marks a stored journal compressed with DEFLATE; an
// uncompressed one is JSON and starts with '{'.
const journalDeflated = 0x01

// journalCompressAt is the size of JSON from which a journal is stored
// compressed: below it DEFLATE's header and tables outweigh the gain
// (see docs/safe-deploys.md, "The effect journal").
const journalCompressAt = 256

// EncodeJournal returns the stored form of j: its JSON, compressed with
// DEFLATE when that is long enough to gain; nil for nil or an empty
// journal.
func EncodeJournal(j *Journal) []byte {
	if j == nil || len(j.Entries) == 0 && !j.Truncated {
		return nil
	}
	data := appendJournal(make([]byte, 0, 256), j)
	if len(data) < journalCompressAt {
		return data
	}
	var buf bytes.Buffer
	buf.WriteByte(journalDeflated)
	w, _ := flate.NewWriter(&buf, flate.BestSpeed) // a valid level
	_, _ = w.Write(data)                           // a bytes.Buffer never fails
	_ = w.Close()
	return buf.Bytes()
}

// maxJournalJSON bounds the JSON a stored journal inflates to, against a
// corrupt column.
const maxJournalJSON = 64 << 20

// DecodeJournal reads what EncodeJournal wrote; nil for an empty column.
func DecodeJournal(b []byte) (*Journal, error) {
	if len(b) == 0 {
		return nil, nil
	}
	data := b
	if b[0] == journalDeflated {
		r := flate.NewReader(bytes.NewReader(b[1:]))
		defer r.Close()
		var err error
		if data, err = io.ReadAll(io.LimitReader(r, maxJournalJSON)); err != nil {
			return nil, fmt.Errorf("store: unable to inflate a journal: %w", err)
		}
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("store: unable to decode a journal: %w", err)
	}
	return &j, nil
}

// appendJournal appends the JSON that encoding/json writes for j, without
// HTML escaping, by hand: the log writer encodes the journal of every
// invocation that has one, and reflection cost several microseconds each.
func appendJournal(b []byte, j *Journal) []byte {
	b = append(b, '{')
	if len(j.Entries) > 0 {
		b = append(b, `"entries":[`...)
		for i, e := range j.Entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJournalEntry(b, e)
		}
		b = append(b, ']')
	}
	if j.Truncated {
		if len(j.Entries) > 0 {
			b = append(b, ',')
		}
		b = append(b, `"truncated":true`...)
	}
	return append(b, '}')
}

func appendJournalEntry(b []byte, e JournalEntry) []byte {
	b = append(b, `{"op":`...)
	b = appendString(b, e.Op)
	b = appendStringField(b, "key", e.Key)
	b = appendStringField(b, "value", e.Value)
	if e.Found {
		b = append(b, `,"found":true`...)
	}
	if len(e.Keys) > 0 {
		b = append(b, `,"keys":[`...)
		for i, k := range e.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
		}
		b = append(b, ']')
	}
	b = appendIntField(b, "n", e.N)
	b = appendIntField(b, "int", e.Int)
	if len(e.Bytes) > 0 {
		b = append(b, `,"bytes":`...)
		b = appendJournalBody(b, e.Bytes)
	}
	if x := e.HTTP; x != nil {
		b = append(b, `,"http":{"method":`...)
		b = appendString(b, x.Method)
		b = append(b, `,"url":`...)
		b = appendString(b, x.URL)
		b = appendHeaderNamed(b, "header", x.Header)
		b = appendBodyField(b, "body", x.Body)
		b = appendIntField(b, "body_size", int64(x.BodySize))
		b = appendStringField(b, "body_sha256", x.BodyHash)
		if x.BodyTruncated {
			b = append(b, `,"body_truncated":true`...)
		}
		b = appendIntField(b, "status", int64(x.Status))
		b = appendHeaderNamed(b, "resp_header", x.RespHeader)
		b = appendBodyField(b, "resp_body", x.RespBody)
		b = appendIntField(b, "resp_body_size", int64(x.RespBodySize))
		if x.RespBodyTruncated {
			b = append(b, `,"resp_body_truncated":true`...)
		}
		b = append(b, '}')
	}
	b = appendStringField(b, "error", e.Err)
	return append(b, '}')
}

// appendIntField appends ,"name":n unless n is 0 (omitempty).
func appendIntField(b []byte, name string, n int64) []byte {
	if n == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, n, 10)
}

// appendBodyField appends ,"name":body unless it is empty (omitempty).
func appendBodyField(b []byte, name string, body JournalBody) []byte {
	if len(body) == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJournalBody(b, body)
}
