package storetest

import (
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// testJobRequestDropped: the stored request of an async job, which may
// hold credentials, is kept while the job may run again (a failed attempt
// awaiting its retry) and dropped once it ended, ok or dead.
func testJobRequestDropped(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	for _, id := range []string{"ok", "error", "dead"} {
		j := asyncJob(id, a, "hello", at(0))
		ok(t, "EnqueueJob", st.EnqueueJob(ctx, &j, 0))
	}
	// Each job is named by the state it moves to.
	for i := range 3 {
		now := at(time.Duration(i) * time.Millisecond)
		c, err := st.ClaimJob(ctx, "node", now, at(time.Hour), 0)
		ok(t, "ClaimJob", err)
		if len(c.Request) == 0 {
			t.Fatalf("ClaimJob = %s without its request", c.ID)
		}
		state := c.ID
		inv := invocation("inv-"+state, a, "hello", store.StatusOK, now)
		inv.JobID, inv.Attempt = c.ID, 1
		_, err = st.FinishJob(ctx, c, state, at(time.Hour), inv)
		ok(t, "FinishJob", err)
		got, err := st.GetJob(ctx, c.ID)
		ok(t, "GetJob", err)
		if kept := len(got.Request) > 0; kept != (state == store.JobError) {
			t.Errorf("job %s: request %q after FinishJob; want it kept only for a retry", state, got.Request)
		}
	}
}
