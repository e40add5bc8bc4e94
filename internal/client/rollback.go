package client

import (
	"context"
	"net/http"
)

// RolledBack answers a rollback: the script and the version just made, a
// copy of the source of version RolledBackFrom.
type RolledBack struct {
	Script
	Version        int `json:"version"`
	RolledBackFrom int `json:"rolled_back_from"`
}

// Rollback makes an earlier version of a script live again, as the
// script's next version.
func (c *Client) Rollback(ctx context.Context, slug, name string, version int) (*RolledBack, error) {
	var rb RolledBack
	in := map[string]int{"version": version}
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/apps/"+seg(slug)+"/scripts/"+seg(name)+"/rollback", nil, in, &rb); err != nil {
		return nil, err
	}
	return &rb, nil
}
