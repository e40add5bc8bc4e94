package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/picloud/picloud/internal/store"
)

// deployers is how many goroutines deploy to one script at once.
const deployers = 20

// testConcurrentDeploys deploys to one script from many goroutines at once
// while others read it: every deploy succeeds with its own version number,
// 1 to deployers, and readers never fail nor see the live version go back.
func testConcurrentDeploys(t *testing.T, st store.Store) {
	ctx := t.Context()
	app := newApp(t, st, "race")
	u := newUser(t, st, "alice", store.RoleMember)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		versions = map[int]string{} // version → source deployed as it
		done     = make(chan struct{})
		readers  sync.WaitGroup
	)
	for r := range 4 {
		readers.Go(func() {
			last := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				live, err := st.GetLiveScript(ctx, "race", "hot")
				if errors.Is(err, store.ErrNotFound) {
					continue // before the first deploy
				}
				if err != nil {
					t.Errorf("reader %d: GetLiveScript: %v", r, err)
					return
				}
				if live.Script.LiveVersion < last {
					t.Errorf("reader %d: live version went from %d to %d", r, last, live.Script.LiveVersion)
				}
				last = live.Script.LiveVersion
			}
		})
	}
	for i := range deployers {
		wg.Go(func() {
			src := fmt.Sprintf("deploy %d", i)
			_, v, err := st.DeployScript(ctx, app.ID, "hot", src, u.ID)
			if err != nil {
				t.Errorf("deployer %d: %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if prev, dup := versions[v.Version]; dup {
				t.Errorf("version %d given to %q and %q", v.Version, prev, src)
			}
			versions[v.Version] = src
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	if t.Failed() {
		return
	}

	got := make([]int, 0, len(versions))
	for v := range versions {
		got = append(got, v)
	}
	slices.Sort(got)
	want := make([]int, deployers)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(got, want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}

	sc, err := st.GetScript(ctx, app.ID, "hot")
	ok(t, "GetScript", err)
	if sc.LiveVersion != deployers {
		t.Errorf("LiveVersion = %d, want %d", sc.LiveVersion, deployers)
	}
	list, err := st.ListVersions(ctx, sc.ID)
	ok(t, "ListVersions", err)
	if len(list) != deployers {
		t.Errorf("ListVersions: %d versions, want %d", len(list), deployers)
	}
	for v, src := range versions {
		got, err := st.GetVersion(ctx, sc.ID, v)
		ok(t, "GetVersion", err)
		if got.Source != src {
			t.Errorf("version %d source = %q, want %q", v, got.Source, src)
		}
	}
	live, err := st.GetLiveScript(ctx, "race", "hot")
	ok(t, "GetLiveScript", err)
	if live.Version.Version != deployers || live.Version.Source != versions[deployers] {
		t.Errorf("live version = %d %q, want %d %q", live.Version.Version, live.Version.Source, deployers, versions[deployers])
	}
}
