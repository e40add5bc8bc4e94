package orchestrator

import (
	"context"
	"sync"
	"testing"

	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/internal/store/dbtest"
)

// commitDuringLoad is a real store that, right after the first read of the
// live script named at, runs commit: a deploy that lands between the
// reads of a load.
type commitDuringLoad struct {
	store.Store
	at     string
	once   sync.Once
	commit func()
}

func (s *commitDuringLoad) GetLiveScript(ctx context.Context, app, name string) (store.LiveScript, error) {
	ls, err := s.Store.GetLiveScript(ctx, app, name)
	if name == s.at {
		s.once.Do(s.commit)
	}
	return ls, err
}

// An importer never sees half a deploy: when a deploy of a script and the
// module it imports commits while a load has read the script but not yet
// the module, the load does not run the old script with the new module.
func TestLoadSeesWholeDeploys(t *testing.T) { dbtest.Run(t, testLoadSeesWholeDeploys) }

func testLoadSeesWholeDeploys(t *testing.T, b dbtest.Backend) {
	st := &commitDuringLoad{Store: dbtest.Open(t, b), at: "a"}
	e := newEnvWith(t, st, Config{})
	e.deploy("demo", "b", `fn v() { "b1" }`)
	e.deploy("demo", "a", `import "b" as b; "a1 " + b::v()`)
	st.commit = func() {
		ctx := context.Background()
		err := st.Store.RunInTx(ctx, func(tx store.Store) error {
			for _, d := range []struct{ name, src string }{
				{"a", `import "b" as b; "a2 " + b::v()`},
				{"b", `fn v() { "b2" }`},
			} {
				if _, _, err := tx.DeployScript(ctx, e.apps["demo"].ID, d.name, d.src, 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		e.bus.Publish(events.Event{Kind: events.AppChanged, Key: "demo"})
	}
	if code, body := e.get("/fn/demo/a"); code != 200 || (body != "a1 b1" && body != "a2 b2") {
		t.Fatalf("a load across a deploy ran %d %q: a mix of two releases", code, body)
	}
	if _, body := e.get("/fn/demo/a"); body != "a2 b2" {
		t.Fatalf("after the deploy: %q, want a2 b2", body)
	}
}
