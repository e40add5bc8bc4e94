package executor

import (
	"cmp"
	"slices"
	"strings"

	"github.com/picloud/picloud/rhai"
)

// MinRedactedLen is the shortest secret value that is redacted from a
// run's output, summary and error: shorter ones would blank out common
// words and digits everywhere.
const MinRedactedLen = 4

// envValue builds the script's `env` map: the app's secrets, by name.
// An unset name reads as (), like any missing map key; secret(name)
// throws instead.
func envValue(ev *Event) rhai.Value {
	m := make(map[string]rhai.Value, len(ev.Env))
	for name, value := range ev.Env {
		m[name] = rhai.String(value)
	}
	return rhai.NewMap(m)
}

// registerSecrets adds secret(name): the value of the app's secret name,
// or a catchable error that says it is not set and how to set it.
func registerSecrets(e *rhai.Engine) {
	e.RegisterFn("secret", rhai.P(rhai.TypeString), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		name := args[0].AsString()
		h, _ := c.Host().(*runHost)
		if h == nil || h.ev == nil {
			return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "secret: secrets are only available to scripts run by PiCloud")
		}
		ev := h.ev
		value, ok := ev.Env[name]
		if !ok {
			return rhai.Unit, rhai.NewError(rhai.ErrorRuntime,
				"secret %s is not set for app %s (set it with: pic secrets set %s %s)", name, ev.App, ev.App, name)
		}
		return rhai.String(value), nil
	})
}

// redactor replaces the values of a run's secrets with "[secret NAME]"
// in what is kept of the run: its output, summary and error. It guards
// against a secret printed or thrown by mistake; a script that means to
// leak one (reversed, split, encoded) can, as its editors can read the
// secrets anyway.
type redactor struct {
	env map[string]string
	// longest is the length of the longest redacted value: text cut
	// after that many bytes past a limit holds every secret that starts
	// before it whole. 0 when there is nothing to redact.
	longest int
	r       *strings.Replacer // built when a text first holds a secret
}

// newRedactor returns the redactor of a run's secrets. It only measures
// them: most runs keep no secret, and the replacer is built the first
// time a text holds one.
func newRedactor(env map[string]string) *redactor {
	r := &redactor{env: env}
	for _, value := range env {
		if len(value) >= MinRedactedLen {
			r.longest = max(r.longest, len(value))
		}
	}
	return r
}

// margin is longest, for a nil redactor too.
func (r *redactor) margin() int {
	if r == nil {
		return 0
	}
	return r.longest
}

func (r *redactor) apply(s string) string {
	if !r.holdsSecret(s) {
		return s
	}
	return r.replacer().Replace(s)
}

// holdsSecret reports whether s contains the value of a secret.
func (r *redactor) holdsSecret(s string) bool {
	if r == nil || r.longest == 0 {
		return false
	}
	for _, value := range r.env {
		if len(value) >= MinRedactedLen && strings.Contains(s, value) {
			return true
		}
	}
	return false
}

func (r *redactor) replacer() *strings.Replacer {
	if r.r != nil {
		return r.r
	}
	type pair struct{ name, value string }
	var pairs []pair
	for name, value := range r.env {
		if len(value) >= MinRedactedLen {
			pairs = append(pairs, pair{name, value})
		}
	}
	// At one position the first matching pair wins: the longest value,
	// so that a secret containing another is replaced whole.
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(len(b.value), len(a.value)), cmp.Compare(a.name, b.name))
	})
	args := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		args = append(args, p.value, "[secret "+p.name+"]")
	}
	r.r = strings.NewReplacer(args...)
	return r.r
}

// wrap returns err with its message redacted; errors.Is and errors.As
// still see the original.
func (r *redactor) wrap(err error) error {
	if err == nil {
		return err
	}
	msg := err.Error()
	if !r.holdsSecret(msg) {
		return err
	}
	return &redactedError{msg: r.replacer().Replace(msg), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
