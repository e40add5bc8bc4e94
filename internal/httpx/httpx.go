// Package httpx holds the small HTTP helpers every PiCloud service shares:
// JSON responses, the API error type with stable codes, and request
// decoding with a size limit. It imports nothing of PiCloud.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Error is an API error: an HTTP status, a stable machine-readable code and
// a human message. It is written as {"error": {"code": …, "message": …}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Details carries optional structured data, e.g. the line and column
	// of a script compile error.
	Details map[string]any `json:"details,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Constructors for the statuses the API uses.
func BadRequest(format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, a...)}
}
func Unauthorized(format string, a ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: fmt.Sprintf(format, a...)}
}
func Forbidden(format string, a ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf(format, a...)}
}
func NotFound(format string, a ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, a...)}
}
func Conflict(format string, a ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: fmt.Sprintf(format, a...)}
}
func TooLarge(format string, a ...any) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: fmt.Sprintf(format, a...)}
}
func Invalid(format string, a ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: fmt.Sprintf(format, a...)}
}
func TooManyRequests(format string, a ...any) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "too_many_requests", Message: fmt.Sprintf(format, a...)}
}
func RequestTimeout(format string, a ...any) *Error {
	return &Error{Status: http.StatusRequestTimeout, Code: "request_timeout", Message: fmt.Sprintf(format, a...)}
}
func Internal(format string, a ...any) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: fmt.Sprintf(format, a...)}
}

// StorageFull is the answer to a write the database refused for want of
// space: 507 Insufficient Storage, which tells the client that the
// request was valid and that nothing of it was kept, so the same request
// may be sent again once an administrator has freed space.
func StorageFull() *Error {
	return &Error{Status: http.StatusInsufficientStorage, Code: "storage_full",
		Message: "the server's storage is full: nothing of this request was saved; try again once an administrator has freed space"}
}

// ErrSlowBody is the error of reading a request body that arrives slower
// than the server's minimum rate (package netguard cuts it off): the
// handler answers SlowBody.
var ErrSlowBody = errors.New("httpx: the request body arrives too slowly")

// SlowBody is the answer to a body cut off by ErrSlowBody: 408, which
// tells the client that the connection is closed.
func SlowBody() *Error {
	return RequestTimeout("the request body arrived too slowly; send it at a steady rate")
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteError writes err as a JSON API error. Errors that are not *Error
// become 500 with a generic message: internal details stay in the log.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = Internal("internal error")
	}
	WriteJSON(w, e.Status, map[string]*Error{"error": e})
}

// DecodeJSON reads a JSON object from the request body into v. The body
// may hold at most maxBytes; unknown fields and trailing data are errors.
// It returns *Error values with status 400 (malformed, wrong types) or 413.
func DecodeJSON(r *http.Request, v any, maxBytes int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return BadRequest("expected a JSON body (Content-Type: application/json), got %q", ct)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
	if errors.Is(err, ErrSlowBody) {
		return SlowBody()
	}
	if err != nil {
		return BadRequest("cannot read the request body: %v", err)
	}
	if int64(len(body)) > maxBytes {
		return TooLarge("request body is larger than %d bytes", maxBytes)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return BadRequest("the request body is empty; expected a JSON object")
		case errors.As(err, &typeErr):
			return BadRequest("field %q must be of type %s", typeErr.Field, typeErr.Type)
		}
		return BadRequest("malformed JSON: %v", err)
	}
	if dec.More() {
		return BadRequest("malformed JSON: unexpected data after the object")
	}
	return nil
}
