package client

import (
	"context"
	"net/http"

	"github.com/picloud/picloud/internal/api"
)

// ListSecrets lists an app's secrets by name, without values.
func (c *Client) ListSecrets(ctx context.Context, slug string) ([]Secret, error) {
	list := []Secret{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/secrets", nil, nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// SetSecret creates or replaces an app's secret; created tells which (201
// or 200).
func (c *Client) SetSecret(ctx context.Context, slug, name, value string) (s *Secret, created bool, err error) {
	var out Secret
	status, err := c.do(ctx, http.MethodPut, "/api/v1/apps/"+seg(slug)+"/secrets/"+seg(name), nil,
		api.PutSecretRequest{Value: &value}, &out)
	if err != nil {
		return nil, false, err
	}
	return &out, status == http.StatusCreated, nil
}

// DeleteSecret removes an app's secret.
func (c *Client) DeleteSecret(ctx context.Context, slug, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/apps/"+seg(slug)+"/secrets/"+seg(name), nil, nil, nil)
	return err
}
