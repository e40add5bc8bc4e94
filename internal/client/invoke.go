package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// InvocationHeader is the data-plane response header naming the
// invocation's log record.
const InvocationHeader = "X-Picloud-Invocation"

// AsyncHeader asks the data plane to queue a request rather than run it
// at once, as ?async=1 does.
const AsyncHeader = "X-Picloud-Async"

// InvokeRequest calls a script on the data plane.
type InvokeRequest struct {
	App, Script string
	Method      string      // default GET
	Path        string      // the rest of the path after /fn/{app}/{script}: "" or starting with "/"
	Query       url.Values  // sent as the query string
	Header      http.Header // sent as they are
	Body        io.Reader   // nil for none
	// Async queues the request (with the X-Picloud-Async header): the
	// server stores it, answers 202 with its invocation id (see
	// InvokeResponse.Queued) and runs it later.
	Async bool
}

// InvokeResponse is the script's response, whatever its status.
type InvokeResponse struct {
	Status       int
	Header       http.Header
	Body         []byte
	InvocationID string // from the X-Picloud-Invocation header; empty when absent
}

// OK reports whether the status is 2xx.
func (r *InvokeResponse) OK() bool { return r.Status >= 200 && r.Status <= 299 }

// Err returns nil for a 2xx response and an *Error otherwise. Its message
// is the API error's when the server answered for the script (404, 500…),
// else the script's own when its JSON body carries one as {"error": "…"}
// (what a script writes for a refusal: response(422, #{error: "…"})),
// else the status text.
func (r *InvokeResponse) Err() error {
	if r.OK() {
		return nil
	}
	e := errorFromResponse(r.Status, r.Body)
	if e.Code == "" {
		if msg := scriptErrorMessage(r.Body); msg != "" {
			e.Message = msg
		}
	}
	return e
}

// maxScriptErrorMessage bounds the script's message quoted in an error.
const maxScriptErrorMessage = 500

// scriptErrorMessage returns the message of a script's JSON error body,
// {"error": "…"}, on one line, or "" when the body is not one.
func scriptErrorMessage(body []byte) string {
	var v struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	msg := strings.Join(strings.Fields(v.Error), " ")
	if len(msg) > maxScriptErrorMessage {
		msg = strings.ToValidUTF8(msg[:maxScriptErrorMessage], "") + "…"
	}
	return msg
}

// Queued returns the answer to an async request: the id of the queued
// invocation. A response other than 202 is an error: an *Error for a
// non-2xx status.
func (r *InvokeResponse) Queued() (*Queued, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	if r.Status != http.StatusAccepted {
		return nil, fmt.Errorf("client: the server ran the request instead of queueing it (HTTP %d)", r.Status)
	}
	var q Queued
	if err := json.Unmarshal(r.Body, &q); err != nil {
		return nil, fmt.Errorf("client: unable to decode the answer to an async request: %w", err)
	}
	if q.InvocationID == "" {
		q.InvocationID = r.InvocationID
	}
	if q.InvocationID == "" {
		return nil, fmt.Errorf("client: the answer to an async request has no invocation id")
	}
	return &q, nil
}

// Invoke calls a script on the public data plane and returns its response;
// a non-2xx status is not an error here (see InvokeResponse.Err). The
// client's token is never sent: the script would see it in its headers.
func (c *Client) Invoke(ctx context.Context, in InvokeRequest) (*InvokeResponse, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("client: invalid server URL %q: %w", c.BaseURL, err)
	}
	rest := in.Path
	if rest != "" && !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/fn/" + in.App + "/" + in.Script + rest
	u.RawPath = ""
	u.RawQuery = in.Query.Encode()
	method := in.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), in.Body)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	for k, vs := range in.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if in.Async {
		req.Header.Set(AsyncHeader, "1")
	}
	if host := in.Header.Get("Host"); host != "" {
		req.Host = host
	}
	if c.UserAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &NetworkError{Server: c.BaseURL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("client: reading the response of %s %s: %w", method, u.Path, err)
	}
	return &InvokeResponse{Status: resp.StatusCode, Header: resp.Header, Body: body, InvocationID: resp.Header.Get(InvocationHeader)}, nil
}
