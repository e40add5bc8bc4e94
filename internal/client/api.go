package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/picloud/picloud/internal/api"
)

// Sessions and identity.

// Login exchanges a user name and password for a session. The client's
// token is not changed.
func (c *Client) Login(ctx context.Context, username, password string) (*Session, error) {
	var s Session
	in := api.LoginRequest{Username: username, Password: password}
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/auth/login", nil, in, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Logout ends the session of the client's token server-side. With an API
// key the server answers 400: revoke keys with DeleteAPIKey.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodPost, "/api/v1/auth/logout", nil, nil, nil)
	return err
}

// Whoami returns the user the client's token acts as.
func (c *Client) Whoami(ctx context.Context) (*Identity, error) {
	var id Identity
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/whoami", nil, nil, &id); err != nil {
		return nil, err
	}
	return &id, nil
}

// Users (administrators).

// ListUsers lists every user, by name.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	users := []User{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/users", nil, nil, &users); err != nil {
		return nil, err
	}
	return users, nil
}

// CreateUser creates a user with a role ("admin" or "member"; empty means
// member). An empty password makes the server generate one, returned in
// NewUser.Password.
func (c *Client) CreateUser(ctx context.Context, username, password, role string) (*NewUser, error) {
	in := api.CreateUserRequest{Username: username, Password: password, Role: role}
	var u NewUser
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/users", nil, in, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUser returns a user.
func (c *Client) GetUser(ctx context.Context, username string) (*User, error) {
	var u User
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/users/"+seg(username), nil, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteUser deletes a user with their sessions, API keys and memberships.
func (c *Client) DeleteUser(ctx context.Context, username string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/users/"+seg(username), nil, nil, nil)
	return err
}

// SetPassword sets a user's password; current is required when users
// change their own.
func (c *Client) SetPassword(ctx context.Context, username, password, current string) error {
	in := api.SetPasswordRequest{Password: password, CurrentPassword: current}
	_, err := c.do(ctx, http.MethodPut, "/api/v1/users/"+seg(username)+"/password", nil, in, nil)
	return err
}

// API keys (the caller's own).

// ListAPIKeys lists the caller's API keys, oldest first.
func (c *Client) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	keys := []APIKey{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/api-keys", nil, nil, &keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// CreateAPIKey creates an API key; its raw token is in the answer only.
// The server wants the caller's password unless the client signed in less
// than 10 minutes ago (error code CodePasswordRequired); "" sends none.
func (c *Client) CreateAPIKey(ctx context.Context, name, password string) (*NewAPIKey, error) {
	var k NewAPIKey
	body := api.CreateAPIKeyRequest{Name: name, Password: password}
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/api-keys", nil, body, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// DeleteAPIKey revokes one of the caller's API keys at once.
func (c *Client) DeleteAPIKey(ctx context.Context, id int64) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/api-keys/"+strconv.FormatInt(id, 10), nil, nil, nil)
	return err
}

// Apps.

// ListApps lists the apps the caller can see, by slug.
func (c *Client) ListApps(ctx context.Context) ([]App, error) {
	apps := []App{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps", nil, nil, &apps); err != nil {
		return nil, err
	}
	return apps, nil
}

// CreateApp creates an app.
func (c *Client) CreateApp(ctx context.Context, in NewApp) (*App, error) {
	var a App
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/apps", nil, in, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// GetApp returns an app.
func (c *Client) GetApp(ctx context.Context, slug string) (*App, error) {
	var a App
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug), nil, nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// UpdateApp changes an app's name, description or limits.
func (c *Client) UpdateApp(ctx context.Context, slug string, in AppUpdate) (*App, error) {
	var a App
	if _, err := c.do(ctx, http.MethodPatch, "/api/v1/apps/"+seg(slug), nil, in, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteApp deletes an app; one that still has scripts needs force.
func (c *Client) DeleteApp(ctx context.Context, slug string, force bool) error {
	var q url.Values
	if force {
		q = url.Values{"force": {"true"}}
	}
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/apps/"+seg(slug), q, nil, nil)
	return err
}

// Members.

// ListMembers lists an app's members, by user name.
func (c *Client) ListMembers(ctx context.Context, slug string) ([]Member, error) {
	members := []Member{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/members", nil, nil, &members); err != nil {
		return nil, err
	}
	return members, nil
}

// PutMember adds a member to an app or changes their role. added tells
// which (201 or 200).
func (c *Client) PutMember(ctx context.Context, slug, username, role string) (m *Member, added bool, err error) {
	var mem Member
	status, err := c.do(ctx, http.MethodPut, "/api/v1/apps/"+seg(slug)+"/members/"+seg(username), nil, api.PutMemberRequest{Role: role}, &mem)
	if err != nil {
		return nil, false, err
	}
	return &mem, status == http.StatusCreated, nil
}

// DeleteMember removes a member from an app.
func (c *Client) DeleteMember(ctx context.Context, slug, username string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/apps/"+seg(slug)+"/members/"+seg(username), nil, nil, nil)
	return err
}

// Scripts.

// ListAllScripts lists the scripts of every app the caller can see, in one
// call, by app and name.
func (c *Client) ListAllScripts(ctx context.Context) ([]Script, error) {
	scripts := []Script{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/scripts", nil, nil, &scripts); err != nil {
		return nil, err
	}
	return scripts, nil
}

// ListScripts lists an app's scripts, by name.
func (c *Client) ListScripts(ctx context.Context, slug string) ([]Script, error) {
	scripts := []Script{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/scripts", nil, nil, &scripts); err != nil {
		return nil, err
	}
	return scripts, nil
}

// Deploy stores source as the next version of a script and makes it live,
// creating the script on its first deploy. The server chooses the
// visibility of a new script (private for a module); an existing one keeps
// its own.
func (c *Client) Deploy(ctx context.Context, slug, name, source string) (*Deployed, error) {
	return c.DeployAs(ctx, slug, name, source, "")
}

// DeployAs is Deploy that sets the script's visibility: VisibilityPublic,
// VisibilityPrivate, or "" to leave it to the server.
func (c *Client) DeployAs(ctx context.Context, slug, name, source, visibility string) (*Deployed, error) {
	var d Deployed
	body := rawBody{data: source, contentType: "text/plain; charset=utf-8"}
	var q url.Values
	if visibility != "" {
		q = url.Values{"visibility": {visibility}}
	}
	status, err := c.do(ctx, http.MethodPut, "/api/v1/apps/"+seg(slug)+"/scripts/"+seg(name), q, body, &d)
	if err != nil {
		return nil, err
	}
	d.Created = status == http.StatusCreated
	return &d, nil
}

// GetScript returns a script with its live source.
func (c *Client) GetScript(ctx context.Context, slug, name string) (*ScriptSource, error) {
	var s ScriptSource
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/scripts/"+seg(name), nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteScript deletes a script and all its versions.
func (c *Client) DeleteScript(ctx context.Context, slug, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/apps/"+seg(slug)+"/scripts/"+seg(name), nil, nil, nil)
	return err
}

// ListVersions lists a script's versions, oldest first.
func (c *Client) ListVersions(ctx context.Context, slug, name string) ([]Version, error) {
	versions := []Version{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/scripts/"+seg(name)+"/versions", nil, nil, &versions); err != nil {
		return nil, err
	}
	return versions, nil
}

// GetVersion returns one version of a script with its source.
func (c *Client) GetVersion(ctx context.Context, slug, name string, version int) (*Version, error) {
	var v Version
	path := "/api/v1/apps/" + seg(slug) + "/scripts/" + seg(name) + "/versions/" + strconv.Itoa(version)
	if _, err := c.do(ctx, http.MethodGet, path, nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Invocation logs.

// SetMaxAttempts sets how many attempts a job of the script gets (1 to
// 10; 0 restores the default).
func (c *Client) SetMaxAttempts(ctx context.Context, slug, name string, n int) (*Script, error) {
	var s Script
	in := api.ScriptUpdate{MaxAttempts: &n}
	if _, err := c.do(ctx, http.MethodPatch, "/api/v1/apps/"+seg(slug)+"/scripts/"+seg(name), nil, in, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Invocation logs and jobs.

func (f LogFilter) query() url.Values {
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
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// ListLogs lists an app's invocation records, newest first. For jobs
// (the statuses queued, running and dead) use ListJobs.
func (c *Client) ListLogs(ctx context.Context, slug string, f LogFilter) ([]Invocation, error) {
	logs := []Invocation{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/logs", f.query(), nil, &logs); err != nil {
		return nil, err
	}
	return logs, nil
}

// ListJobs lists an app's jobs in the state f.Status ("queued",
// "running" or "dead"), newest first.
func (c *Client) ListJobs(ctx context.Context, slug string, f LogFilter) ([]Job, error) {
	jobs := []Job{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/logs", f.query(), nil, &jobs); err != nil {
		return nil, err
	}
	return jobs, nil
}

// GetLog returns what a log id names: an invocation record with its
// captured output, or a job with the records of its attempts.
func (c *Client) GetLog(ctx context.Context, id string) (*LogEntry, error) {
	var e LogEntry
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/logs/"+seg(id), nil, nil, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// RetryJob re-queues a dead job, named by its id or that of one of its
// attempts, with its attempts reset; it returns the job.
func (c *Client) RetryJob(ctx context.Context, id string) (*Job, error) {
	var j Job
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/logs/"+seg(id)+"/retry", nil, nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Schedules.

// ListAllSchedules lists the schedules of every app the caller can see,
// in one call, by id.
func (c *Client) ListAllSchedules(ctx context.Context) ([]Schedule, error) {
	list := []Schedule{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/schedules", nil, nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// ListSchedules lists an app's schedules, by id.
func (c *Client) ListSchedules(ctx context.Context, slug string) ([]Schedule, error) {
	list := []Schedule{}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+seg(slug)+"/schedules", nil, nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// CreateSchedule binds a script of an app to a cron expression.
func (c *Client) CreateSchedule(ctx context.Context, slug string, in NewSchedule) (*Schedule, error) {
	var s Schedule
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/apps/"+seg(slug)+"/schedules", nil, in, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// GetSchedule returns a schedule.
func (c *Client) GetSchedule(ctx context.Context, id int64) (*Schedule, error) {
	var s Schedule
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/schedules/"+strconv.FormatInt(id, 10), nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// UpdateSchedule changes a schedule: its expression, zone or payload, or
// Enabled to pause (false) or resume (true) it.
func (c *Client) UpdateSchedule(ctx context.Context, id int64, in ScheduleUpdate) (*Schedule, error) {
	var s Schedule
	if _, err := c.do(ctx, http.MethodPatch, "/api/v1/schedules/"+strconv.FormatInt(id, 10), nil, in, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteSchedule deletes a schedule; the jobs it fired stay.
func (c *Client) DeleteSchedule(ctx context.Context, id int64) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/schedules/"+strconv.FormatInt(id, 10), nil, nil, nil)
	return err
}

// CodePasswordRequired is the error code of a request that needs the
// caller's password again (creating an API key without a fresh sign-in).
const CodePasswordRequired = "password_required"
