package client

import (
	"context"
	"net/http"
	"strconv"

	"github.com/picloud/picloud/internal/api"
)

// The shapes of project deploys and releases (package api's).
type (
	ProjectDeploy   = api.ProjectDeploy
	ProjectScript   = api.ProjectScript
	Change          = api.Change
	DeployResult    = api.DeployResult
	Release         = api.Release
	ReleaseScript   = api.ReleaseScript
	ReleaseRollback = api.ReleaseRollback
)

// DeployProject sends an app's whole desired state: the server answers the
// plan and, unless in.DryRun, applies it in one transaction as a release
// (nil in the result when nothing changed).
func (c *Client) DeployProject(ctx context.Context, slug string, in api.ProjectDeploy) (*api.DeployResult, error) {
	var out api.DeployResult
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/apps/"+seg(slug)+"/deploy", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListReleases lists an app's releases, newest first.
func (c *Client) ListReleases(ctx context.Context, slug string) ([]api.Release, error) {
	list := []api.Release{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/releases", nil, nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// GetRelease returns one release of an app.
func (c *Client) GetRelease(ctx context.Context, slug string, id int64) (*api.Release, error) {
	var out api.Release
	if _, err := c.do(ctx, http.MethodGet, releasePath(slug, id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RollbackRelease makes the script versions of release id live again, as a
// new release carrying message. When they are live already the server
// answers 409 with code nothing_to_change.
func (c *Client) RollbackRelease(ctx context.Context, slug string, id int64, message string) (*api.Release, error) {
	var out api.Release
	in := api.ReleaseRollback{Message: message}
	if _, err := c.do(ctx, http.MethodPost, releasePath(slug, id)+"/rollback", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func releasePath(slug string, id int64) string {
	return "/api/v1/apps/" + seg(slug) + "/releases/" + strconv.FormatInt(id, 10)
}

// PromoteRelease ends the gradual rollout of release id at once: it
// serves all the traffic. 409 not_canary when it is not rolling out.
func (c *Client) PromoteRelease(ctx context.Context, slug string, id int64) (*api.Release, error) {
	return c.endCanary(ctx, slug, id, "promote")
}

// AbortRelease sends the gradual rollout of release id back: the
// previous release's versions serve all the traffic again. 409
// not_canary when it is not rolling out.
func (c *Client) AbortRelease(ctx context.Context, slug string, id int64) (*api.Release, error) {
	return c.endCanary(ctx, slug, id, "abort")
}

func (c *Client) endCanary(ctx context.Context, slug string, id int64, verb string) (*api.Release, error) {
	var out api.Release
	if _, err := c.do(ctx, http.MethodPost, releasePath(slug, id)+"/"+verb, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
