package cli

import (
	"fmt"
	"slices"
)

func usersCmd() *command {
	return &command{
		name:  "users",
		short: "manage users (administrators)",
		subs: []*command{
			{name: "create", args: "NAME [--role admin|member]", short: "create a user; the password is read from stdin", run: runUsersCreate,
				long: `The password is read from standard input (prompted for twice, without
echo, on a terminal). When standard input is empty, the server generates a
password, which is printed once on stderr (and in --output json).`},
			{name: "ls", aliases: []string{"list"}, short: "list users", run: runUsersList},
			{name: "delete", aliases: []string{"rm"}, args: "NAME", short: "delete a user with their sessions, API keys and memberships", run: runUsersDelete},
		},
	}
}

var globalRoles = []string{"admin", "member"}

// usersTable is the table of users: USERNAME ROLE CREATED.
func usersTable() *table { return newTable("USERNAME", "ROLE", "CREATED") }

type usersCreateOptions struct {
	Name, Role, Password string
}

func runUsersCreate(p *pic, c *command, args []string) error {
	opts := usersCreateOptions{Role: "member"}
	f := newFlags(c)
	f.stringVar(&opts.Role, "role", "ROLE", "admin or member")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return err
	}
	opts.Name = pos[0]
	if !slices.Contains(globalRoles, opts.Role) {
		return usagef(c, "invalid --role %q: use admin or member", opts.Role)
	}
	if p.io.IsTTY {
		if opts.Password, err = p.readPassword(fmt.Sprintf("Password for %s: ", opts.Name)); err != nil {
			return err
		}
		again, err := p.readPassword("Again: ")
		if err != nil {
			return err
		}
		if again != opts.Password {
			return fmt.Errorf("the passwords do not match")
		}
	} else if opts.Password, err = readLine(p.io.In); err != nil {
		return fmt.Errorf("reading the password from standard input: %w", err)
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	u, err := cl.CreateUser(p.ctx, opts.Name, opts.Password, opts.Role)
	if err != nil {
		return err
	}
	p.info("Created user %s (%s)", u.Username, u.RoleLabel)
	if u.Password != "" {
		p.info("Generated password (shown once): %s", u.Password)
	}
	t := usersTable()
	t.add(u.Username, u.Role, timeCell(u.CreatedAt))
	return p.print(u, t)
}

func runUsersList(p *pic, c *command, args []string) error {
	if _, err := p.parse(c, newFlags(c), args, 0, 0); err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	users, err := cl.ListUsers(p.ctx)
	if err != nil {
		return err
	}
	t := usersTable()
	for _, u := range users {
		t.add(u.Username, u.Role, timeCell(u.CreatedAt))
	}
	return p.print(users, t)
}

func runUsersDelete(p *pic, c *command, args []string) error {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	if err := cl.DeleteUser(p.ctx, pos[0]); err != nil {
		return err
	}
	p.info("Deleted user %s", pos[0])
	return nil
}
