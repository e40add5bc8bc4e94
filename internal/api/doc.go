// Package api holds the request and response types of PiCloud's REST API,
// the JSON the manager writes and the client reads. Both sides use these
// types, so a field cannot be renamed on one side alone.
//
// Field names are snake_case. Times are RFC 3339 in UTC to the second: the
// manager truncates them before it answers, so that a time.Time encodes
// as the server has always written it. The package is a leaf: it imports
// only the standard library, and the store's records never go out as they
// are, so a hash or an internal field cannot leak by accident.
package api

// Error is the body of every error response: {"error": {...}}.
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// ErrorBody wraps an Error as the server writes it.
type ErrorBody struct {
	Error *Error `json:"error"`
}
