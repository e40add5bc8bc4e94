package storetest

import (
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

func testCanaries(t *testing.T, st store.Store) {
	ctx := t.Context()
	shop := newApp(t, st, "shop")
	blog := newApp(t, st, "blog")
	for _, app := range []store.App{shop, shop, blog} {
		ok(t, "CreateRelease", st.CreateRelease(ctx, &store.Release{AppID: app.ID}))
	}
	start := stamp()
	c := store.Canary{AppID: shop.ID, ReleaseID: 2, BaseRelease: 1, Percent: 10, Window: 5 * time.Minute,
		MinRequests: 50, State: store.CanaryRunning, StartedAt: start, EndsAt: start.Add(5 * time.Minute)}
	ok(t, "CreateCanary", st.CreateCanary(ctx, &c))
	wantErr(t, "CreateCanary twice", st.CreateCanary(ctx, &c), store.ErrConflict)
	wantErr(t, "CreateCanary of an unknown release",
		st.CreateCanary(ctx, &store.Canary{AppID: shop.ID, ReleaseID: 9, State: store.CanaryRunning, EndsAt: start}), store.ErrNotFound)
	other := store.Canary{AppID: blog.ID, ReleaseID: 1, Percent: 50, State: store.CanaryRunning,
		StartedAt: start.Add(time.Second), EndsAt: start.Add(time.Hour)}
	ok(t, "CreateCanary of another app", st.CreateCanary(ctx, &other))

	got, err := st.GetCanary(ctx, shop.ID, 2)
	ok(t, "GetCanary", err)
	check(t, "GetCanary", got, c)
	_, err = st.GetCanary(ctx, shop.ID, 1)
	wantErr(t, "GetCanary of a release without one", err, store.ErrNotFound)

	// Counts add up across flushes and are kept apart by side.
	ok(t, "AddCanaryCounts", st.AddCanaryCounts(ctx, []store.CanaryDelta{
		{AppID: shop.ID, ReleaseID: 2, Base: store.CanaryCounts{Total: 9, Errors: 1}, Candidate: store.CanaryCounts{Total: 1}},
		{AppID: blog.ID, ReleaseID: 1, Candidate: store.CanaryCounts{Total: 4, Errors: 4}},
	}))
	ok(t, "AddCanaryCounts again", st.AddCanaryCounts(ctx, []store.CanaryDelta{
		{AppID: shop.ID, ReleaseID: 2, Base: store.CanaryCounts{Total: 1}, Candidate: store.CanaryCounts{Total: 2, Errors: 2}},
	}))
	c.Base, c.Candidate = store.CanaryCounts{Total: 10, Errors: 1}, store.CanaryCounts{Total: 3, Errors: 2}
	other.Candidate = store.CanaryCounts{Total: 4, Errors: 4}
	list, err := st.ListCanaries(ctx, 0, true)
	ok(t, "ListCanaries running", err)
	check(t, "ListCanaries running", list, []store.Canary{c, other})

	// A decision is taken once; the counts of an ended canary stay.
	decided := stamp()
	won, err := st.EndCanary(ctx, shop.ID, 2, store.CanaryRolledBack, "errors", decided)
	ok(t, "EndCanary", err)
	again, err := st.EndCanary(ctx, shop.ID, 2, store.CanaryPromoted, "window over", decided)
	ok(t, "EndCanary again", err)
	if !won || again {
		t.Errorf("EndCanary twice = %v, %v; want true, false", won, again)
	}
	ok(t, "AddCanaryCounts to an ended canary", st.AddCanaryCounts(ctx, []store.CanaryDelta{
		{AppID: shop.ID, ReleaseID: 2, Candidate: store.CanaryCounts{Total: 100}}}))
	c.State, c.Reason, c.DecidedAt = store.CanaryRolledBack, "errors", decided
	list, err = st.ListCanaries(ctx, shop.ID, false)
	ok(t, "ListCanaries of an app", err)
	check(t, "ListCanaries of an app", list, []store.Canary{c})
	list, err = st.ListCanaries(ctx, 0, true)
	ok(t, "ListCanaries running after the decision", err)
	check(t, "ListCanaries running after the decision", list, []store.Canary{other})

	ok(t, "DeleteApp", st.DeleteApp(ctx, blog.ID))
	list, err = st.ListCanaries(ctx, 0, false)
	ok(t, "ListCanaries after DeleteApp", err)
	check(t, "ListCanaries after DeleteApp", list, []store.Canary{c})
}
