package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// flags is a command's flag set with the documentation its help prints.
// A flag may have several names ("o,output"); one letter names are shown
// with one dash, longer ones with two (the flag package accepts both).
type flags struct {
	fs     *flag.FlagSet
	docs   []flagDoc
	global int // docs[global:] are the global flags
}

type flagDoc struct {
	names []string
	arg   string // the value's placeholder, "" for a boolean
	usage string
}

func newFlags(c *command) *flags {
	fs := flag.NewFlagSet(c.path(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{fs: fs, global: -1}
}

func (f *flags) doc(names, arg, usage string) []string {
	ns := strings.Split(names, ",")
	f.docs = append(f.docs, flagDoc{names: ns, arg: arg, usage: usage})
	return ns
}

func (f *flags) stringVar(p *string, names, arg, usage string) {
	for _, n := range f.doc(names, arg, usage) {
		f.fs.StringVar(p, n, *p, usage)
	}
}

func (f *flags) boolVar(p *bool, names, usage string) {
	for _, n := range f.doc(names, "", usage) {
		f.fs.BoolVar(p, n, *p, usage)
	}
}

func (f *flags) intVar(p *int, names, arg, usage string) {
	for _, n := range f.doc(names, arg, usage) {
		f.fs.IntVar(p, n, *p, usage)
	}
}

// optionalIntVar defines an int flag whose value may be left out:
// "--check" alone sets def, "--check=N" sets N (at least 1). The value
// must follow an equals sign, so that "--check 5" never takes a
// positional argument for it.
func (f *flags) optionalIntVar(p *int, names string, def int, usage string) {
	for _, n := range f.doc(names, "[=N]", usage) {
		f.fs.Var(optionalInt{p: p, def: def}, n, usage)
	}
}

// optionalInt is the flag.Value of optionalIntVar: a boolean flag to the
// flag package, which then hands Set "true" when no value is given.
type optionalInt struct {
	p   *int
	def int
}

func (o optionalInt) String() string {
	if o.p == nil {
		return ""
	}
	return strconv.Itoa(*o.p)
}

func (o optionalInt) Set(s string) error {
	if s == "true" {
		*o.p = o.def
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return errors.New("want a whole number of at least 1")
	}
	*o.p = n
	return nil
}

func (o optionalInt) IsBoolFlag() bool { return true }

// funcVar defines a flag whose every occurrence calls fn: repeatable
// flags such as -H.
func (f *flags) funcVar(names, arg, usage string, fn func(string) error) {
	for _, n := range f.doc(names, arg, usage) {
		f.fs.Func(n, usage, fn)
	}
}

// isSet reports whether the flag with one of names was given.
func (f *flags) isSet(names ...string) bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) {
		for _, n := range names {
			if fl.Name == n {
				set = true
			}
		}
	})
	return set
}

// addGlobals adds the flags every command accepts.
func (p *pic) addGlobals(f *flags) {
	f.global = len(f.docs)
	f.stringVar(&p.server, "server", "URL", "the PiCloud server (default: $PICLOUD_URL, the credentials file, or "+DefaultServer+")")
	f.stringVar(&p.output, "o,output", "FORMAT", "output format: table (TSV with a header row) or json")
}

// errHelp is returned after --help printed a command's help: exit code 0.
var errHelp = errors.New("cli: help requested")

// parse parses a leaf command's args: its flags and the global flags,
// which may come before, between or after the positional arguments (a
// "--" ends the flags). It checks that there are between min and max
// positional arguments (max < 0: no limit) and returns them. --help prints
// the command's help on stdout and returns errHelp.
func (p *pic) parse(c *command, f *flags, args []string, min, max int) ([]string, error) {
	p.addGlobals(f)
	var pos []string
	for {
		err := f.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			p.printHelp(p.io.Out, c, f)
			return nil, errHelp
		}
		if err != nil {
			return nil, &usageError{cmd: c, msg: flagMessage(err)}
		}
		rest := f.fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if err := p.checkGlobals(c); err != nil {
		return nil, err
	}
	switch {
	case len(pos) < min:
		return nil, &usageError{cmd: c, msg: fmt.Sprintf("missing argument; expected %s", argWords(min, max))}
	case max >= 0 && len(pos) > max:
		return nil, &usageError{cmd: c, msg: fmt.Sprintf("too many arguments (%s); expected %s", strings.Join(pos[max:], " "), argWords(min, max))}
	}
	return pos, nil
}

// parseLeadingGlobals parses the global flags that come before a group's
// subcommand name and returns the remaining args.
func (p *pic) parseLeadingGlobals(c *command, args []string) ([]string, error) {
	f := newFlags(c)
	p.addGlobals(f)
	err := f.fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		p.printGroupHelp(p.io.Out, c)
		return nil, errHelp
	}
	if err != nil {
		return nil, &usageError{cmd: c, msg: flagMessage(err)}
	}
	if err := p.checkGlobals(c); err != nil {
		return nil, err
	}
	return f.fs.Args(), nil
}

