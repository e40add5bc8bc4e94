package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
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

func toWireBody(b []byte, size int, truncated bool) wireBody {
	w := wireBody{Size: size, Truncated: truncated}
	if utf8.Valid(b) {
		w.Text = string(b)
	} else {
		w.Base64 = b
	}
	return w
}

func (w wireBody) bytes() []byte {
	if w.Text != "" {
		return []byte(w.Text)
	}
	return w.Base64
}

// marshal encodes v as JSON without HTML escaping, which would triple the
// size of every < > & of a body.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// EncodeRequest returns the stored form of r; nil for nil.
func EncodeRequest(r *HTTPRequest) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	b, err := marshal(wireRequest{Method: r.Method, Path: r.Path, Query: r.Query, Header: r.Header, Host: r.Host,
		wireBody: toWireBody(r.Body, r.BodySize, r.BodyTruncated)})
	if err != nil {
		return nil, fmt.Errorf("store: unable to encode a recorded request: %w", err)
	}
	return b, nil
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

// EncodeResponse returns the stored form of r; nil for nil.
func EncodeResponse(r *HTTPResponse) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	b, err := marshal(wireResponse{Status: r.Status, Header: r.Header,
		wireBody: toWireBody(r.Body, r.BodySize, r.BodyTruncated)})
	if err != nil {
		return nil, fmt.Errorf("store: unable to encode a recorded response: %w", err)
	}
	return b, nil
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
