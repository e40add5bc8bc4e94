package executor

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

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
		if !ok && h.replay != nil && len(ev.Env) == 0 {
			// A replay away from the app's secrets (pic logs repro)
			// reads the marker its journal holds in their place.
			return rhai.String("[secret " + name + "]"), nil
		}
		if !ok {
			return rhai.Unit, rhai.NewError(rhai.ErrorRuntime,
				"secret %s is not set for app %s (set it with: pic secrets set %s %s)", name, ev.App, ev.App, name)
		}
		return rhai.String(value), nil
	})
}

// Redactor replaces the values of an app's secrets with "[secret NAME]"
// in what is kept of a run: its output, summary and error, and the
// recording of its response. It guards against a secret printed or thrown
// by mistake, in every form the engine and the executor write a string
// in: as it is, and escaped inside quotes (see secretForms). A script
// that means to leak one (reversed, split, encoded) can, as its editors
// can read the secrets anyway. A Redactor is safe for concurrent use.
type Redactor struct {
	secrets []redactedSecret
	// longest is the length of the longest redacted form: text cut after
	// that many bytes past a limit holds every secret that starts before
	// it whole. 0 when there is nothing to redact.
	longest int
	once    sync.Once
	r       *strings.Replacer // built when a text first holds a secret
}

// redactedSecret is one secret and the forms of its value to look for.
type redactedSecret struct {
	name  string
	forms []string
}

// NewRedactor returns the redactor of an app's secrets. It computes the
// forms of their values; the replacer is built the first time a text
// holds one, as most runs keep no secret.
func NewRedactor(env map[string]string) *Redactor {
	r := &Redactor{}
	for name, value := range env {
		if len(value) < MinRedactedLen {
			continue
		}
		forms := secretForms(value)
		for _, f := range forms {
			r.longest = max(r.longest, len(f))
		}
		r.secrets = append(r.secrets, redactedSecret{name, forms})
	}
	return r
}

// appRedactor is the redactor built for one version of an app's secrets.
type appRedactor struct {
	env map[string]string
	red *Redactor
}

// redactorFor returns the redactor of ev's secrets. Building one escapes
// every secret several times, which for an app with many long secrets
// costs more than a run: it is built once per app and version of its
// secrets, and found again by comparing the event's secrets, whether the
// event comes from this process or over the executor RPC.
func (x *Executor) redactorFor(ev Event) *Redactor {
	if v, ok := x.redactors.Load(ev.AppID); ok {
		if a := v.(*appRedactor); maps.Equal(a.env, ev.Env) {
			return a.red
		}
	}
	red := NewRedactor(ev.Env)
	x.redactors.Store(ev.AppID, &appRedactor{env: ev.Env, red: red})
	return red
}

// quoters are the functions that write a string inside quotes wherever a
// run's text can come from: the engine's debug form (debug(), print of
// an array or map, a thrown map, the values in its error messages), its
// to_json and JSON response bodies, Go's encoding/json, and Go's %q in
// the messages of the host functions (http, response, kv).
var quoters = []func(string) string{
	rhai.QuoteString,
	func(s string) string {
		b, _ := rhai.ToJSON(rhai.String(s)) // a string always encodes
		return string(b)
	},
	func(s string) string {
		b, _ := json.Marshal(s) // a string always encodes
		return string(b)
	},
	strconv.Quote,
}

// maxTwiceEscaped is the longest secret value whose twice-escaped forms
// are looked for: they are some sixteen times as many bytes as the value
// and its once-escaped forms, and a value longer than this (a key file, a
// service account's JSON) is rarely printed escaped twice.
const maxTwiceEscaped = 4 << 10

// secretForms returns value and the distinct ways the quoters escape it,
// once and, for a value up to maxTwiceEscaped bytes, twice (a debug form
// inside JSON, a JSON text in an error message …), without the quotes.
func secretForms(value string) []string {
	forms := []string{value}
	seen := map[string]bool{value: true}
	add := func(from string) []string {
		var added []string
		for _, quote := range quoters {
			q := quote(from)
			f := q[1 : len(q)-1]
			if !seen[f] {
				seen[f] = true
				added = append(added, f)
			}
		}
		return added
	}
	once := add(value)
	forms = append(forms, once...)
	if len(value) > maxTwiceEscaped {
		return forms
	}
	for _, f := range once {
		forms = append(forms, add(f)...)
	}
	return forms
}

// Margin is the length of the longest form of a secret, 0 for a nil
// redactor: text cut after that many bytes past a bound, then redacted,
// then cut at the bound never keeps the start of a secret.
func (r *Redactor) Margin() int {
	if r == nil {
		return 0
	}
	return r.longest
}

// Redact returns s with every form of every secret replaced; a nil
// redactor returns s.
func (r *Redactor) Redact(s string) string {
	if !r.holdsSecret(s) {
		return s
	}
	return r.replacer().Replace(s)
}

// RedactBytes is Redact for bytes: b itself when it holds no secret.
func (r *Redactor) RedactBytes(b []byte) []byte {
	if r == nil || r.longest == 0 {
		return b
	}
	for _, sec := range r.secrets {
		for _, f := range sec.forms {
			if bytes.Contains(b, []byte(f)) {
				return []byte(r.replacer().Replace(string(b)))
			}
		}
	}
	return b
}

// holdsSecret reports whether s contains a form of a secret.
func (r *Redactor) holdsSecret(s string) bool {
	if r == nil || r.longest == 0 {
		return false
	}
	for _, sec := range r.secrets {
		for _, f := range sec.forms {
			if strings.Contains(s, f) {
				return true
			}
		}
	}
	return false
}

func (r *Redactor) replacer() *strings.Replacer {
	r.once.Do(func() {
		type pair struct{ name, form string }
		var pairs []pair
		for _, sec := range r.secrets {
			for _, f := range sec.forms {
				pairs = append(pairs, pair{sec.name, f})
			}
		}
		// At one position the first matching pair wins: the longest form,
		// so that a secret containing another, or a form containing
		// another (the escaped form of a value ending in a backslash),
		// is replaced whole.
		slices.SortFunc(pairs, func(a, b pair) int {
			return cmp.Or(cmp.Compare(len(b.form), len(a.form)), cmp.Compare(a.name, b.name))
		})
		args := make([]string, 0, 2*len(pairs))
		for _, p := range pairs {
			args = append(args, p.form, "[secret "+p.name+"]")
		}
		r.r = strings.NewReplacer(args...)
	})
	return r.r
}

// wrap returns err with its message redacted; errors.Is and errors.As
// still see the original.
func (r *Redactor) wrap(err error) error {
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
