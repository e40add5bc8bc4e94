package store

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"unicode/utf8"
)

// reference is what encoding/json writes for v without HTML escaping: the
// stored form the hand-written encoders must match.
func reference(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func referenceBody(b []byte, size int, truncated bool) wireBody {
	w := wireBody{Size: size, Truncated: truncated}
	if utf8.Valid(b) {
		w.Text = string(b)
	} else {
		w.Base64 = b
	}
	return w
}

// sameJSON fails unless got is valid JSON with the same value as want.
func sameJSON(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !json.Valid(got) {
		t.Fatalf("%s: invalid JSON %q", what, got)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func checkRequest(t testing.TB, r HTTPRequest) {
	t.Helper()
	got := EncodeRequest(&r)
	want := reference(t, wireRequest{Method: r.Method, Path: r.Path, Query: r.Query, Header: r.Header, Host: r.Host,
		wireBody: referenceBody(r.Body, r.BodySize, r.BodyTruncated)})
	sameJSON(t, "request", got, want)
	if !bytes.Contains(want, []byte(`\u2028`)) && !bytes.Contains(want, []byte(`\u2029`)) && !bytes.Equal(got, want) {
		// encoding/json escapes U+2028 and U+2029 even without HTML
		// escaping; everything else is written the same, byte for byte.
		t.Fatalf("request:\n got %s\nwant %s", got, want)
	}
	back, err := DecodeRequest(got)
	if err != nil {
		t.Fatal(err)
	}
	if utf8.Valid(r.Body) && back.Method == r.Method && back.Path == r.Path && !bytes.Equal(back.Body, r.Body) {
		t.Fatalf("body %q came back as %q", r.Body, back.Body)
	}
	if !utf8.Valid(r.Body) && !bytes.Equal(back.Body, r.Body) {
		t.Fatalf("binary body %q came back as %q", r.Body, back.Body)
	}
}

func checkResponse(t testing.TB, r HTTPResponse) {
	t.Helper()
	got := EncodeResponse(&r)
	want := reference(t, wireResponse{Status: r.Status, Header: r.Header,
		wireBody: referenceBody(r.Body, r.BodySize, r.BodyTruncated)})
	sameJSON(t, "response", got, want)
	back, err := DecodeResponse(got)
	if err != nil {
		t.Fatal(err)
	}
	if back.Status != r.Status || back.BodySize != r.BodySize || back.BodyTruncated != r.BodyTruncated {
		t.Fatalf("response %+v came back as %+v", r, back)
	}
}

var tricky = []string{
	"", "plain", `quote " and backslash \`, "new\nline\r\ttab", "nul \x00 and \x1f and \x7f",
	"<html> & 'apos'", "é ü 日本 🎉", "line separator \u2028 and \u2029",
	"invalid \xff\xfe utf-8 \xc3", "truncated rune \xe6\x97", "\xed\xa0\x80 surrogate half",
}

func TestEncodeExchangeMatchesEncodingJSON(t *testing.T) {
	if EncodeRequest(nil) != nil || EncodeResponse(nil) != nil {
		t.Fatal("nil must encode as nil (a NULL column)")
	}
	for _, s := range tricky {
		checkRequest(t, HTTPRequest{Method: "POST", Path: "/" + s, Query: s, Host: s,
			Header: http.Header{"X-" + s: {s, "two"}, "Accept": {"*/*"}, "Empty": {}, "Nil": nil},
			Body:   []byte(s), BodySize: len(s) + 7, BodyTruncated: len(s)%2 == 0})
		checkResponse(t, HTTPResponse{Status: 200 + len(s), Header: http.Header{"Content-Type": {s}},
			Body: []byte(s), BodySize: len(s)})
	}
	// Bare records: every optional field left out.
	checkRequest(t, HTTPRequest{Method: "GET"})
	checkResponse(t, HTTPResponse{Status: 500})
	// Many headers (more than the sort buffer holds) and a binary body.
	h := http.Header{}
	for _, c := range "abcdefghijklmnopqrstuvwxyz" {
		h.Add("X-"+string(c), string(c))
	}
	checkRequest(t, HTTPRequest{Method: "PUT", Header: h, Body: []byte{0, 1, 2, 0xff, 0xfe}, BodySize: 5})
	if got := string(EncodeResponse(&HTTPResponse{Status: 201, Body: []byte("a<b>&c")})); got != `{"status":201,"body":"a<b>&c"}` {
		t.Fatalf("HTML characters must stay as they are: %s", got)
	}
}

func FuzzEncodeRequest(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, s, []byte(s))
	}
	f.Fuzz(func(t *testing.T, method, header string, body []byte) {
		checkRequest(t, HTTPRequest{Method: method, Header: http.Header{header: {header}}, Body: body, BodySize: len(body)})
		checkResponse(t, HTTPResponse{Status: len(body), Header: http.Header{header: {method}}, Body: body})
	})
}

func BenchmarkEncodeExchange(b *testing.B) {
	req := &HTTPRequest{Method: "GET", Host: "127.0.0.1:8080",
		Header: http.Header{"User-Agent": {"Go-http-client/1.1"}, "Accept-Encoding": {"gzip"}}}
	resp := &HTTPResponse{Status: 200, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body: []byte("Hello, world!"), BodySize: 13}
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			EncodeRequest(req)
			EncodeResponse(resp)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reference(b, wireRequest{Method: req.Method, Header: req.Header, Host: req.Host})
			reference(b, wireResponse{Status: resp.Status, Header: resp.Header, wireBody: referenceBody(resp.Body, resp.BodySize, false)})
		}
	})
}
