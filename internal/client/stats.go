package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/picloud/picloud/internal/api"
)

// StatsFilter selects an app's roll-ups; zero fields take the server's
// defaults (every script, hourly, the last 24 hours).
type StatsFilter struct {
	Script   string
	Step     string // "minute" or "hour"
	From, To time.Time
}

func (f StatsFilter) query() url.Values {
	q := url.Values{}
	if f.Script != "" {
		q.Set("script", f.Script)
	}
	if f.Step != "" {
		q.Set("step", f.Step)
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.UTC().Format(time.RFC3339))
	}
	return q
}

// Stats returns an app's invocations rolled up per step.
func (c *Client) Stats(ctx context.Context, slug string, f StatsFilter) (*api.Stats, error) {
	var out api.Stats
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/stats", f.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
