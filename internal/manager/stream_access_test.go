package manager

import (
	"fmt"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store/dbtest"
)

// TestLogStreamEndsWithAccess is the attack of issue 15, item 4: a stream
// opened by a member kept delivering after the access behind it ended.
// For each way access ends, the open stream must end within a second or
// so (3 s allowed, against a slow machine), while a stream of another
// caller goes on.
func TestLogStreamEndsWithAccess(t *testing.T) { dbtest.Run(t, testLogStreamEndsWithAccess) }

func testLogStreamEndsWithAccess(t *testing.T, b dbtest.Backend) {
	for _, tc := range []struct {
		name string
		as   string // who streams demo's logs
		// end ends the access, through the API, as the caller given.
		method, path, by string
	}{
		{"logout", asViewer, "POST", "/api/v1/auth/logout", asViewer},
		{"API key revoked", asEditorKey, "DELETE", "/api/v1/api-keys/%d", asEditor},
		{"removed from the app", asViewer, "DELETE", "/api/v1/apps/demo/members/viewer", asEditor},
		{"user deleted", asViewer, "DELETE", "/api/v1/users/viewer", asAdmin},
		{"app deleted", asViewer, "DELETE", "/api/v1/apps/demo?force=true", asAdmin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newLiveEnv(t, b)
			s := e.stream("/api/v1/apps/demo/logs/stream", tc.as, nil)
			control := e.stream("/api/v1/apps/other/logs/stream", asAdmin, nil)

			path := tc.path
			if tc.as == asEditorKey {
				path = fmt.Sprintf(path, e.keyID)
			}
			if res := e.do(tc.method, path, "", tc.by, ""); res.status != 204 {
				t.Fatalf("%s %s: %d %s", tc.method, path, res.status, res.body)
			}
			ended := time.Now()
			select {
			case <-s.done:
				t.Logf("the stream ended %v after the access", time.Since(ended).Round(time.Millisecond))
			case <-time.After(3 * time.Second):
				t.Fatal("the stream still runs 3s after its access ended")
			}
			// The other stream goes on.
			id := e.invoke("GET", "/fn/other/secret", "", nil)
			if _, inv := control.next(t); inv.ID != id {
				t.Errorf("the other stream got %s, want %s", inv.ID, id)
			}
		})
	}
}

// TestLogStreamAccessUnchanged: a stream whose access holds is not ended by
// its checks, however many run.
func TestLogStreamAccessUnchanged(t *testing.T) {
	e := newLiveEnv(t, dbtest.SQLite)
	e.m.streamRecheck = time.Millisecond
	s := e.stream("/api/v1/apps/demo/logs/stream", asViewer, nil)
	key := e.stream("/api/v1/apps/demo/logs/stream", asEditorKey, nil)
	for range 3 {
		id := e.invoke("GET", "/fn/demo/hello", "", nil)
		for _, st := range []*sseStream{s, key} {
			if _, inv := st.next(t); inv.ID != id {
				t.Fatalf("got %s, want %s", inv.ID, id)
			}
		}
	}
}
