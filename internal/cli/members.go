package cli

import (
	"context"
	"slices"
	"strings"

	"github.com/picloud/picloud/internal/client"
)

func membersCmd() *command {
	return &command{
		name:  "members",
		short: "manage who may see and change an app",
		subs: []*command{
			{name: "add", args: "APP USER --role viewer|editor", short: "add a member to an app, or change their role", run: leaf(parseMembersAdd, runMembersAdd)},
			{name: "ls", aliases: []string{"list"}, args: "APP", short: "list an app's members", run: leaf(parseOneArg, runMembersList)},
			{name: "rm", aliases: []string{"delete"}, args: "APP USER", short: "remove a member from an app", run: leaf(parseAppItem, runMembersRemove)},
		},
	}
}

var appRoles = []string{"viewer", "editor"}

type membersAddOptions struct {
	App, User, Role string
}

// membersAPI is what the members commands need of the client.
type membersAPI interface {
	PutMember(ctx context.Context, slug, username, role string) (m *client.Member, added bool, err error)
	ListMembers(ctx context.Context, slug string) ([]client.Member, error)
	DeleteMember(ctx context.Context, slug, username string) error
}

var _ membersAPI = (*client.Client)(nil)

func parseMembersAdd(p *pic, c *command, args []string) (membersAddOptions, error) {
	var opts membersAddOptions
	f := newFlags(c)
	f.stringVar(&opts.Role, "role", "ROLE", "viewer (read scripts and logs) or editor (also deploy, delete, manage members)")
	pos, err := p.parse(c, f, args, 2, 2)
	if err != nil {
		return opts, err
	}
	opts.App, opts.User = pos[0], pos[1]
	if !slices.Contains(appRoles, opts.Role) {
		if opts.Role == "" {
			return opts, usagef(c, "--role is required: %s", strings.Join(appRoles, " or "))
		}
		return opts, usagef(c, "invalid --role %q: use %s", opts.Role, strings.Join(appRoles, " or "))
	}
	return opts, nil
}

func runMembersAdd(p *pic, api membersAPI, opts membersAddOptions) error {
	m, added, err := api.PutMember(p.ctx, opts.App, opts.User, opts.Role)
	if err != nil {
		return err
	}
	if added {
		p.info("Added %s to app %s as %s", m.Username, opts.App, m.Role)
	} else {
		p.info("%s is now %s of app %s", m.Username, withArticle(m.Role), opts.App)
	}
	return p.print(m, membersTable(*m))
}

// membersTable is the table of an app's members: USER ROLE.
func membersTable(members ...client.Member) *table {
	t := newTable("USER", "ROLE")
	for _, m := range members {
		t.add(m.Username, m.Role)
	}
	return t
}

func runMembersList(p *pic, api membersAPI, opts oneArg) error {
	members, err := api.ListMembers(p.ctx, opts.Arg)
	if err != nil {
		return err
	}
	return p.print(members, membersTable(members...))
}

var runMembersRemove = removeFromApp(membersAPI.DeleteMember, "Removed %s from app %s")

func withArticle(role string) string {
	if role == "editor" {
		return "an editor"
	}
	return "a " + role
}
