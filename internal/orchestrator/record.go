package orchestrator

import (
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
)

// MaxRecordedBody bounds each body, of the request and of the response,
// kept with an invocation's record. A longer body is cut (at a character
// boundary when it is text) and marked truncated; a record whose request
// was cut is not replayed unless forced.
const MaxRecordedBody = 64 << 10

// deniedHeaderParts deny-list the headers never recorded, of requests and
// of responses: those whose name contains one of these, in any case.
// They carry credentials (Authorization, Proxy-Authorization, Cookie,
// Set-Cookie, X-Api-Key, X-Auth-Token, X-CSRF-Token, a webhook's
// X-Hub-Signature …), which the people who may read an app's logs must
// not get. The list is documented in docs/api.md; keep them in step.
var deniedHeaderParts = []string{"auth", "cookie", "key", "token", "secret", "passw", "session", "signature",
	"credential", "csrf", "xsrf"}

// deniedFirst marks the lower-case letters that begin a denied part, so
// that most positions of a header name are passed over at once.
var deniedFirst = func() (m [256]bool) {
	for _, p := range deniedHeaderParts {
		m[p[0]] = true
	}
	return m
}()

// deniedHeader reports whether a header of this name is left out of
// records. It does not allocate: it runs on the request path.
func deniedHeader(name string) bool {
	for i := 0; i < len(name); i++ {
		if !deniedFirst[lower(name[i])] {
			continue
		}
		for _, p := range deniedHeaderParts {
			if hasPrefixFold(name[i:], p) {
				return true
			}
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold reports whether s begins with the lower-case ASCII
// prefix, in any case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for j := 0; j < len(prefix); j++ {
		if lower(s[j]) != prefix[j] {
			return false
		}
	}
	return true
}

// recordedHeader returns h without its denied headers: h itself when it
// has none (the common case, which costs no copy), nil when nothing is
// left. The value slices are shared, never modified.
func recordedHeader(h http.Header) http.Header {
	n := 0
	for k := range h {
		if deniedHeader(k) {
			n++
		}
	}
	switch {
	case n == 0 && len(h) > 0:
		return h
	case n == len(h):
		return nil
	}
	out := make(http.Header, len(h)-n)
	for k, vs := range h {
		if !deniedHeader(k) {
			out[k] = vs
		}
	}
	return out
}

// recordedBody returns the body to keep and whether it was cut. A body
// within the bound is kept as it is (it is never written to again); a
// longer one is copied, so that the record does not hold the whole body
// in memory until it is written.
func recordedBody(b []byte) ([]byte, bool) {
	if len(b) <= MaxRecordedBody {
		if len(b) == 0 {
			return nil, false
		}
		return b, false
	}
	// Text cut in the middle of a character is cut before it instead, so
	// that the record stays text.
	n := MaxRecordedBody
	for i := 1; i < utf8.UTFMax && !utf8.RuneStart(b[n]); i++ {
		n--
	}
	return append([]byte(nil), b[:n]...), true
}

// recordRequest is the record of an HTTP request: path is the part after
// /fn/{app}/{script}.
func recordRequest(method, path, rawQuery, host string, h http.Header, body []byte) *store.HTTPRequest {
	b, cut := recordedBody(body)
	return &store.HTTPRequest{Method: method, Path: path, Query: rawQuery, Header: recordedHeader(h), Host: host,
		Body: b, BodySize: len(body), BodyTruncated: cut}
}

// withResult returns inv with what res says of the run, which started at
// started: the fields every invocation record takes from its run, whatever
// triggered it.
func withResult(inv store.Invocation, started time.Time, res executor.Result) store.Invocation {
	inv.StartedAt, inv.Duration = started.UTC(), res.Duration
	inv.Status, inv.HTTPStatus, inv.Operations = res.Status, res.HTTPStatus, res.Operations
	inv.Summary, inv.Output = res.Summary, res.Output
	return inv
}

// recordResponse is the record of a run's response: the script's status,
// headers and body when it finished, the status alone when it failed. The
// app's secrets are redacted from it as from the log: the caller got the
// response as the script wrote it, but the record is for the app's
// viewers. The body is redacted before it is cut, so that a cut never
// keeps the start of a secret.
func recordResponse(res executor.Result) *store.HTTPResponse {
	if res.Status != executor.StatusOK {
		return &store.HTTPResponse{Status: res.HTTPStatus}
	}
	body, over := res.Body, false
	if m := res.Secrets.Margin(); m > 0 && len(body) > MaxRecordedBody+m {
		// Still longer than MaxRecordedBody: recordedBody copies it.
		body, over = body[:MaxRecordedBody+m], true
	}
	b, cut := recordedBody(res.Secrets.RedactBytes(body))
	return &store.HTTPResponse{Status: res.HTTPStatus, Header: redactedHeader(recordedHeader(res.Header), res.Secrets),
		Body: b, BodySize: len(res.Body), BodyTruncated: cut || over}
}

// redactedHeader returns h with the secrets in its values redacted: h
// itself when none holds one.
func redactedHeader(h http.Header, red *executor.Redactor) http.Header {
	var out http.Header
	for k, vs := range h {
		for i, v := range vs {
			r := red.Redact(v)
			if r == v {
				continue
			}
			if out == nil {
				out = h.Clone()
			}
			out[k][i] = r
		}
	}
	if out == nil {
		return h
	}
	return out
}
