package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"unicode/utf8"
)

// Journal is the effect journal of an invocation, shown by
// GET /api/v1/logs/{id}: in order, what the run read from outside (kv
// reads, outbound responses), the clock and random values it drew, and
// the writes it made (kv writes, outbound requests). Secrets are redacted
// and credential headers left out; Truncated says it was cut short at
// its bound. docs/safe-deploys.md describes it.
type Journal struct {
	Entries   []JournalEntry `json:"entries"`
	Truncated bool           `json:"truncated,omitempty"`
}

// JournalEntry is one effect. Op names the function ("kv::get",
// "kv::list", "kv::set", "kv::delete", "kv::incr", "http",
// "time::unix", "time::unix_ms", "timestamp", "elapsed",
// "crypto::random_bytes", "crypto::uuid"), which says which fields it
// uses (docs/api.md).
type JournalEntry struct {
	Op    string           `json:"op"`
	Key   string           `json:"key,omitempty"`
	Value string           `json:"value,omitempty"`
	Found bool             `json:"found,omitempty"`
	Keys  []string         `json:"keys,omitempty"`
	N     int64            `json:"n,omitempty"`
	Int   int64            `json:"int,omitempty"`
	Bytes JournalBody      `json:"bytes,omitempty"`
	HTTP  *JournalExchange `json:"http,omitempty"`
	Err   string           `json:"error,omitempty"`
}

// JournalExchange is an outbound request of a run and its response.
type JournalExchange struct {
	Method            string      `json:"method"`
	URL               string      `json:"url"`
	Header            http.Header `json:"header,omitempty"`
	Body              JournalBody `json:"body,omitempty"`
	BodySize          int         `json:"body_size,omitempty"`
	BodyHash          string      `json:"body_sha256,omitempty"`
	BodyTruncated     bool        `json:"body_truncated,omitempty"`
	Status            int         `json:"status,omitempty"`
	RespHeader        http.Header `json:"resp_header,omitempty"`
	RespBody          JournalBody `json:"resp_body,omitempty"`
	RespBodySize      int         `json:"resp_body_size,omitempty"`
	RespBodyTruncated bool        `json:"resp_body_truncated,omitempty"`
}

// JournalBody is bytes in a journal: a JSON string when they are UTF-8
// text, else {"base64": …}.
type JournalBody []byte

// MarshalJSON writes b as a string or as base64.
func (b JournalBody) MarshalJSON() ([]byte, error) {
	if utf8.Valid(b) {
		return json.Marshal(string(b))
	}
	return json.Marshal(map[string]string{"base64": base64.StdEncoding.EncodeToString(b)})
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
