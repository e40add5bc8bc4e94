package manager

import (
	"encoding/base64"
	"net/http"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/store"
)

// The recorded HTTP exchange of an invocation, as GET /api/v1/logs/{id}
// and the replay show it. A body that is UTF-8 text is "body"; any other
// is "body_base64", with "body" null.

type bodyView struct {
	Body          *string `json:"body"`
	BodyBase64    *string `json:"body_base64,omitempty"`
	BodySize      int     `json:"body_size"`
	BodyTruncated bool    `json:"body_truncated"`
}

func toBody(b []byte, size int, truncated bool) bodyView {
	v := bodyView{BodySize: size, BodyTruncated: truncated}
	if utf8.Valid(b) {
		s := string(b)
		v.Body = &s
	} else {
		s := base64.StdEncoding.EncodeToString(b)
		v.BodyBase64 = &s
	}
	return v
}

type requestView struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Host    string      `json:"host"`
	Headers http.Header `json:"headers"`
	bodyView
}

func toRequestView(r *store.HTTPRequest) *requestView {
	if r == nil {
		return nil
	}
	return &requestView{Method: r.Method, Path: r.Path, Query: r.Query, Host: r.Host, Headers: headersOrEmpty(r.Header),
		bodyView: toBody(r.Body, r.BodySize, r.BodyTruncated)}
}

type responseView struct {
	Status  int         `json:"status"`
	Headers http.Header `json:"headers"`
	bodyView
}

func toResponseView(r *store.HTTPResponse) *responseView {
	if r == nil {
		return nil
	}
	return &responseView{Status: r.Status, Headers: headersOrEmpty(r.Header), bodyView: toBody(r.Body, r.BodySize, r.BodyTruncated)}
}

// headersOrEmpty makes "headers" an object, never null.
func headersOrEmpty(h http.Header) http.Header {
	if h == nil {
		return http.Header{}
	}
	return h
}

// invocationDetail is one record shown alone: with its output, and its
// recorded request and response when it has them.
type invocationDetail struct {
	invocationResponse
	Request  *requestView  `json:"request,omitempty"`
	Response *responseView `json:"response,omitempty"`
}

func toInvocationDetail(inv store.Invocation) invocationDetail {
	return invocationDetail{invocationResponse: toInvocation(inv, true),
		Request: toRequestView(inv.Request), Response: toResponseView(inv.Response)}
}
