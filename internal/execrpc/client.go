package execrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/picloud/picloud/internal/executor"
)

// Client timings.
const (
	// DialTimeout bounds connecting to the executor: it is on the same
	// machine, so a slow connection means a dead or stuck one.
	DialTimeout = time.Second
	// RunMargin is added to a run's time limit for the whole call: the
	// executor stops the script at the limit itself, so a call that
	// outlasts it has lost its executor.
	RunMargin = 5 * time.Second
	// HealthTimeout bounds a health check.
	HealthTimeout = time.Second
)

// maxSent bounds the versions the client remembers having sent; past it
// the memory is cleared and sources are sent once more.
const maxSent = 10_000

// Client calls one executor. It is safe for concurrent use; connections
// are kept alive and re-established as needed, so a restarted executor is
// reconnected to without help.
type Client struct {
	base   string // http://host:port, or http://executor for a unix socket
	hc     *http.Client
	margin time.Duration // RunMargin; tests shorten it

	mu   sync.Mutex
	sent map[astKey]struct{} // versions whose source the executor accepted
}

// NewClient returns a client of the executor at target: "unix:/path/to.sock"
// (or unix:///path), or an http:// URL of a loopback address.
func NewClient(target string) (*Client, error) {
	dialer := &net.Dialer{Timeout: DialTimeout}
	tr := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		// No proxy: the executor is local.
		Proxy: nil,
	}
	c := &Client{hc: &http.Client{Transport: tr}, margin: RunMargin, sent: map[astKey]struct{}{}}
	switch {
	case strings.HasPrefix(target, "unix:"):
		path := strings.TrimPrefix(strings.TrimPrefix(target, "unix:"), "//")
		if path == "" {
			return nil, fmt.Errorf("execrpc: %q names no socket", target)
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		}
		c.base = "http://executor"
	case strings.HasPrefix(target, "http://"):
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("execrpc: %q is not an executor address", target)
		}
		c.base = strings.TrimSuffix(target, "/")
	default:
		return nil, fmt.Errorf("execrpc: %q is not an executor address (unix:/path or http://host:port)", target)
	}
	return c, nil
}

// Close closes the idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Run runs version s against ev under lim on the executor. The error, when
// the executor could not be reached or did not answer in time, wraps
// ErrUnavailable, or is ctx's when ctx ended first; the result of a run
// that failed in the script is not an error.
func (c *Client) Run(ctx context.Context, s Script, ev executor.Event, lim executor.Limits) (executor.Result, error) {
	req := runRequest{Script: refOf(s), Event: ev, Limits: lim}
	key := req.Script.key()
	c.mu.Lock()
	_, known := c.sent[key]
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout+c.margin)
	defer cancel()
	if !known {
		req.Script.withSources(s)
	}
	res, err := c.call(ctx, req)
	if err == errUnknownScript {
		c.forget(key)
		req.Script.withSources(s)
		res, err = c.call(ctx, req)
	}
	if err != nil {
		return executor.Result{}, err
	}
	if req.Script.Source != nil {
		c.remember(key)
	}
	return res, nil
}

var errUnknownScript = fmt.Errorf("execrpc: %s", codeUnknownScript)

func (c *Client) call(ctx context.Context, req runRequest) (executor.Result, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return executor.Result{}, fmt.Errorf("execrpc: unable to encode a run: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+RunPath, bytes.NewReader(body))
	if err != nil {
		return executor.Result{}, fmt.Errorf("execrpc: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return executor.Result{}, c.unavailable(ctx, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&e) == nil && e.Error.Code == codeUnknownScript {
			return executor.Result{}, errUnknownScript
		}
		fallthrough
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return executor.Result{}, fmt.Errorf("%w: HTTP %d: %s", ErrUnavailable, resp.StatusCode, bytes.TrimSpace(msg))
	}
	var w runResult
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
		return executor.Result{}, c.unavailable(ctx, err)
	}
	return w.result(), nil
}

// unavailable wraps a transport error: ctx's own end when it came first
// (the caller went away), else ErrUnavailable.
func (c *Client) unavailable(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("execrpc: the run was cancelled: %w", ctx.Err())
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func (c *Client) remember(k astKey) {
	c.mu.Lock()
	if len(c.sent) >= maxSent {
		clear(c.sent)
	}
	c.sent[k] = struct{}{}
	c.mu.Unlock()
}

func (c *Client) forget(k astKey) {
	c.mu.Lock()
	delete(c.sent, k)
	c.mu.Unlock()
}

// Health checks that the executor answers, within HealthTimeout.
func (c *Client) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, HealthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+HealthPath, nil)
	if err != nil {
		return fmt.Errorf("execrpc: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: health check: HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	return nil
}
