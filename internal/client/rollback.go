package client

import (
	"context"
	"net/http"

	"github.com/picloud/picloud/internal/api"
)

// Rollback makes an earlier version of a script live again, as the
// script's next version.
func (c *Client) Rollback(ctx context.Context, slug, name string, version int) (*RolledBack, error) {
	var rb RolledBack
	in := api.RollbackRequest{Version: version}
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/apps/"+seg(slug)+"/scripts/"+seg(name)+"/rollback", nil, in, &rb); err != nil {
		return nil, err
	}
	return &rb, nil
}
