package orchestrator

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/secrets"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

func keyring(t *testing.T, b byte) *secrets.Keyring {
	t.Helper()
	kr, err := secrets.NewKeyring(bytes.Repeat([]byte{b}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// setSecret seals and stores a secret with kr and tells the orchestrator,
// as the manager does.
func (e *testEnv) setSecret(kr *secrets.Keyring, app, name, value string) {
	e.t.Helper()
	a, ok := e.apps[app]
	if !ok {
		a = e.app(app, store.AppLimits{})
	}
	sealed, err := kr.Seal(a.ID, name, []byte(value))
	if err != nil {
		e.t.Fatal(err)
	}
	e.putSealed(app, name, sealed)
}

func (e *testEnv) putSealed(app, name string, sealed []byte) {
	e.t.Helper()
	if _, err := e.st.PutSecret(context.Background(), &store.Secret{AppID: e.apps[app].ID, Name: name, Sealed: sealed}, 0); err != nil {
		e.t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.AppChanged, Key: app})
}

func (e *testEnv) deleteSecret(app, name string) {
	e.t.Helper()
	if err := e.st.DeleteSecret(context.Background(), e.apps[app].ID, name); err != nil {
		e.t.Fatal(err)
	}
	e.bus.Publish(events.Event{Kind: events.AppChanged, Key: app})
}

// get requests /fn/app/script and checks the status; it returns the body.
func (e *testEnv) getFn(app, script string, status int) string {
	e.t.Helper()
	rec := e.do("GET", "/fn/"+app+"/"+script, nil, nil)
	if rec.Code != status {
		e.t.Fatalf("GET /fn/%s/%s: %d, want %d; body %s", app, script, rec.Code, status, rec.Body)
	}
	return rec.Body.String()
}

const tokenValue = "tok-0a1b2c3d4e5f-secret"

func TestSecretsReachScripts(t *testing.T) { dbtest.Run(t, testSecretsReachScripts) }

func testSecretsReachScripts(t *testing.T, b dbtest.Backend) {
	kr := keyring(t, 1)
	e := newEnvOn(t, b, Config{Secrets: kr})
	e.app("shop", store.AppLimits{})
	e.setSecret(kr, "shop", "TOKEN", tokenValue)
	e.deploy("shop", "answer", `env.TOKEN`)
	e.deploy("shop", "leak", `print("token: " + env.TOKEN); debug(secret("TOKEN")); throw "failed with " + env.TOKEN`)
	e.deploy("shop", "maybe", `env.NEW ?? "unset"`)
	e.deploy("shop", "strict", `secret("NEW")`)
	e.deploy("other", "peek", `type_of(env.TOKEN)`)

	if got := e.getFn("shop", "answer", 200); got != tokenValue {
		t.Fatalf("answer: %q", got)
	}
	// Another app does not see them.
	if got := e.getFn("other", "peek", 200); got != "()" {
		t.Fatalf("another app's env.TOKEN: %q", got)
	}
	// A secret set or removed is seen by the very next request.
	if got := e.getFn("shop", "maybe", 200); got != "unset" {
		t.Fatalf("before the set: %q", got)
	}
	e.getFn("shop", "strict", 500)
	e.setSecret(kr, "shop", "NEW", "new-value")
	if got := e.getFn("shop", "maybe", 200); got != "new-value" {
		t.Fatalf("after the set: %q", got)
	}
	if got := e.getFn("shop", "strict", 200); got != "new-value" {
		t.Fatalf("secret() after the set: %q", got)
	}
	e.setSecret(kr, "shop", "NEW", "newer-value")
	if got := e.getFn("shop", "maybe", 200); got != "newer-value" {
		t.Fatalf("after a replace: %q", got)
	}
	e.deleteSecret("shop", "NEW")
	if got := e.getFn("shop", "maybe", 200); got != "unset" {
		t.Fatalf("after the delete: %q", got)
	}
	// The failure mode of an unset secret: 500 for the caller, with no
	// details; the log says which secret of which app, and how to set it.
	body := e.getFn("shop", "strict", 500)
	if !strings.Contains(body, `"code":"script_error"`) || strings.Contains(body, "NEW") {
		t.Fatalf("unset secret's answer: %s", body)
	}
	e.getFn("shop", "leak", 500)

	logs := e.logs()
	var leak, strict *store.Invocation
	for i, inv := range logs {
		for _, s := range []string{inv.Output, inv.Summary} {
			if strings.Contains(s, tokenValue) {
				t.Errorf("the log of %s holds the secret: %q", inv.Script, s)
			}
		}
		switch {
		case inv.Script == "leak":
			leak = &logs[i]
		case inv.Script == "strict" && strict == nil: // newest first
			strict = &logs[i]
		}
	}
	if leak == nil || leak.Output != "token: [secret TOKEN]\n[debug 1:31] \"[secret TOKEN]\"\n" ||
		!strings.Contains(leak.Summary, "failed with [secret TOKEN]") {
		t.Errorf("leak's log: %+v", leak)
	}
	if strict == nil || !strings.Contains(strict.Summary, "secret NEW is not set for app shop (set it with: pic secrets set shop NEW)") {
		t.Errorf("strict's log: %+v", strict)
	}
	for _, inv := range logs {
		if inv.Script == "answer" && !strings.Contains(inv.Summary, "[secret TOKEN]") {
			t.Errorf("the summary of a run that answered the secret: %q", inv.Summary)
		}
	}
}

// A secret that does not open (the key changed, the stored value was
// damaged) fails the runs of its app, saying why in the log, and of no
// other app.
func TestSecretsThatDoNotOpen(t *testing.T) { dbtest.Run(t, testSecretsThatDoNotOpen) }

func testSecretsThatDoNotOpen(t *testing.T, b dbtest.Backend) {
	oldKey, serverKey := keyring(t, 1), keyring(t, 2)
	e := newEnvOn(t, b, Config{Secrets: serverKey})
	for _, app := range []string{"rekeyed", "tampered", "moved", "good", "plain"} {
		e.app(app, store.AppLimits{})
		e.deploy(app, "run", `"ran " + (env.TOKEN ?? "without a token")`)
	}
	e.setSecret(oldKey, "rekeyed", "TOKEN", tokenValue)
	e.setSecret(serverKey, "good", "TOKEN", "good-token")
	sealed, err := serverKey.Seal(e.apps["tampered"].ID, "TOKEN", []byte(tokenValue))
	if err != nil {
		t.Fatal(err)
	}
	sealed[len(sealed)-1] ^= 1
	e.putSealed("tampered", "TOKEN", sealed)
	// A value sealed for another app, copied into this one.
	sealed, err = serverKey.Seal(e.apps["good"].ID, "TOKEN", []byte("good-token"))
	if err != nil {
		t.Fatal(err)
	}
	e.putSealed("moved", "TOKEN", sealed)

	for _, app := range []string{"rekeyed", "tampered", "moved"} {
		body := e.getFn(app, "run", 500)
		if !strings.Contains(body, `"code":"script_error"`) || strings.Contains(body, "TOKEN") {
			t.Errorf("%s: %s", app, body)
		}
	}
	if got := e.getFn("good", "run", 200); got != "ran good-token" {
		t.Errorf("good: %q", got)
	}
	if got := e.getFn("plain", "run", 200); got != "ran without a token" {
		t.Errorf("plain: %q", got)
	}

	// Set again under the server's key, the secret works at once.
	e.setSecret(serverKey, "rekeyed", "TOKEN", "fresh-token")
	if got := e.getFn("rekeyed", "run", 200); got != "ran fresh-token" {
		t.Errorf("rekeyed after a new set: %q", got)
	}

	want := map[string]string{
		"rekeyed":  "secret TOKEN of app rekeyed cannot be opened: secrets: sealed with another key: the value was sealed with key " + oldKey.ID() + ", and this server's key is " + serverKey.ID() + "; the server's key changed",
		"tampered": "secret TOKEN of app tampered cannot be opened: secrets: the sealed value does not authenticate; the stored value was changed or damaged: set the secret again",
		"moved":    "secret TOKEN of app moved cannot be opened: secrets: the sealed value does not authenticate",
	}
	for _, inv := range e.logs() {
		if w, ok := want[inv.AppSlug]; ok && inv.Status == store.StatusError {
			if !strings.Contains(inv.Summary, w) {
				t.Errorf("%s's log: %q, want %q", inv.AppSlug, inv.Summary, w)
			}
			delete(want, inv.AppSlug)
		}
		if strings.Contains(inv.Summary, tokenValue) {
			t.Errorf("a summary holds the secret: %q", inv.Summary)
		}
	}
	if len(want) != 0 {
		t.Errorf("no failed run logged for %v", want)
	}
}

// A server without a key runs the apps that have no secrets and fails
// those that do, saying why.
func TestSecretsWithoutKey(t *testing.T) {
	e := newEnv(t, Config{})
	e.app("keyed", store.AppLimits{})
	e.setSecret(keyring(t, 1), "keyed", "TOKEN", tokenValue)
	e.deploy("keyed", "run", `"ran"`)
	e.deploy("plain", "run", `type_of(env) + " " + env.len()`)
	e.getFn("keyed", "run", http.StatusInternalServerError)
	if got := e.getFn("plain", "run", 200); got != "map 0" {
		t.Errorf("plain: %q", got)
	}
	logs := e.logs()
	if len(logs) != 2 {
		t.Fatalf("%d logs", len(logs))
	}
	for _, inv := range logs {
		if inv.AppSlug == "keyed" && !strings.Contains(inv.Summary, "app keyed has secrets, but this server has no secret key to open them: set PICLOUD_SECRET_KEY") {
			t.Errorf("summary %q", inv.Summary)
		}
	}
}

// Queued jobs get the secrets too, and their logs are redacted.
func TestSecretsInJobs(t *testing.T) {
	kr := keyring(t, 1)
	e := newEnv(t, Config{Secrets: kr})
	e.app("shop", store.AppLimits{})
	e.setSecret(kr, "shop", "TOKEN", tokenValue)
	e.deploy("shop", "job", `print(env.TOKEN); if env.TOKEN.len() != `+strconv.Itoa(len(tokenValue))+` { throw "wrong" } ()`)
	ran := watch(e.orch)
	start(t, e.orch)
	id := accepted(t, e.do("POST", "/fn/shop/job?async=1", nil, nil))
	if f := ran.next(t); f.job != id || f.state != store.JobOK {
		t.Fatalf("attempt %+v", f)
	}
	invs := e.attemptsOf(id)
	if len(invs) != 1 || invs[0].Output != "[secret TOKEN]\n" {
		t.Fatalf("the job's log: %+v", invs)
	}
}
