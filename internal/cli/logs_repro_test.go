package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/store/dbtest"
)

// pic logs repro runs a recorded invocation locally against its version
// or a file, deterministically: a script that reads the clock, random
// values and kv reproduces the recorded response although the store has
// moved on; a changed file shows where it differs and exits 1.
func TestLogsRepro(t *testing.T) { dbtest.Run(t, testLogsRepro) }

func testLogsRepro(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	sh := admin(t, srv)
	app := newApp(t, srv)
	src := `kv::set("n", 41);
		let n = kv::get("n") + 1;
		let id = crypto::uuid();
		#{n: n, id: id, at: time::unix_ms(), body: request.body}`
	deploy(t, srv, app, "roll", src)
	id := invoke(t, srv, app, "roll", "POST", "hello", http.Header{})
	srv.waitLogged(t, id)

	show := sh.ok("logs", "show", id)
	for _, want := range []string{"Effects (4):", "kv::set n = 41", "kv::get n → 41", "crypto::uuid → ", "time::unix_ms → "} {
		if !strings.Contains(show, want) {
			t.Errorf("logs show lacks %q:\n%s", want, show)
		}
	}

	out := sh.ok("logs", "repro", id)
	if !strings.Contains(out, "ORIGINAL "+id) || !strings.Contains(out, "The responses are identical.") ||
		!strings.Contains(out, "Writes captured, not applied: 1.") || strings.Contains(out, "First difference") {
		t.Errorf("repro of the recorded version:\n%s", out)
	}
	var view struct {
		Same   bool `json:"same"`
		Writes []struct {
			Op, Key string
		} `json:"writes"`
	}
	if err := json.Unmarshal([]byte(sh.ok("logs", "repro", id, "-o", "json")), &view); err != nil {
		t.Fatal(err)
	}
	if !view.Same || len(view.Writes) != 1 || view.Writes[0].Op != "kv::set" || view.Writes[0].Key != "n" {
		t.Errorf("json view %+v", view)
	}

	// A local file that answers differently and reads a key production
	// never read.
	file := writeFile(t, "roll.rhai", `let n = kv::get("n") + kv::get("other", 0) + 2;
		#{n: n, id: crypto::uuid(), at: time::unix_ms(), body: request.body}`)
	res := sh.fails(1, "error: the local run's response differs from the recorded one", "logs", "repro", id, "--file", file)
	for _, want := range []string{"REPLAY " + file, "New effect, not performed: kv::get other.", "First difference: the body, at line 1, column "} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("repro of a changed file lacks %q:\n%s", want, res.stdout)
		}
	}

	sh.fails(2, "error: --file is for 'logs repro'", "logs", "replay", id, "--file", file)
	sh.fails(2, "error: --version and --force are for 'logs replay'", "logs", "repro", id, "--version", "1")
	sh.fails(1, "HTTP 404", "logs", "repro", "no-such-id")
}
