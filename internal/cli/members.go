package cli

import (
	"slices"
	"strings"

	"github.com/picloud/picloud/internal/client"
)

func membersCmd() *command {
	return &command{
		name:  "members",
		short: "manage who may see and change an app",
		subs: []*command{
			{name: "add", args: "APP USER --role viewer|editor", short: "add a member to an app, or change their role", run: runMembersAdd},
			{name: "ls", aliases: []string{"list"}, args: "APP", short: "list an app's members", run: runMembersList},
			{name: "rm", aliases: []string{"delete"}, args: "APP USER", short: "remove a member from an app", run: runMembersRemove},
		},
	}
}

var appRoles = []string{"viewer", "editor"}

type membersAddOptions struct {
	App, User, Role string
}

func runMembersAdd(p *pic, c *command, args []string) error {
	var opts membersAddOptions
	f := newFlags(c)
	f.stringVar(&opts.Role, "role", "ROLE", "viewer (read scripts and logs) or editor (also deploy, delete, manage members)")
	pos, err := p.parse(c, f, args, 2, 2)
	if err != nil {
		return err
	}
	opts.App, opts.User = pos[0], pos[1]
	if !slices.Contains(appRoles, opts.Role) {
		if opts.Role == "" {
			return usagef(c, "--role is required: %s", strings.Join(appRoles, " or "))
		}
		return usagef(c, "invalid --role %q: use %s", opts.Role, strings.Join(appRoles, " or "))
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	m, added, err := cl.PutMember(p.ctx, opts.App, opts.User, opts.Role)
	if err != nil {
		return err
	}
	if added {
		p.info("Added %s to app %s as %s", m.Username, opts.App, m.Role)
	} else {
		p.info("%s is now %s of app %s", m.Username, withArticle(m.Role), opts.App)
	}
	t := newTable("USER", "ROLE")
	t.add(m.Username, m.Role)
	return p.print(m, t)
}

func runMembersList(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	members, err := cl.ListMembers(p.ctx, pos[0])
	if err != nil {
		return err
	}
	t := newTable("USER", "ROLE")
	for _, m := range members {
		t.add(m.Username, m.Role)
	}
	return p.print(members, t)
}

func runMembersRemove(p *pic, c *command, args []string) error {
	return removeFromApp(p, c, args, (*client.Client).DeleteMember, "Removed %s from app %s")
}

func withArticle(role string) string {
	if role == "editor" {
		return "an editor"
	}
	return "a " + role
}
