package store

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// A journal reads back as it was stored: small ones as JSON, larger ones
// compressed, binary bodies included.
func TestJournalEncoding(t *testing.T) {
	if EncodeJournal(nil) != nil || EncodeJournal(&Journal{}) != nil {
		t.Error("an empty journal is stored")
	}
	if j, err := DecodeJournal(nil); j != nil || err != nil {
		t.Errorf("an empty column decodes to %v, %v", j, err)
	}
	small := &Journal{Entries: []JournalEntry{{Op: JournalUnix, Int: 1765170000}}}
	large := &Journal{Truncated: true, Entries: []JournalEntry{
		{Op: JournalKVGet, Key: "cart", Found: true, Value: `{"items":[` + strings.Repeat(`"pi",`, 100) + `"pi"]}`},
		{Op: JournalRandomBytes, Bytes: JournalBody{0xff, 0x00, 0xfe}},
		{Op: JournalHTTP, HTTP: &JournalExchange{Method: "POST", URL: "https://example.com/x", Header: http.Header{"X-A": {"1"}},
			Body: JournalBody("hi\n"), BodySize: 3, BodyHash: "abc", BodyTruncated: true, Status: 201,
			RespHeader: http.Header{"Content-Type": {"text/plain"}, "X-B": {"1", "2"}}, RespBody: JournalBody{0x80}, RespBodySize: 1,
			RespBodyTruncated: true}},
		{Op: JournalKVSet, Key: "k", Value: "1", N: 60, Err: "the store failed"},
		{Op: JournalKVList, Key: "a/", N: 10, Keys: []string{"a/1", "a/\"2\""}},
		{Op: JournalKVDelete, Key: "a/1", Found: true},
		{Op: JournalKVIncr, Key: "c", N: -2, Int: 40},
	}}
	for name, j := range map[string]*Journal{"small": small, "large": large} {
		// The encoding by hand is encoding/json's.
		want, _ := json.Marshal(j)
		if got := appendJournal(nil, j); string(got) != string(want) {
			t.Errorf("%s: encoded\n%s\nencoding/json writes\n%s", name, got, want)
		}
		b := EncodeJournal(j)
		if compressed := b[0] == journalDeflated; compressed != (name == "large") {
			t.Errorf("%s: compressed %v", name, compressed)
		}
		got, err := DecodeJournal(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, j) {
			t.Errorf("%s: read back %+v, want %+v", name, got, j)
		}
	}
	data, _ := json.Marshal(large.Entries[1])
	if string(data) != `{"op":"crypto::random_bytes","bytes":{"base64":"/wD+"}}` {
		t.Errorf("a binary body encodes as %s", data)
	}
	if _, err := DecodeJournal([]byte{journalDeflated, 1, 2, 3}); err == nil {
		t.Error("a corrupt column decoded")
	}
}
