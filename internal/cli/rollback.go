package cli

import "fmt"

type scriptsRollbackOptions struct {
	App, Name string
	To        int
}

func parseScriptsRollback(p *pic, c *command, args []string) (scriptsRollbackOptions, error) {
	var opts scriptsRollbackOptions
	f := newFlags(c)
	f.intVar(&opts.To, "to", "VERSION", "the version to make live again (required)")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	if opts.App, opts.Name, err = scriptRef(c, pos[0]); err != nil {
		return opts, err
	}
	if !f.isSet("to") {
		return opts, usagef(c, "--to is required")
	}
	if opts.To < 1 {
		return opts, usagef(c, "--to must be 1 or more")
	}
	return opts, nil
}

func runScriptsRollback(p *pic, api scriptsAPI, opts scriptsRollbackOptions) error {
	rb, err := api.Rollback(p.ctx, opts.App, opts.Name, opts.To)
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
