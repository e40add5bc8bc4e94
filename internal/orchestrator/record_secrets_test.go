package orchestrator

import (
	"context"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// remoteRunner runs scripts locally but hands back results as the
// executor RPC does: without the run's redactor.
type remoteRunner struct{ local Runner }

func (r remoteRunner) Prepare(s Script) (Program, error) {
	p, err := r.local.Prepare(s)
	if err != nil {
		return nil, err
	}
	return remoteProgram{p}, nil
}

type remoteProgram struct{ p Program }

func (p remoteProgram) Run(ctx context.Context, ev executor.Event, lim executor.Limits) executor.Result {
	res := p.p.Run(ctx, ev, lim)
	res.Secrets = nil
	return res
}

// The recording of a response that holds a secret, in plain or JSON
// form, in its body or a header, keeps "[secret NAME]" instead, in this
// process and when the run was in an executor process; the caller gets
// the response as the script wrote it.
func TestRecordedResponseRedacted(t *testing.T) { dbtest.Run(t, testRecordedResponseRedacted) }

func testRecordedResponseRedacted(t *testing.T, b dbtest.Backend) {
	const token, key = "alpha\"bravo\\charlie\ndelta-é", `echo\"foxtrot"`
	for name, cfg := range map[string]Config{
		"local":  {},
		"remote": {Runner: remoteRunner{LocalRunner(executor.New(executor.Config{}))}},
	} {
		t.Run(name, func(t *testing.T) {
			kr := keyring(t, 1)
			cfg.Secrets = kr
			e := newEnvOn(t, b, cfg)
			e.app("demo", store.AppLimits{})
			e.setSecret(kr, "demo", "TOKEN", token)
			e.setSecret(kr, "demo", "KEY", key)
			e.deploy("demo", "json", `response(200, #{token: secret("TOKEN")}, #{"x-echo": "v=" + secret("KEY")})`)
			e.deploy("demo", "text", `secret("TOKEN")`)
			if got := e.getFn("demo", "json", 200); got != `{"token":"alpha\"bravo\\charlie\ndelta-é"}` {
				t.Fatalf("the caller got %q, want the secret in JSON", got)
			}
			if got := e.getFn("demo", "text", 200); got != token {
				t.Fatalf("the caller got %q, want the secret", got)
			}
			for _, inv := range e.logs() {
				full, err := e.st.GetInvocation(context.Background(), inv.ID)
				if err != nil {
					t.Fatal(err)
				}
				kept := string(full.Response.Body) + full.Summary + full.Output + strings.Join(full.Response.Header.Values("X-Echo"), ",")
				for _, word := range []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"} {
					if strings.Contains(kept, word) {
						t.Errorf("%s: the record holds %q: %+v", inv.Script, word, full.Response)
					}
				}
				if !strings.Contains(string(full.Response.Body), "[secret TOKEN]") {
					t.Errorf("%s: recorded body %q has no marker", inv.Script, full.Response.Body)
				}
				if inv.Script == "json" && full.Response.Header.Get("X-Echo") != "v=[secret KEY]" {
					t.Errorf("recorded header %q", full.Response.Header.Get("X-Echo"))
				}
			}
		})
	}
}
