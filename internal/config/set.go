package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Precedence is the one rule every binary reads its settings by, as the
// --help of each prints it.
const Precedence = "A flag wins over its environment variable, which wins over the config file " +
	"(--config FILE or PICLOUD_CONFIG: TOML, one `name = value` per setting), which wins over the default."

// Set is the settings of one binary: each has a name, which is its flag
// (--name), its environment variable (PICLOUD_NAME, upper case with
// underscores) and its key in the config file. Declare the settings, then
// call Parse.
type Set struct {
	name   string
	fs     *flag.FlagSet
	getenv func(string) string
	vars   []*variable
	config *string // --config
}

// variable is one declared setting.
type variable struct {
	name, def, help string
	// noFlag settings are read from the environment and the file only:
	// secrets, as a command line is visible to other users.
	noFlag bool
	alias  string  // an older environment variable still read
	flag   *string // the flag's value; "" when not given
	set    func(v string) error
}

// Env is the environment variable of the setting name.
func Env(name string) string {
	return "PICLOUD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// NewSet returns an empty set of settings for the command name; usage and
// flag errors go to stderr.
func NewSet(name string, getenv func(string) string, stderr io.Writer) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	s := &Set{name: name, fs: fs, getenv: getenv}
	s.config = fs.String("config", "", "")
	fs.Usage = func() { s.Usage(fs.Output()) }
	return s
}

// Var declares a setting: flag --name, variable Env(name), key name in
// the file, default def; set parses and stores a value.
func (s *Set) Var(name, def, help string, set func(v string) error) {
	v := &variable{name: name, def: def, help: help, set: set}
	v.flag = s.fs.String(name, "", help)
	s.vars = append(s.vars, v)
}

// Secret declares a setting without a flag, read from its environment
// variable or the config file only.
func (s *Set) Secret(name, help string, set func(v string) error) {
	s.vars = append(s.vars, &variable{name: name, help: help, noFlag: true, set: set})
}

// Alias makes the setting name also read the older environment variable
// env, when its own is unset.
func (s *Set) Alias(name, env string) {
	for _, v := range s.vars {
		if v.name == name {
			v.alias = env
			return
		}
	}
	panic("config: alias of an undeclared setting " + name)
}

// String declares a string setting.
func (s *Set) String(p *string, name, def, help string) {
	s.Var(name, def, help, func(v string) error {
		*p = v
		return nil
	})
}

// Required declares a string setting that must be set.
func (s *Set) Required(p *string, name, help string) {
	s.Var(name, "", help, func(v string) error {
		if v == "" {
			return fmt.Errorf("is required: give --%s or set %s", name, Env(name))
		}
		*p = v
		return nil
	})
}

// Int declares a positive integer.
func (s *Set) Int(p *int, name, def, help string) {
	s.Var(name, def, help, func(v string) error { return ParseCount(v, p, false) })
}

// Count declares an integer that may also be 0.
func (s *Set) Count(p *int, name, def, help string) {
	s.Var(name, def, help, func(v string) error { return ParseCount(v, p, true) })
}

// Auto declares a positive integer, or "auto" for 0: a default the
// service computes.
func (s *Set) Auto(p *int, name, help string) {
	s.Var(name, "auto", help, func(v string) error {
		if v == "auto" {
			*p = 0
			return nil
		}
		return ParseCount(v, p, false)
	})
}

// Duration declares a positive duration.
func (s *Set) Duration(p *time.Duration, name, def, help string) {
	s.Var(name, def, help, func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 5s or 24h")
		}
		*p = d
		return nil
	})
}

// Size declares a byte size (see ParseSize).
func (s *Set) Size(p *int64, name, def, help string) {
	s.Var(name, def, help, func(v string) error {
		n, err := ParseSize(v)
		*p = n
		return err
	})
}

// Address declares a listening address: host:port, or unix:/path when
// unix is true, or "" when optional is true.
func (s *Set) Address(p *string, name, def, help string, unix, optional bool) {
	s.Var(name, def, help, func(v string) error {
		switch {
		case optional && v == "":
		case strings.HasPrefix(v, "unix:"):
			if !unix {
				return errors.New("must be host:port: this server does not listen on a unix socket")
			}
			if strings.TrimPrefix(v, "unix:") == "" {
				return errors.New("names no socket")
			}
		default:
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("not a host:port address: %w", err)
			}
		}
		*p = v
		return nil
	})
}

// UsageError is a mistake on the command line, in the environment or in
// the config file (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Exit codes of the servers.
const (
	ExitFail  = 1
	ExitUsage = 2
)

// Exit prints err for the command name and returns its exit code: 0 for
// nil and for flag.ErrHelp (the usage is printed already), ExitUsage for a
// *UsageError, ExitFail otherwise.
func Exit(name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitFail
}

