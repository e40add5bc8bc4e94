package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/api"
)

// KVFilter selects keys: those that start with Prefix, after After, at
// most Limit (0: the server's default of 100; at most 1000).
type KVFilter struct {
	Prefix string
	After  string
	Limit  int
}

// kvPath is the path of a key. Every character that could change the
// path's meaning is escaped, slashes and dots included, so that a key
// such as "a/../b" reaches the server as it is.
func kvPath(slug, key string) string {
	return "/api/v1/apps/" + seg(slug) + "/kv/" + strings.ReplaceAll(url.PathEscape(key), ".", "%2E")
}

// ListKV lists the keys of an app that have not expired, in byte order.
func (c *Client) ListKV(ctx context.Context, slug string, f KVFilter) ([]KVEntry, error) {
	q := url.Values{}
	if f.Prefix != "" {
		q.Set("prefix", f.Prefix)
	}
	if f.After != "" {
		q.Set("after", f.After)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	list := []KVEntry{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/kv", q, nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// GetKV reads a key with its value; 404 when it is absent or expired.
func (c *Client) GetKV(ctx context.Context, slug, key string) (*KVEntry, error) {
	var e KVEntry
	if _, err := c.do(ctx, http.MethodGet, kvPath(slug, key), nil, nil, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// SetKV stores value, which must be JSON, under key; a positive ttl makes
// it expire (rounded up to the second), zero keeps it until it is
// deleted. The answer has no Value.
func (c *Client) SetKV(ctx context.Context, slug, key string, value json.RawMessage, ttl time.Duration) (*KVEntry, error) {
	in := api.PutKVRequest{Value: value}
	if ttl > 0 {
		secs := int64((ttl + time.Second - 1) / time.Second)
		in.TTLSeconds = &secs
	}
	var e KVEntry
	if _, err := c.do(ctx, http.MethodPut, kvPath(slug, key), nil, in, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// DeleteKV removes a key; 404 when there was none.
func (c *Client) DeleteKV(ctx context.Context, slug, key string) error {
	_, err := c.do(ctx, http.MethodDelete, kvPath(slug, key), nil, nil, nil)
	return err
}
