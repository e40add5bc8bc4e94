package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/picloud/picloud/internal/api"
)

// AuditEntry is one entry of the audit log.
type AuditEntry = api.AuditEntry

// AuditFilter selects audit entries; zero fields select everything (and
// the server's default limit). Since is RFC 3339 or a duration back from
// now ("24h"), as the server reads it.
type AuditFilter struct {
	App   string
	Actor string
	Since string
	Limit int
}

func (f AuditFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"app": f.App, "actor": f.Actor, "since": f.Since} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// ListAudit lists the audit log, newest first: all of it for an
// administrator, an app's entries (f.App) for its editors.
func (c *Client) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	list := []AuditEntry{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/audit", f.query(), nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}