// Parse parses args (without the program name), the environment and the
// config file. It returns flag.ErrHelp for -h and --help (the usage
// printed), and a *UsageError for a bad value, naming where it came from.
func (s *Set) Parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{err}
	}
	if s.fs.NArg() > 0 {
		return &UsageError{fmt.Errorf("unexpected argument %q", s.fs.Arg(0))}
	}
	path := *s.config
	if path == "" {
		path = s.getenv("PICLOUD_CONFIG")
	}
	file, err := s.readFile(path)
	if err != nil {
		return &UsageError{err}
	}
	for _, v := range s.vars {
		val, from := v.def, "default"
		if f, ok := file[v.name]; ok {
			val, from = f, path+": "+v.name
		}
		if v.alias != "" {
			if e := s.getenv(v.alias); e != "" {
				val, from = e, v.alias
			}
		}
		if e := s.getenv(Env(v.name)); e != "" {
			val, from = e, Env(v.name)
		}
		if v.flag != nil && *v.flag != "" {
			val, from = *v.flag, "--"+v.name
		}
		if err := v.set(val); err != nil {
			if v.noFlag {
				// A secret's value is never repeated.
				return &UsageError{fmt.Errorf("%s (%s): %w", v.help, from, err)}
			}
			return &UsageError{fmt.Errorf("%s (%s=%q): %w", v.help, from, val, err)}
		}
	}
	return nil
}

// readFile reads the config file at path ("" for none) into the values of
// its settings, as their flags would give them.
func (s *Set) readFile(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("%s:%d:%d: %s", path, row, col, de.Error())
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	known := make(map[string]bool, len(s.vars))
	for _, v := range s.vars {
		known[v.name] = true
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(raw))
	for _, k := range keys {
		line := lineOf(data, k)
		if !known[k] {
			// One file may serve every binary of a cluster: a setting of
			// another binary is not this one's, but no mistake either.
			if anyBinary()[k] {
				continue
			}
			return nil, fmt.Errorf("%s:%d: unknown setting %q (see %s --help)", path, line, k, s.name)
		}
		v, err := fileValue(raw[k])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", path, line, k, err)
		}
		out[k] = v
	}
	return out, nil
}

// anyBinary holds the names of every binary's settings.
var anyBinary = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	for _, b := range Binaries {
		for _, r := range b.Rows() {
			names[r.Key] = true
		}
	}
	return names
})

// fileValue turns a TOML value into the text a flag would give.
func fileValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case bool:
		return strconv.FormatBool(v), nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return "", errors.New("a list must hold strings")
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	default:
		return "", fmt.Errorf("a %T is no setting's value: write a string, an integer or a list of strings", v)
	}
}

// lineOf is the line of the file where key is set, 0 when not found.
func lineOf(data []byte, key string) int {
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if k, _, ok := strings.Cut(l, "="); ok && strings.Trim(strings.TrimSpace(k), `"'`) == key {
			return i + 1
		}
	}
	return 0
}

// Row is one setting as --help and docs/configuration.md show it.
type Row struct {
	Flag, Env, Default, Help string // Flag "" for a setting without one
	Key                      string // the config file's key
}

// Rows lists the settings in their order of declaration.
func (s *Set) Rows() []Row {
	rows := make([]Row, 0, len(s.vars))
	for _, v := range s.vars {
		r := Row{Env: Env(v.name), Default: v.def, Help: v.help, Key: v.name}
		if !v.noFlag {
			r.Flag = "--" + v.name
		}
		if v.alias != "" {
			r.Help += "; its older variable " + v.alias + " is still read"
		}
		rows = append(rows, r)
	}
	return rows
}

// Usage prints the settings table of --help: each setting's flag, its
// environment variable and its default, with its meaning under it.
func (s *Set) Usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [flags]\n\n%s\n\n", s.name, wrap(Precedence, 78))
	rows := append([]Row{{Flag: "--config", Env: "PICLOUD_CONFIG", Help: "the config file (TOML)"}}, s.Rows()...)
	fw, ew := len("FLAG"), len("ENVIRONMENT")
	for i, r := range rows {
		if r.Flag == "" {
			rows[i].Flag = "(no flag)"
		}
		fw, ew = max(fw, len(rows[i].Flag)), max(ew, len(r.Env))
	}
	fmt.Fprintf(w, "  %-*s  %-*s  %s\n", fw, "FLAG", ew, "ENVIRONMENT", "DEFAULT")
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %-*s  %s\n", fw, r.Flag, ew, r.Env, r.Default)
		for l := range strings.Lines(wrap(r.Help, 72)) {
			fmt.Fprintf(w, "      %s\n", strings.TrimSuffix(l, "\n"))
		}
	}
}

// wrap breaks text into lines of at most width characters.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		if n > 0 && n+1+len(word) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
