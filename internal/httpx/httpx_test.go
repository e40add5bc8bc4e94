package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	for _, tc := range []struct {
		name, ct, in string
		status       int // 0: success
	}{
		{"ok", "application/json", `{"name":"a","n":1}`, 0},
		{"no content type", "", `{"name":"a"}`, 0},
		{"charset", "application/json; charset=utf-8", `{"n":2}`, 0},
		{"form", "application/x-www-form-urlencoded", `{"name":"a"}`, 400},
		{"empty", "application/json", ``, 400},
		{"malformed", "application/json", `{"name":`, 400},
		{"wrong type", "application/json", `{"n":"x"}`, 400},
		{"unknown field", "application/json", `{"nope":1}`, 400},
		{"trailing", "application/json", `{"n":1} {"n":2}`, 400},
		{"too large", "application/json", `{"name":"` + strings.Repeat("x", 100) + `"}`, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.in))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			var b body
			err := DecodeJSON(r, &b, 64)
			var e *Error
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.status != 0 && (!errors.As(err, &e) || e.Status != tc.status):
				t.Fatalf("got %v, want status %d", err, tc.status)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, NotFound("no app %q", "x"))
	if w.Code != http.StatusNotFound || w.Body.String() != `{"error":{"code":"not_found","message":"no app \"x\""}}`+"\n" {
		t.Errorf("got %d %q", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	WriteError(w, errors.New("database is on fire"))
	if w.Code != 500 || strings.Contains(w.Body.String(), "fire") {
		t.Errorf("internal details leaked: %d %q", w.Code, w.Body.String())
	}
}

// slowBody reads some bytes, then fails as a body cut off for its rate.
type slowBody struct{ sent bool }

func (b *slowBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, `{"na`), nil
	}
	return 0, ErrSlowBody
}

// A body cut off for arriving too slowly is answered 408, not 400.
func TestDecodeJSONSlowBody(t *testing.T) {
	r := httptest.NewRequest("POST", "/", &slowBody{})
	var v map[string]any
	err := DecodeJSON(r, &v, 1<<20)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusRequestTimeout || e.Code != "request_timeout" {
		t.Fatalf("error %v, want 408 request_timeout", err)
	}
}
