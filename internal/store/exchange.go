package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
)

// HTTPRequest is the request an invocation answered, as recorded with its
// log record: enough to show it and to run it again (replay). The
// orchestrator leaves out credentials (Authorization, Cookie, …) and
// bounds the body before a record reaches the store.
type HTTPRequest struct {
	Method string
	// Path is the part of the URL path after /fn/{app}/{script}: "" or
	// starting with "/".
	Path   string
	Query  string // the raw query, without "?"
	Header http.Header
	Host   string
	Body   []byte
	// BodySize is the length of the whole body; when BodyTruncated, Body
	// holds only its first bytes.
	BodySize      int
	BodyTruncated bool
}

// HTTPResponse is the response an invocation gave, as recorded: the
// script's status, headers and body for a run that finished, the status
// alone for a failed run (whose error body names the invocation).
type HTTPResponse struct {
	Status        int
	Header        http.Header
	Body          []byte
	BodySize      int
	BodyTruncated bool
}

// The stored form of an exchange is compact JSON. A body that is UTF-8
// text is kept as a string, anything else in base64.

type wireBody struct {
	Text      string `json:"body,omitempty"`
	Base64    []byte `json:"body_base64,omitempty"`
	Size      int    `json:"size,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
}

type wireRequest struct {
	Method string      `json:"method"`
	Path   string      `json:"path,omitempty"`
	Query  string      `json:"query,omitempty"`
	Header http.Header `json:"header,omitempty"`
	Host   string      `json:"host,omitempty"`
	wireBody
}

type wireResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header,omitempty"`
	wireBody
}

func (w wireBody) bytes() []byte {
	if w.Text != "" {
		return []byte(w.Text)
	}
	return w.Base64
}

// EncodeRequest returns the stored form of r; nil for nil. It writes the
// JSON that encoding/json would write for wireRequest, without HTML
// escaping, by hand: the log writer encodes every HTTP invocation's
// exchange, and reflection made that a fifth of its time.
func EncodeRequest(r *HTTPRequest) []byte {
	if r == nil {
		return nil
	}
	b := make([]byte, 0, 64+len(r.Path)+len(r.Query)+headerSize(r.Header)+len(r.Host)+bodySize(r.Body))
	b = append(b, `{"method":`...)
	b = appendString(b, r.Method)
	b = appendStringField(b, "path", r.Path)
	b = appendStringField(b, "query", r.Query)
	b = appendHeaderField(b, r.Header)
	b = appendStringField(b, "host", r.Host)
	b = appendBodyFields(b, r.Body, r.BodySize, r.BodyTruncated)
	return append(b, '}')
}

// EncodeResponse returns the stored form of r; nil for nil. Like
// EncodeRequest, it writes wireResponse's JSON by hand.
func EncodeResponse(r *HTTPResponse) []byte {
	if r == nil {
		return nil
	}
	b := make([]byte, 0, 48+headerSize(r.Header)+bodySize(r.Body))
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = appendHeaderField(b, r.Header)
	b = appendBodyFields(b, r.Body, r.BodySize, r.BodyTruncated)
	return append(b, '}')
}

// headerSize and bodySize estimate the encoded sizes, for one allocation.
func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += len(k) + 6
		for _, v := range vs {
			n += len(v) + 3
		}
	}
	return n
}

func bodySize(body []byte) int { return base64.StdEncoding.EncodedLen(len(body)) + 48 }

// appendStringField appends ,"name":"value" unless value is empty
// (omitempty).
func appendStringField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendHeaderField appends ,"header":{…} with the names sorted, unless
// h is empty (omitempty). A nil list of values is null, as encoding/json
// writes it.
func appendHeaderField(b []byte, h http.Header) []byte { return appendHeaderNamed(b, "header", h) }

// appendHeaderNamed is appendHeaderField with the field's name.
func appendHeaderNamed(b []byte, name string, h http.Header) []byte {
	if len(h) == 0 {
		return b
	}
	var buf [16]string
	names := buf[:0]
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":{`...)
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		vs := h[k]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendBodyFields appends wireBody's fields: a UTF-8 body as "body", any
// other as "body_base64", then "size" and "truncated", each left out when
// empty, zero or false.
func appendBodyFields(b, body []byte, size int, truncated bool) []byte {
	if len(body) > 0 {
		if utf8.Valid(body) {
			b = append(b, `,"body":`...)
			b = appendString(b, body)
		} else {
			b = append(b, `,"body_base64":"`...)
			b = base64.StdEncoding.AppendEncode(b, body)
			b = append(b, '"')
		}
	}
	if size != 0 {
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, int64(size), 10)
	}
	if truncated {
		b = append(b, `,"truncated":true`...)
	}
	return b
}

// appendString appends s as a JSON string, escaped as encoding/json does
// without HTML escaping: quotes, backslashes and control characters are
// escaped, and each byte that is not part of valid UTF-8 becomes U+FFFD.
func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		// At most UTFMax bytes: converting them to a string does not
		// allocate.
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// DecodeRequest reads what EncodeRequest wrote; nil for an empty column.
func DecodeRequest(b []byte) (*HTTPRequest, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var w wireRequest
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("store: unable to decode a recorded request: %w", err)
	}
	return &HTTPRequest{Method: w.Method, Path: w.Path, Query: w.Query, Header: w.Header, Host: w.Host,
		Body: w.bytes(), BodySize: w.Size, BodyTruncated: w.Truncated}, nil
}

// DecodeResponse reads what EncodeResponse wrote; nil for an empty column.
func DecodeResponse(b []byte) (*HTTPResponse, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var w wireResponse
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("store: unable to decode a recorded response: %w", err)
	}
	return &HTTPResponse{Status: w.Status, Header: w.Header, Body: w.bytes(), BodySize: w.Size, BodyTruncated: w.Truncated}, nil
}