func (p *pic) checkGlobals(c *command) error {
	if p.output != "table" && p.output != "json" {
		return &usageError{cmd: c, msg: fmt.Sprintf("invalid --output %q: use table or json", p.output)}
	}
	if p.server != "" {
		if _, err := normalizeServer(p.server); err != nil {
			return &usageError{cmd: c, msg: "invalid --server: " + err.Error()}
		}
	}
	return nil
}

// flagMessage rewrites the flag package's messages to show flags with two
// dashes, as the help does.
func flagMessage(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"flag provided but not defined: -", "flag needs an argument: -"} {
		if name, ok := strings.CutPrefix(msg, prefix); ok {
			return strings.TrimSuffix(prefix, "-") + dashed(name)
		}
	}
	// invalid value "x" for flag -limit: parse error; a flag that may
	// go without a value (optionalIntVar) is a boolean one to package
	// flag.
	for _, f := range []struct{ prefix, flag, parseError string }{
		{"invalid value ", " for flag -", "not a number"},
		{"invalid boolean value ", " for -", "not true or false"},
	} {
		rest, ok := strings.CutPrefix(msg, f.prefix)
		if !ok {
			continue
		}
		if i := strings.Index(rest, f.flag); i >= 0 {
			tail := rest[i+len(f.flag):]
			name, why, _ := strings.Cut(tail, ": ")
			if why == "parse error" {
				why = f.parseError
			}
			return fmt.Sprintf("invalid value %s for %s: %s", rest[:i], dashed(name), why)
		}
	}
	return msg
}

// dashed writes a flag name as the help shows it.
func dashed(name string) string {
	name = strings.TrimLeft(name, "-")
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func argWords(min, max int) string {
	n := func(k int) string {
		if k == 1 {
			return "1 argument"
		}
		return strconv.Itoa(k) + " arguments"
	}
	switch {
	case min == max:
		return n(min)
	case max < 0:
		return "at least " + n(min)
	}
	return fmt.Sprintf("%d to %d arguments", min, max)
}

// printHelp writes a leaf command's help.
func (p *pic) printHelp(w io.Writer, c *command, f *flags) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.synopsis(), sentence(c.short))
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	}
	if len(c.aliases) > 0 {
		fmt.Fprintf(w, "\nAliases: %s\n", strings.Join(c.aliases, ", "))
	}
	own, global := f.docs, []flagDoc(nil)
	if f.global >= 0 {
		own, global = f.docs[:f.global], f.docs[f.global:]
	}
	if len(own) > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		writeFlagDocs(w, own)
	}
	if len(global) > 0 {
		fmt.Fprintf(w, "\nGlobal flags:\n")
		writeFlagDocs(w, global)
	}
}

func writeFlagDocs(w io.Writer, docs []flagDoc) {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	for _, d := range docs {
		names := make([]string, len(d.names))
		for i, n := range d.names {
			names[i] = dashed(n)
		}
		spec := strings.Join(names, ", ")
		switch {
		case strings.HasPrefix(d.arg, "[="):
			spec += d.arg
		case d.arg != "":
			spec += " " + d.arg
		}
		fmt.Fprintf(tw, "  %s\t%s\n", spec, d.usage)
	}
	tw.Flush()
}

// printGroupHelp writes the help of a command group: its subcommands.
func (p *pic) printGroupHelp(w io.Writer, c *command) {
	if c.parent == nil {
		fmt.Fprintf(w, "pic is %s.\n\n", c.short)
	} else {
		fmt.Fprintf(w, "%s\n\n", sentence(c.short))
	}
	fmt.Fprintf(w, "Usage: %s\n\nCommands:\n", c.synopsis())
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	var list func(*command)
	list = func(s *command) {
		if s.subs != nil {
			for _, sub := range s.subs {
				list(sub)
			}
			return
		}
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimPrefix(s.path(), c.path()+" "), s.short)
	}
	for _, s := range c.subs {
		list(s)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nGlobal flags:\n")
	writeFlagDocs(w, []flagDoc{
		{names: []string{"server"}, arg: "URL", usage: "the PiCloud server (default: $PICLOUD_URL, the credentials file, or " + DefaultServer + ")"},
		{names: []string{"o", "output"}, arg: "FORMAT", usage: "output format: table (TSV with a header row) or json"},
	})
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", c.path())
	if c.parent == nil {
		fmt.Fprintf(w, "\nEnvironment: %s and %s override the credentials file\n($XDG_CONFIG_HOME/picloud/credentials.json). Exit codes: 0 success,\n1 the server refused or failed, 2 usage error or a mistake in a\nproject folder (nothing sent).\n", EnvURL, EnvToken)
	}
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
