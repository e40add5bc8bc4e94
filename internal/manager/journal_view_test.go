package manager

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/picloud/picloud/internal/store"
)

// The API shows a journal with the store's JSON, field for field: a field
// added to one and not the other fails here.
func TestJournalViewMatchesStore(t *testing.T) {
	j := &store.Journal{Truncated: true, Entries: []store.JournalEntry{
		{Op: "kv::list", Key: "a/", Keys: []string{"a/1"}, N: 10, Found: true, Value: "v", Int: 3, Err: "e",
			Bytes: store.JournalBody{0xff}},
		{Op: "http", HTTP: &store.JournalExchange{Method: "GET", URL: "https://x/", Header: http.Header{"A": {"1"}},
			Body: store.JournalBody("b"), BodySize: 1, BodyHash: "h", BodyTruncated: true, Status: 200,
			RespHeader: http.Header{"B": {"2"}}, RespBody: store.JournalBody{0x80}, RespBodySize: 9, RespBodyTruncated: true}},
	}}
	want, _ := json.Marshal(j)
	got, _ := json.Marshal(toJournalView(j))
	if string(got) != string(want) {
		t.Errorf("the API shows\n%s\nthe store holds\n%s", got, want)
	}
	if toJournalView(nil) != nil {
		t.Error("no journal is shown as one")
	}
}
