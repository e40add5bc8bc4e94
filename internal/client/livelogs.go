package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Replay runs the request recorded with an invocation (or with the latest
// attempt of a job) again and returns both responses. The run is real:
// the script's side effects happen again.
func (c *Client) Replay(ctx context.Context, id string, opts ReplayOptions) (*Replay, error) {
	var r Replay
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/logs/"+seg(id)+"/replay", nil, opts, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// LogEvent is one message of a live log stream. ID is the point to resume
// from (Last-Event-ID), "" until the server gave one; Invocation is nil
// for a message without a record (the first, which opens the stream).
type LogEvent struct {
	ID         string
	Invocation *Invocation
}

// ErrStreamEnded: the server ended a live log stream (it is shutting
// down, say); a client that wants more reconnects.
var ErrStreamEnded = errors.New("client: the server ended the stream")

// maxEventBytes bounds one line of a stream.
const maxEventBytes = 1 << 20

// StreamLogs follows an app's new invocation records (f.Status,
// f.HTTPStatus and f.Script filter them; f.Limit is ignored), calling fn for each message,
// from after the record lastEventID when it is set. It returns when ctx
// ends (ctx's error), when fn fails (its error), or when the stream does:
// an *Error if the server refused it, a *NetworkError if the connection
// failed or broke, ErrStreamEnded if the server closed it.
func (c *Client) StreamLogs(ctx context.Context, slug string, f LogFilter, lastEventID string, fn func(LogEvent) error) error {
	q := url.Values{}
	if f.Script != "" {
		q.Set("script", f.Script)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.HTTPStatus != "" {
		q.Set("http_status", f.HTTPStatus)
	}
	path := "/api/v1/apps/" + seg(slug) + "/logs/stream"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path, q), nil)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	// A stream lasts as long as it is followed: no overall timeout.
	hc := *c.httpClient()
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &NetworkError{Server: c.BaseURL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return errorFromResponse(resp.StatusCode, b)
	}
	err = readEvents(resp.Body, fn)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err == nil:
		return ErrStreamEnded
	}
	var ce callbackError
	if errors.As(err, &ce) {
		return ce.err
	}
	return &NetworkError{Server: c.BaseURL, Err: err}
}

// callbackError is the error of the callback, told from a read error.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// readEvents parses server-sent events (the fields id, event and data;
// comments and other fields are skipped) and hands every message but a
// comment to fn: the server's first one says that the stream is open. It
// returns nil at the end of r.
func readEvents(r io.Reader, fn func(LogEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	var (
		id, event string
		data      []string
		fields    bool // the message has a field
	)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if fields {
				ev := LogEvent{ID: id}
				if event == "invocation" && len(data) > 0 {
					var inv Invocation
					if err := json.Unmarshal([]byte(strings.Join(data, "\n")), &inv); err != nil {
						return fmt.Errorf("a stream event is not a record: %w", err)
					}
					ev.Invocation = &inv
				}
				if err := fn(ev); err != nil {
					return callbackError{err}
				}
			}
			event, data, fields = "", nil, false
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment: keep-alive
		}
		fields = true
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "id":
			id = value
		case "event":
			event = value
		case "data":
			data = append(data, value)
		}
	}
	return sc.Err()
}
