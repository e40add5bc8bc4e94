package executor

import (
	"fmt"
	"strings"
	"testing"
)

// escapingSecrets hold the characters that the engine and Go escape
// inside quotes. Each is made of words of at least four letters around
// those characters: a word of a secret found in what a run keeps means
// that the secret leaked in some form, escaped or not, whatever the
// escaping.
var escapingSecrets = map[string]string{
	"QUOTE":  `alpha"bravo'charlie`,
	"SLASH":  `delta\echo\\foxtrot/`,
	"LINES":  "golf\nhotel",
	"TAB":    "india\tjuliet",
	"CRLF":   "kilo\r\nlima",
	"UNI":    "mike-é-🔑-november",
	"HTML":   "oscar<papa>&quebec",
	"CTRL":   "romeo\x01sierra\x7ftango",
	"MIXED":  "\"victor\\\n\twhiskey\u2028",
	"INNER":  "xray-yankee",
	"OUTER":  "zulu-xray-yankee-zulu",
	"ENDING": `ending\`,
}

// secretWords returns the words of value that mark it: its runs of
// four letters or more.
func secretWords(value string) []string {
	return strings.FieldsFunc(value, func(r rune) bool { return r < 'a' || r > 'z' })
}

// TestRedactionOfEscapedForms prints, debugs, throws and encodes every
// secret in every way a script can, and checks that what the run keeps
// (output, summary, error) holds none of its words, and the redaction
// marker instead.
func TestRedactionOfEscapedForms(t *testing.T) {
	x := New(Config{})
	ev := Event{App: "shop", Script: "pay", Env: escapingSecrets}
	for _, p := range []struct {
		name, src string
		where     string // output or error: where the marker must be
	}{
		{"print(env)", `print(env); "ok"`, "output"},
		{"debug(env)", `debug(env); "ok"`, "output"},
		{"print(secret)", `print(secret("NAME")); "ok"`, "output"},
		{"debug(secret)", `debug(secret("NAME")); "ok"`, "output"},
		{"print array", `print([1, secret("NAME")]); "ok"`, "output"},
		{"interpolation", "print(`key: ${secret(\"NAME\")}.`); \"ok\"", "output"},
		{"to_json", `print(#{k: secret("NAME")}.to_json()); "ok"`, "output"},
		{"debug of to_json", `debug(#{k: secret("NAME")}.to_json()); "ok"`, "output"},
		{"to_debug twice", `print(to_debug(to_debug(secret("NAME")))); "ok"`, "output"},
		{"caught error", `try { parse_int(secret("NAME")) } catch (e) { print(e) } "ok"`, "output"},
		{"throw secret", `throw secret("NAME")`, "error"},
		{"throw map", `throw #{k: secret("NAME")}`, "error"},
		{"throw array", `throw [secret("NAME")]`, "error"},
		{"failing function", `parse_float(secret("NAME"))`, "error"},
		{"error in a function", `fn f(s) { Fn(s) } f(secret("NAME"))`, "error"},
		{"host function", `let h = #{}; h[secret("NAME") + "\n"] = 1; response(200, "", h)`, "error"},
		{"summary of a JSON body", `#{k: secret("NAME")}`, "summary"},
		{"summary of a text body", `secret("NAME")`, "summary"},
	} {
		for name, value := range escapingSecrets {
			t.Run(p.name+"/"+name, func(t *testing.T) {
				src := strings.ReplaceAll(p.src, `"NAME"`, fmt.Sprintf("%q", name))
				res := run(t, x, src, ev, Limits{})
				errText := ""
				if res.Err != nil {
					errText = res.Err.Error()
				}
				kept := map[string]string{"output": res.Output, "summary": res.Summary, "error": errText}
				for what, text := range kept {
					for _, w := range secretWords(value) {
						if strings.Contains(text, w) {
							t.Errorf("the %s holds %q of the secret: %q", what, w, text)
						}
					}
				}
				// OUTER contains INNER: it is replaced whole.
				if marker := "[secret " + name + "]"; !strings.Contains(kept[p.where], marker) {
					t.Errorf("the %s %q has no %s", p.where, kept[p.where], marker)
				}
			})
		}
	}
}

// The redactor kept for an app follows its secrets: a changed value is
// redacted from the next run on, in place of the old one.
func TestRedactorFollowsChangedSecrets(t *testing.T) {
	x := New(Config{})
	for _, value := range []string{"first-value", "second-value", "first-value"} {
		ev := Event{App: "shop", AppID: 7, Env: map[string]string{"TOKEN": value}}
		res := run(t, x, `print(env.TOKEN); "ok"`, ev, Limits{})
		if res.Output != "[secret TOKEN]\n" {
			t.Errorf("with %q: output %q", value, res.Output)
		}
	}
}

// A long secret (a key file, a service account's JSON) is redacted as it
// is and escaped once.
func TestRedactionOfLongSecret(t *testing.T) {
	value := strings.Repeat("{\"kilowatt\": \"megawatt\\n\"}\n", 200)
	ev := Event{App: "shop", Env: map[string]string{"KEY_FILE": value}}
	res := run(t, New(Config{}), `print(env.KEY_FILE); debug(env.KEY_FILE); print(#{k: env.KEY_FILE}.to_json()); "ok"`, ev, Limits{})
	if strings.Contains(res.Output, "watt") {
		t.Errorf("the output holds the secret: %.200q", res.Output)
	}
	if n := strings.Count(res.Output, "[secret KEY_FILE]"); n != 3 {
		t.Errorf("%d markers in %q, want 3", n, res.Output)
	}
}
