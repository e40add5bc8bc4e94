package cli

import "fmt"

func runScriptsRollback(p *pic, c *command, args []string) error {
	var to int
	f := newFlags(c)
	f.intVar(&to, "to", "VERSION", "the version to make live again (required)")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return err
	}
	app, name, err := scriptRef(c, pos[0])
	if err != nil {
		return err
	}
	if !f.isSet("to") {
		return usagef(c, "--to is required")
	}
	if to < 1 {
		return usagef(c, "--to must be 1 or more")
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	rb, err := cl.Rollback(p.ctx, app, name, to)
	if err != nil {
		return err
	}
	p.info("Rolled script %s/%s back to version %d: version %d is live", rb.App, rb.Name, rb.RolledBackFrom, rb.Version)
	if p.isJSON() {
		return writeJSON(p.io.Out, rb)
	}
	_, err = fmt.Fprintln(p.io.Out, rb.Version)
	return err
}
