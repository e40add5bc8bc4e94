package manager

import (
	"encoding/base64"
	"net/http"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
)

// The recorded HTTP exchange of an invocation, as GET /api/v1/logs/{id}
// and the replay show it. A body that is UTF-8 text is "body"; any other
// is "body_base64", with "body" null.

func toBody(b []byte, size int, truncated bool) api.RecordedBody {
	v := api.RecordedBody{BodySize: size, BodyTruncated: truncated}
	if utf8.Valid(b) {
		s := string(b)
		v.Body = &s
	} else {
		s := base64.StdEncoding.EncodeToString(b)
		v.BodyBase64 = &s
	}
	return v
}

func toRequestView(r *store.HTTPRequest) *api.RecordedRequest {
	if r == nil {
		return nil
	}
	return &api.RecordedRequest{Method: r.Method, Path: r.Path, Query: r.Query, Host: r.Host, Headers: headersOrEmpty(r.Header),
		RecordedBody: toBody(r.Body, r.BodySize, r.BodyTruncated)}
}

func toResponseView(r *store.HTTPResponse) *api.RecordedResponse {
	if r == nil {
		return nil
	}
	return &api.RecordedResponse{Status: r.Status, Headers: headersOrEmpty(r.Header), RecordedBody: toBody(r.Body, r.BodySize, r.BodyTruncated)}
}

// headersOrEmpty makes "headers" an object, never null.
func headersOrEmpty(h http.Header) http.Header {
	if h == nil {
		return http.Header{}
	}
	return h
}

// toInvocationDetail is one record shown alone: with its output, and its
// recorded request and response when it has them.
func toInvocationDetail(inv store.Invocation) api.Invocation {
	r := toInvocation(inv, true)
	r.Request, r.Response = toRequestView(inv.Request), toResponseView(inv.Response)
	r.Journal = toJournalView(inv.Journal)
	return r
}

// toJournalView is the API's form of a journal: the same fields.
func toJournalView(j *store.Journal) *api.Journal {
	if j == nil {
		return nil
	}
	v := &api.Journal{Truncated: j.Truncated, Entries: make([]api.JournalEntry, len(j.Entries))}
	for i, e := range j.Entries {
		v.Entries[i] = api.JournalEntry{Op: e.Op, Key: e.Key, Value: e.Value, Found: e.Found, Keys: e.Keys, N: e.N,
			Int: e.Int, Bytes: api.JournalBody(e.Bytes), Err: e.Err}
		if x := e.HTTP; x != nil {
			v.Entries[i].HTTP = &api.JournalExchange{Method: x.Method, URL: x.URL, Header: x.Header,
				Body: api.JournalBody(x.Body), BodySize: x.BodySize, BodyHash: x.BodyHash, BodyTruncated: x.BodyTruncated,
				Status: x.Status, RespHeader: x.RespHeader, RespBody: api.JournalBody(x.RespBody),
				RespBodySize: x.RespBodySize, RespBodyTruncated: x.RespBodyTruncated}
		}
	}
	return v
}
