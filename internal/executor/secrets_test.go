package executor

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/picloud/picloud/rhai"
)

const token = "tok-5f1b9c2e-very-secret"

func secretEvent() Event {
	return Event{App: "shop", Script: "pay", Env: map[string]string{"TOKEN": token, "PIN": "123", "EMPTY": ""}}
}

func TestEnv(t *testing.T) {
	x := New(Config{})
	for _, c := range []struct{ src, want string }{
		{`env.TOKEN`, token},
		{`env["TOKEN"]`, token},
		{`type_of(env.TOKEN)`, "string"},
		{`env.PIN`, "123"},
		{`env.EMPTY.len().to_string()`, "0"},
		{`type_of(env.MISSING)`, "()"},
		{`("MISSING" in env).to_string() + " " + ("TOKEN" in env)`, "false true"},
		{`env.MISSING ?? "fallback"`, "fallback"},
		{`env.len().to_string()`, "3"},
		{`secret("TOKEN")`, token},
		// A script's change to env stays in its run.
		{`env.TOKEN = "changed"; env.TOKEN`, "changed"},
	} {
		res := run(t, x, c.src, secretEvent(), Limits{})
		if res.Status != StatusOK || string(res.Body) != c.want {
			t.Errorf("%s: %s %q (%s), want %q", c.src, res.Status, res.Body, res.Summary, c.want)
		}
	}
	// The change above did not reach the event's map.
	if res := run(t, x, `env.TOKEN`, secretEvent(), Limits{}); string(res.Body) != token {
		t.Errorf("env after a run that changed it: %q", res.Body)
	}
	// With no secrets, env is an empty map, not an unknown variable.
	res := run(t, x, `type_of(env) + " " + env.len() + " " + type_of(env.TOKEN)`, Event{App: "shop"}, Limits{})
	if res.Status != StatusOK || string(res.Body) != "map 0 ()" {
		t.Errorf("env without secrets: %s %q (%s)", res.Status, res.Body, res.Summary)
	}
}

// An unset secret read with secret() fails the run with a message that
// names the secret and the app and says how to set it; a script may catch
// it.
func TestSecretUnset(t *testing.T) {
	x := New(Config{})
	res := run(t, x, `let t = secret("API_KEY"); "never " + t`, secretEvent(), Limits{})
	if res.Status != StatusError || res.HTTPStatus != 500 || len(res.Body) != 0 {
		t.Fatalf("status %s %d body %q", res.Status, res.HTTPStatus, res.Body)
	}
	want := "secret API_KEY is not set for app shop (set it with: pic secrets set shop API_KEY)"
	if !strings.Contains(res.Summary, want) || !strings.Contains(res.Err.Error(), want) {
		t.Errorf("summary %q, err %v; want them to contain %q", res.Summary, res.Err, want)
	}
	if !strings.HasPrefix(res.Summary, "ErrorRuntime: ") {
		t.Errorf("summary %q is not a runtime error", res.Summary)
	}

	res = run(t, x, `let r = "none"; try { secret("API_KEY"); } catch (e) { r = "caught: " + e; } r`, secretEvent(), Limits{})
	if res.Status != StatusOK || !strings.Contains(string(res.Body), "caught: ") || !strings.Contains(string(res.Body), want) {
		t.Errorf("caught: %s %q", res.Status, res.Body)
	}
	// The documented idiom for env: ?? throw.
	res = run(t, x, `let k = env.API_KEY ?? throw "API_KEY is not set"; k`, secretEvent(), Limits{})
	if res.Status != StatusError || !strings.Contains(res.Summary, "API_KEY is not set") {
		t.Errorf("?? throw: %s %q", res.Status, res.Summary)
	}
	// Without a host event (the engine used on its own), secret() says so.
	e := rhai.New()
	registerSecrets(e)
	if _, err := e.Eval(`secret("X")`); err == nil || !strings.Contains(err.Error(), "only available to scripts run by PiCloud") {
		t.Errorf("secret() without an event: %v", err)
	}
	if res := run(t, x, `secret(42)`, secretEvent(), Limits{}); res.Status != StatusError {
		t.Errorf("secret(42): %s", res.Status)
	}
}

