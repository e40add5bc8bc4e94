package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/client"
)

// releasesAPI is what the releases commands need of the client.
type releasesAPI interface {
	ListReleases(ctx context.Context, slug string) ([]api.Release, error)
	GetRelease(ctx context.Context, slug string, id int64) (*api.Release, error)
	RollbackRelease(ctx context.Context, slug string, id int64, message string) (*api.Release, error)
}

var _ releasesAPI = (*client.Client)(nil)

func releasesCmd() *command {
	return &command{
		name:  "releases",
		short: "list an app's releases (its project deploys), roll one back, promote or abort a rollout",
		subs: append([]*command{
			{name: "ls", aliases: []string{"list"}, args: "APP", short: "list an app's releases, newest first", run: leaf(parseOneArg, runReleasesList)},
			{name: "show", args: "APP ID", short: "show a release: what it changed and the script versions it made live", run: leaf(parseReleaseRef, runReleasesShow)},
			{name: "rollback", args: "APP ID [-m MESSAGE]", short: "make a release's script versions live again, as a new release", run: leaf(parseReleasesRollback, runReleasesRollback),
				long: `Every script version of release ID becomes live again at once, in one
transaction, as a new release (the history stays linear: rolling back
from release 5 to 2 makes release 6), printed on stdout as a line of
'pic releases ls'.`},
		}, canaryCmds()...),
	}
}

// releasesTable is the table of releases: ID CREATED CREATED_BY
// ROLLED_BACK_FROM SCRIPTS STATE MESSAGE.
func releasesTable(list ...api.Release) *table {
	t := newTable("ID", "CREATED", "CREATED_BY", "ROLLED_BACK_FROM", "SCRIPTS", "STATE", "MESSAGE")
	for _, r := range list {
		by := "-"
		if r.CreatedBy != nil {
			by = *r.CreatedBy
		}
		from := "-"
		if r.RolledBackFrom != 0 {
			from = intCell(r.RolledBackFrom)
		}
		t.add(intCell(r.ID), timeCell(r.CreatedAt), by, from, intCell(len(r.Scripts)), orDash(r.State), r.Message)
	}
	return t
}

func runReleasesList(p *pic, a releasesAPI, opts oneArg) error {
	list, err := a.ListReleases(p.ctx, opts.Arg)
	if err != nil {
		return err
	}
	return p.print(list, releasesTable(list...))
}

type releaseRef struct {
	App     string
	ID      int64
	Message string
}

// parseReleaseRef parses "APP ID".
func parseReleaseRef(p *pic, c *command, args []string) (releaseRef, error) {
	pos, err := p.parse(c, newFlags(c), args, 2, 2)
	if err != nil {
		return releaseRef{}, err
	}
	return releaseArgs(c, pos)
}

func releaseArgs(c *command, pos []string) (releaseRef, error) {
	id, err := strconv.ParseInt(pos[1], 10, 64)
	if err != nil || id < 1 {
		return releaseRef{}, usagef(c, "the release ID must be a number from 1, not %q", pos[1])
	}
	return releaseRef{App: pos[0], ID: id}, nil
}

// printRelease prints one release: its line of releasesTable, then its
// rollout (canaryTable) when it had one, what it changed (ACTION KIND
// NAME DETAIL) and its scripts (SCRIPT VERSION), each table after a
// blank line, then the report of its deploy's check when it ran one; or
// the release as JSON.
func (p *pic) printRelease(r *api.Release) error {
	if p.isJSON() {
		return writeJSON(p.io.Out, r)
	}
	if err := writeTable(p.io.Out, releasesTable(*r)); err != nil {
		return err
	}
	scripts := newTable("SCRIPT", "VERSION")
	for _, s := range r.Scripts {
		scripts.add(s.Name, intCell(s.Version))
	}
	tables := []*table{planTable(r.Changes), scripts}
	if r.Canary != nil {
		tables = append([]*table{canaryTable(r.Canary)}, tables...)
	}
	for _, t := range tables {
		if len(t.rows) == 0 {
			continue
		}
		if _, err := fmt.Fprintln(p.io.Out); err != nil {
			return err
		}
		if err := writeTable(p.io.Out, t); err != nil {
			return err
		}
	}
	return printCheck(p.io.Out, r.Check)
}

func runReleasesShow(p *pic, a releasesAPI, opts releaseRef) error {
	r, err := a.GetRelease(p.ctx, opts.App, opts.ID)
	if err != nil {
		return err
	}
	return p.printRelease(r)
}

func parseReleasesRollback(p *pic, c *command, args []string) (releaseRef, error) {
	var message string
	f := newFlags(c)
	f.stringVar(&message, "m,message", "MESSAGE", "the new release's message")
	pos, err := p.parse(c, f, args, 2, 2)
	if err != nil {
		return releaseRef{}, err
	}
	ref, err := releaseArgs(c, pos)
	ref.Message = message
	return ref, err
}

func runReleasesRollback(p *pic, a releasesAPI, opts releaseRef) error {
	r, err := a.RollbackRelease(p.ctx, opts.App, opts.ID, opts.Message)
	if err != nil {
		return err
	}
	p.info("Rolled app %s back to release %d: release %d is live", opts.App, opts.ID, r.ID)
	if p.isJSON() {
		return writeJSON(p.io.Out, r)
	}
	return writeTable(p.io.Out, releasesTable(*r))
}
