package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/client"
)

// canaryFlags are the flags of a gradual rollout of pic deploy.
type canaryFlags struct {
	percent     string
	window      string
	minRequests string
}

// define adds --canary, --window and --min-requests to f.
func (cf *canaryFlags) define(f *flags) {
	f.stringVar(&cf.percent, "canary", "PERCENT", "roll the release out to PERCENT (1-99) of each changed script's traffic first")
	f.stringVar(&cf.window, "window", "DURATION", "with --canary: how long before it is promoted (default 10m)")
	f.stringVar(&cf.minRequests, "min-requests", "N", "with --canary: the canary requests a rollback needs at least (default 100)")
}

// plan checks the flags: nil without --canary.
func (cf *canaryFlags) plan(c *command) (*api.CanaryPlan, error) {
	if cf.percent == "" {
		if cf.window != "" || cf.minRequests != "" {
			return nil, usagef(c, "--window and --min-requests go with --canary")
		}
		return nil, nil
	}
	p := &api.CanaryPlan{}
	var err error
	if p.Percent, err = strconv.Atoi(cf.percent); err != nil || p.Percent < 1 || p.Percent > 99 {
		return nil, usagef(c, "--canary takes a percentage from 1 to 99, not %q", cf.percent)
	}
	if cf.window != "" {
		d, err := time.ParseDuration(cf.window)
		if err != nil || d < time.Second || d%time.Second != 0 {
			return nil, usagef(c, "--window takes a duration of whole seconds such as 90s, 10m or 1h, not %q", cf.window)
		}
		p.WindowSeconds = int64(d / time.Second)
	}
	if cf.minRequests != "" {
		if p.MinRequests, err = strconv.ParseInt(cf.minRequests, 10, 64); err != nil || p.MinRequests < 1 {
			return nil, usagef(c, "--min-requests takes a number from 1, not %q", cf.minRequests)
		}
	}
	return p, nil
}

// canaryDeploys is a projectAPI whose deploys roll out as plan says.
type canaryDeploys struct {
	projectAPI
	plan *api.CanaryPlan
}

// withCanary returns a, its deploys rolling out as plan says (a itself
// when plan is nil), whether checked first or not.
func withCanary(a projectAPI, plan *api.CanaryPlan) projectAPI {
	if plan == nil {
		return a
	}
	return canaryDeploys{projectAPI: a, plan: plan}
}

// DeployProject sends in with the canary plan.
func (c canaryDeploys) DeployProject(ctx context.Context, slug string, in api.ProjectDeploy) (*api.DeployResult, error) {
	in.Canary = c.plan
	return c.projectAPI.DeployProject(ctx, slug, in)
}

// canaryStarted says a canary deploy's release is rolling out.
func canaryStarted(app string, r *api.Release) string {
	cn := r.Canary
	return fmt.Sprintf("Release %d of app %s is rolling out to %d%% of the traffic of the scripts it changes until %s, "+
		"unless its errors roll it back ('pic releases promote|abort %s %d' ends it now)",
		r.ID, app, cn.Percent, timeCell(cn.EndsAt), app, r.ID)
}

// canaryTable is the rollout of a release: its plan, counts and outcome.
func canaryTable(cn *api.Canary) *table {
	t := newTable("CANARY", "PERCENT", "WINDOW", "BASE_RELEASE", "ENDS", "CANARY_REQUESTS", "CANARY_ERRORS",
		"BASE_REQUESTS", "BASE_ERRORS", "REASON")
	t.add(cn.State, intCell(cn.Percent), (time.Duration(cn.WindowSeconds) * time.Second).String(), intCell(cn.BaseRelease),
		timeCell(cn.EndsAt), intCell(cn.Candidate.Requests), intCell(cn.Candidate.Errors),
		intCell(cn.Base.Requests), intCell(cn.Base.Errors), orDash(cn.Reason))
	return t
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// canaryAPI is what promote and abort need of the client.
type canaryAPI interface {
	PromoteRelease(ctx context.Context, slug string, id int64) (*api.Release, error)
	AbortRelease(ctx context.Context, slug string, id int64) (*api.Release, error)
}

var _ canaryAPI = (*client.Client)(nil)

// canaryCmds are pic releases promote and abort.
func canaryCmds() []*command {
	return []*command{
		{name: "promote", args: "APP ID", short: "end a release's gradual rollout now: it serves all the traffic", run: leaf(parseReleaseRef, runReleasesPromote)},
		{name: "abort", args: "APP ID", short: "send a release rolling out back: the previous release serves all the traffic", run: leaf(parseReleaseRef, runReleasesAbort),
			long: `The previous release's sources become live again as a new release, as
an automatic rollback does; the release is marked aborted.`},
	}
}

func runReleasesPromote(p *pic, a canaryAPI, opts releaseRef) error {
	r, err := a.PromoteRelease(p.ctx, opts.App, opts.ID)
	if err != nil {
		return err
	}
	p.info("Promoted release %d of app %s: it serves all the traffic", r.ID, opts.App)
	return p.printRelease(r)
}

func runReleasesAbort(p *pic, a canaryAPI, opts releaseRef) error {
	r, err := a.AbortRelease(p.ctx, opts.App, opts.ID)
	if err != nil {
		return err
	}
	p.info("Aborted release %d of app %s: release %d serves all the traffic", r.ID, opts.App, r.Canary.BaseRelease)
	return p.printRelease(r)
}