// Secret values never reach what a run keeps: its output, summary and
// error show "[secret NAME]" instead. The response body is the script's
// to choose and is not changed.
func TestRedaction(t *testing.T) {
	x := New(Config{})
	ev := secretEvent()
	ev.Env["LONG"] = "prefix-" + token // contains TOKEN: replaced whole
	for _, c := range []struct {
		name, src        string
		status           string
		output, summary  string // substrings wanted
		body             string
		errContains      string
		unredactedShort  string // a short value that stays
		summaryNotSuffix string
	}{
		{name: "print", src: `print("token=" + env.TOKEN); debug(env.TOKEN); "ok"`, status: StatusOK,
			output: "token=[secret TOKEN]\n[debug 1:30] \"[secret TOKEN]\"\n", body: "ok"},
		{name: "answered", src: `env.TOKEN`, status: StatusOK, body: token,
			summary: "200 text/plain, 24 B: [secret TOKEN]"},
		{name: "longest first", src: `print(env.LONG); print(env.TOKEN + env.LONG); env.LONG`, status: StatusOK,
			output: "[secret LONG]\n[secret TOKEN][secret LONG]\n", body: "prefix-" + token, summary: ": [secret LONG]"},
		{name: "thrown", src: `throw "bad token " + env.TOKEN`, status: StatusError,
			summary: "bad token [secret TOKEN]", errContains: "bad token [secret TOKEN]"},
		{name: "in a runtime error", src: `let t = env.TOKEN; t.no_such_method()`, status: StatusError},
		{name: "short values stay", src: `print("pin " + env.PIN); "ok"`, status: StatusOK, output: "pin 123\n", body: "ok",
			unredactedShort: "123"},
		// The summary is cut after redaction: a secret at the cut does
		// not leave its start behind.
		{name: "at the cut", src: `let s = ""; s.pad(190, 'x'); s + env.TOKEN`, status: StatusOK,
			summaryNotSuffix: token[:4]},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, x, c.src, ev, Limits{})
			if res.Status != c.status {
				t.Fatalf("status %s (%s), want %s", res.Status, res.Summary, c.status)
			}
			if c.body != "" && string(res.Body) != c.body {
				t.Errorf("body %q, want %q", res.Body, c.body)
			}
			errText := ""
			if res.Err != nil {
				errText = res.Err.Error()
			}
			for what, s := range map[string]string{"output": res.Output, "summary": res.Summary, "error": errText} {
				if strings.Contains(s, token) || strings.Contains(s, token[:len(token)-1]) {
					t.Errorf("the %s holds the secret: %q", what, s)
				}
			}
			if !strings.Contains(res.Output, c.output) {
				t.Errorf("output %q, want %q", res.Output, c.output)
			}
			if !strings.Contains(res.Summary, c.summary) {
				t.Errorf("summary %q, want %q", res.Summary, c.summary)
			}
			if !strings.Contains(errText, c.errContains) {
				t.Errorf("error %q, want %q", errText, c.errContains)
			}
			if c.unredactedShort != "" && !strings.Contains(res.Output, c.unredactedShort) {
				t.Errorf("a value shorter than %d bytes was redacted: %q", MinRedactedLen, res.Output)
			}
			if c.summaryNotSuffix != "" && strings.Contains(res.Summary, c.summaryNotSuffix) {
				t.Errorf("the summary %q keeps the start of the secret", res.Summary)
			}
		})
	}
}

// A redacted error still unwraps to the engine's error.
func TestRedactedErrorUnwraps(t *testing.T) {
	res := run(t, New(Config{}), `throw env.TOKEN`, secretEvent(), Limits{})
	var ee *rhai.EvalError
	if !errors.As(res.Err, &ee) {
		t.Fatalf("error %T does not unwrap to *rhai.EvalError", res.Err)
	}
	if strings.Contains(res.Err.Error(), token) || !strings.Contains(res.Err.Error(), "[secret TOKEN]") {
		t.Errorf("error %q", res.Err)
	}
}

// The event's secrets travel in its JSON (the executor RPC carries it).
func TestEventEnvJSON(t *testing.T) {
	b, err := json.Marshal(secretEvent())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"env":{`) {
		t.Errorf("event JSON %s has no env", b)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil || back.Env["TOKEN"] != token {
		t.Errorf("env after a round trip: %v, %v", back.Env, err)
	}
	b, _ = json.Marshal(Event{App: "a"})
	if strings.Contains(string(b), `"env"`) {
		t.Errorf("an event without secrets encodes env: %s", b)
	}
}
