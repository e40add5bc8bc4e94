// Package client is a Go client for PiCloud's control-plane REST API
// (/api/v1, documented in docs/api.md) and for calling scripts on the data
// plane. The pic CLI and the tests share it.
//
// Every method returns an *Error when the server answers with a status
// other than 2xx, carrying the status, the API's stable error code and its
// message.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/picloud/picloud/internal/api"
)

// Client talks to one PiCloud server.
type Client struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:8080".
	BaseURL string
	// Token is the bearer token (a session token or an API key) sent with
	// control-plane requests; empty sends none. It is never sent to the
	// data plane, where scripts could read it.
	Token string
	// HTTP is the client used for requests (default http.DefaultClient).
	HTTP *http.Client
	// UserAgent is sent with every request when set.
	UserAgent string
}

// New returns a Client for the server at baseURL using token.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token}
}

// Error is a response with a status other than 2xx.
type Error struct {
	Status  int            // the HTTP status code
	Code    string         // the API's stable error code, e.g. "not_found"; empty when the body was not an API error
	Message string         // the server's message, or the status text
	Details map[string]any // optional details, e.g. line and column of a compile error
}

func (e *Error) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// StatusOf returns the HTTP status of err when it is (or wraps) an *Error,
// and 0 otherwise.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// errorFromResponse builds an *Error from a non-2xx response, taking the
// message from an API error body ({"error": {"code", "message"}}) when
// there is one.
func errorFromResponse(status int, body []byte) *Error {
	e := &Error{Status: status}
	var env api.ErrorBody
	if json.Unmarshal(body, &env) == nil && env.Error != nil && env.Error.Message != "" {
		e.Code, e.Message, e.Details = env.Error.Code, env.Error.Message, env.Error.Details
		return e
	}
	// A short line of text (from a proxy, say) says more than the status;
	// JSON that is not an API error does not.
	if text := strings.TrimSpace(string(body)); text != "" && len(text) <= 200 && !strings.ContainsAny(text, "\n\r") && !json.Valid(body) {
		e.Message = text
	} else {
		e.Message = http.StatusText(status)
	}
	if e.Message == "" {
		e.Message = "unexpected status"
	}
	return e
}

// url joins the base URL, an already escaped path and a query.
func (c *Client) url(path string, query url.Values) string {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// do sends a control-plane request. in, when not nil, is sent as JSON (or
// as is when it is a rawBody); out, when not nil, receives the decoded
// JSON response. It returns the response status.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) (int, error) {
	var body io.Reader
	contentType := ""
	switch v := in.(type) {
	case nil:
	case rawBody:
		body, contentType = strings.NewReader(v.data), v.contentType
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("client: unable to encode the request: %w", err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, query), body)
	if err != nil {
		return 0, fmt.Errorf("client: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return 0, &NetworkError{Server: c.BaseURL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return resp.StatusCode, errorFromResponse(resp.StatusCode, b)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("client: %s %s: unable to decode the response: %w", method, path, err)
	}
	return resp.StatusCode, nil
}

// NetworkError is a request that got no response: the server is down,
// unreachable, or the connection broke.
type NetworkError struct {
	Server string
	Err    error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("cannot reach the server at %s: %v", e.Server, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// method and the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// rawBody is a request body sent as is.
type rawBody struct {
	data        string
	contentType string
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }
