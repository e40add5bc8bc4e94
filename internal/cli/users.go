package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/picloud/picloud/internal/client"
)

func usersCmd() *command {
	return &command{
		name:  "users",
		short: "manage users (administrators)",
		subs: []*command{
			{name: "create", args: "NAME [--role admin|member]", short: "create a user; the password is read from stdin", run: leaf(parseUsersCreate, runUsersCreate),
				long: `The password is read from standard input (prompted for twice, without
echo, on a terminal). When standard input is empty, the server generates a
password, which is printed once on stderr (and in --output json).`},
			{name: "ls", aliases: []string{"list"}, short: "list users", run: leaf(parseNoArgs, runUsersList)},
			{name: "delete", aliases: []string{"rm"}, args: "NAME", short: "delete a user with their sessions, API keys and memberships", run: leaf(parseOneArg, runUsersDelete)},
		},
	}
}

// usersAPI is what the users commands need of the client.
type usersAPI interface {
	CreateUser(ctx context.Context, username, password, role string) (*client.NewUser, error)
	ListUsers(ctx context.Context) ([]client.User, error)
	DeleteUser(ctx context.Context, username string) error
}

var _ usersAPI = (*client.Client)(nil)

var globalRoles = []string{"admin", "member"}

// usersTable is the table of users: USERNAME ROLE CREATED.
func usersTable(users ...client.User) *table {
	t := newTable("USERNAME", "ROLE", "CREATED")
	for _, u := range users {
		t.add(u.Username, u.Role, timeCell(u.CreatedAt))
	}
	return t
}

type usersCreateOptions struct {
	Name, Role string
	// Password is read by the parse: prompted for twice on a terminal,
	// else the first line of standard input ("": the server makes one).
	Password string
}

func parseUsersCreate(p *pic, c *command, args []string) (usersCreateOptions, error) {
	opts := usersCreateOptions{Role: "member"}
	f := newFlags(c)
	f.stringVar(&opts.Role, "role", "ROLE", "admin or member")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	opts.Name = pos[0]
	if !slices.Contains(globalRoles, opts.Role) {
		return opts, usagef(c, "invalid --role %q: use admin or member", opts.Role)
	}
	if p.io.IsTTY {
		if opts.Password, err = p.readPassword(fmt.Sprintf("Password for %s: ", opts.Name)); err != nil {
			return opts, err
		}
		again, err := p.readPassword("Again: ")
		if err != nil {
			return opts, err
		}
		if again != opts.Password {
			return opts, fmt.Errorf("the passwords do not match")
		}
	} else if opts.Password, err = readLine(p.io.In); err != nil {
		return opts, fmt.Errorf("reading the password from standard input: %w", err)
	}
	return opts, nil
}

func runUsersCreate(p *pic, api usersAPI, opts usersCreateOptions) error {
	u, err := api.CreateUser(p.ctx, opts.Name, opts.Password, opts.Role)
	if err != nil {
		return err
	}
	p.info("Created user %s (%s)", u.Username, u.RoleLabel)
	if u.Password != "" {
		p.info("Generated password (shown once): %s", u.Password)
	}
	return p.print(u, usersTable(u.User))
}

func runUsersList(p *pic, api usersAPI, _ noOptions) error {
	users, err := api.ListUsers(p.ctx)
	if err != nil {
		return err
	}
	return p.print(users, usersTable(users...))
}

func runUsersDelete(p *pic, api usersAPI, opts oneArg) error {
	if err := api.DeleteUser(p.ctx, opts.Arg); err != nil {
		return err
	}
	p.info("Deleted user %s", opts.Arg)
	return nil
}
