package orchestrator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// A run's journal is stored with its record, on both backends, counted
// in the app's recorded bytes, and replays in the sandbox to the same
// response without writing; its secrets are redacted, in a header, a kv
// value and a body, and credential headers left out, in this process and
// when the run was in an executor process.
func TestJournalRecorded(t *testing.T) { dbtest.Run(t, testJournalRecorded) }

func testJournalRecorded(t *testing.T, b dbtest.Backend) {
	const token = "tango-uniform-victor"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Set-Cookie", "s=1")
		w.Header().Set("X-Echo", r.Header.Get("X-Sig"))
		io.WriteString(w, "got "+string(body))
	}))
	defer up.Close()
	src := `let t = secret("TOKEN");
		kv::set("copy", t);
		let r = http::post(` + strconv.Quote(up.URL+"/hook") + `, "body " + t, #{"X-Sig": t, "Authorization": "Bearer " + t});
		[kv::get("copy") == t, r.body.len(), time::unix() > 0]`
	for _, remote := range []bool{false, true} {
		t.Run(map[bool]string{false: "local", true: "remote"}[remote], func(t *testing.T) {
			kr := keyring(t, 1)
			st := dbtest.Open(t, b)
			cfg := Config{Secrets: kr}
			if remote {
				cfg.Runner = remoteRunner{LocalRunner(executor.New(executor.Config{KV: st}))}
			}
			e := newEnvWith(t, st, cfg)
			a := e.app("demo", store.AppLimits{})
			a.Outbound = store.AppOutbound{Private: []string{"127.0.0.1"}}
			if err := e.st.UpdateApp(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			e.setSecret(kr, "demo", "TOKEN", token)
			e.deploy("demo", "hook", src)
			want := e.getFn("demo", "hook", 200)
			if want != `[true,29,true]` {
				t.Fatalf("production answered %q", want)
			}
			logs := e.logs()
			inv := e.getRecord(logs[0].ID)
			j := inv.Journal
			if j == nil {
				t.Fatal("no journal recorded")
			}
			data, _ := json.Marshal(j)
			for _, word := range []string{"tango", "uniform", "victor", "Authorization", "Set-Cookie"} {
				if strings.Contains(string(data), word) {
					t.Errorf("the journal holds %q: %s", word, data)
				}
			}
			var ops []string
			for _, en := range j.Entries {
				ops = append(ops, en.Op)
			}
			if got := strings.Join(ops, " "); got != "kv::set http kv::get time::unix" {
				t.Fatalf("ops %q", got)
			}
			x := j.Entries[1].HTTP
			if j.Entries[0].Value != `"[secret TOKEN]"` || x.Header.Get("X-Sig") != "[secret TOKEN]" ||
				string(x.Body) != "body [secret TOKEN]" || x.RespHeader.Get("X-Echo") != "[secret TOKEN]" {
				t.Errorf("redacted entries %+v %+v", j.Entries[0], x)
			}
			usage, err := e.st.AppUsage(context.Background(), a.ID)
			if err != nil {
				t.Fatal(err)
			}
			exchange := len(store.EncodeRequest(inv.Request)) + len(store.EncodeResponse(inv.Response))
			if got, want := usage.RecordedBytes, int64(exchange+len(store.EncodeJournal(j))); got != want {
				t.Errorf("recorded bytes %d, want %d with the journal", got, want)
			}

			// The sandbox answers from the journal: the same response,
			// the writes captured, the upstream not called again, the
			// store untouched.
			if _, err := e.st.KVDelete(context.Background(), a.ID, "copy", inv.StartedAt); err != nil {
				t.Fatal(err)
			}
			e2 := newEnvWith(t, e.st, Config{Secrets: kr})
			run, err := e2.orch.SandboxReplay(context.Background(), inv, 0)
			if err != nil {
				t.Fatal(err)
			}
			if run.Result.Status != executor.StatusOK || string(run.Response.Body) != want {
				t.Errorf("sandbox answered %s %q, production %q", run.Result.Status, run.Response.Body, want)
			}
			if w := run.Result.Replay.Writes; len(w) != 2 || w[0].Op != "kv::set" || w[1].Op != "http" {
				t.Errorf("captured writes %+v", w)
			}
			if _, err := e.st.KVGet(context.Background(), a.ID, "copy", inv.StartedAt); err == nil {
				t.Error("the sandbox wrote to the store")
			}
		})
	}
}

// --log-journal off (Config.NoJournal) records no journal.
func TestJournalOff(t *testing.T) {
	e := newEnv(t, Config{NoJournal: true})
	e.deploy("demo", "t", `time::unix()`)
	e.getFn("demo", "t", 200)
	if inv := e.getRecord(e.logs()[0].ID); inv.Journal != nil {
		t.Errorf("journal recorded while off: %+v", inv.Journal)
	}
}
