package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/picloud/picloud/internal/config"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/node"
	"github.com/picloud/picloud/internal/store"
)

const adminUsage = `Usage:
  picloud admin create-user NAME [--role admin|member] [--data DIR | --db URL]
  picloud admin reset-password NAME [--data DIR | --db URL]

The password is read from the first line of standard input. These commands
work on the database directly, with the server stopped or running: the
SQLite file in the data directory, or the PostgreSQL database of --db
(env PICLOUD_DB).
`

// runAdmin creates users or resets passwords offline, for a lost admin
// password or scripted set-up.
func runAdmin(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stderr, adminUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub := args[0]
	fs := flag.NewFlagSet("picloud admin "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", store.RoleAdmin, "global role: admin or member")
	data := fs.String("data", "", "data directory (env PICLOUD_DATA, default ./picloud-data)")
	db := fs.String("db", "", "PostgreSQL URL postgres://… (env PICLOUD_DB; default: SQLite in the data directory)")
	// Accept NAME before or after the flags.
	var name string
	rest := args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return exitUsage
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "picloud admin: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if name == "" || (sub != "create-user" && sub != "reset-password") {
		fmt.Fprint(stderr, adminUsage)
		return exitUsage
	}
	if *role != store.RoleAdmin && *role != store.RoleMember {
		fmt.Fprintf(stderr, "picloud admin: --role must be admin or member, not %q\n", *role)
		return exitUsage
	}
	var cfgArgs []string
	if *data != "" {
		cfgArgs = append(cfgArgs, "--data", *data)
	}
	if *db != "" {
		cfgArgs = append(cfgArgs, "--db", *db)
	}
	cfg, err := config.Load("picloud admin", cfgArgs, config.Environ, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "picloud admin:", err)
		return exitUsage
	}
	password, err := readPassword(stdin)
	if err != nil {
		fmt.Fprintln(stderr, "picloud admin:", err)
		return exitUsage
	}
	ctx := context.Background()
	st, err := node.OpenStore(ctx, cfg.DB, cfg.DatabasePath(), nil)
	if err != nil {
		fmt.Fprintln(stderr, "picloud admin: open database:", err)
		return exitFail
	}
	defer st.Close()
	if sub == "reset-password" {
		u, err := st.GetUserByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(stderr, "picloud admin: no user %q\n", name)
			return exitFail
		}
		if err != nil {
			fmt.Fprintln(stderr, "picloud admin:", err)
			return exitFail
		}
		*role = u.Role
	}
	if err := manager.CreateOrResetUser(ctx, st, name, password, *role); err != nil {
		fmt.Fprintln(stderr, "picloud admin:", err)
		return exitFail
	}
	if sub == "create-user" {
		fmt.Fprintf(stderr, "user %q is ready (role %s)\n", name, *role)
	} else {
		fmt.Fprintf(stderr, "password of %q changed\n", name)
	}
	return exitOK
}

func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		return "", errors.New("the password (first line of standard input) must have at least 8 characters")
	}
	return pw, nil
}
