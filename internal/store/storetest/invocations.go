package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// invocation returns a record with every field set.
func invocation(id string, app store.App, script, status string, started time.Time) store.Invocation {
	return store.Invocation{
		ID:         id,
		AppID:      app.ID,
		AppSlug:    app.Slug,
		Script:     script,
		Version:    3,
		Trigger:    store.TriggerHTTP,
		StartedAt:  started,
		Duration:   1500*time.Microsecond + 7*time.Nanosecond,
		Status:     status,
		HTTPStatus: 200,
		Operations: 12345,
		Summary:    "summary of " + id,
		Output:     "line 1\nligne 2 — é ✓\n",
	}
}

func testInvocations(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")

	i1 := invocation("inv-01", a, "hello", store.StatusOK, at(0))
	i2 := invocation("inv-02", a, "hello", store.StatusError, at(time.Second))
	i2.HTTPStatus, i2.Trigger = 500, store.TriggerAsync
	i3 := invocation("inv-03", a, "other", store.StatusOK, at(2*time.Second))
	i3.HTTPStatus = 422 // the script's own refusal: the run went well
	i4 := invocation("inv-04", b, "hello", store.StatusTimeout, at(3*time.Second))
	i4.HTTPStatus, i4.Trigger = 504, store.TriggerSchedule
	// i5 starts with i3: the ID breaks the tie.
	i5 := invocation("inv-05", a, "hello", store.StatusLimit, at(2*time.Second))
	i5.Summary, i5.Output = "", ""

	ok(t, "InsertInvocations nothing", st.InsertInvocations(ctx, nil))
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, []store.Invocation{i5, i1, i3}))
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, []store.Invocation{i4, i2}))

	got, err := st.GetInvocation(ctx, "inv-02")
	ok(t, "GetInvocation", err)
	check(t, "GetInvocation", got, i2)
	got, err = st.GetInvocation(ctx, "inv-05")
	ok(t, "GetInvocation", err)
	check(t, "GetInvocation", got, i5)
	_, err = st.GetInvocation(ctx, "inv-99")
	wantErr(t, "GetInvocation unknown", err, store.ErrNotFound)

	for _, tc := range []struct {
		name string
		f    store.InvocationFilter
		want []store.Invocation
	}{
		{"app", store.InvocationFilter{AppID: a.ID}, []store.Invocation{i5, i3, i2, i1}},
		{"other app", store.InvocationFilter{AppID: b.ID}, []store.Invocation{i4}},
		{"every app", store.InvocationFilter{}, []store.Invocation{i4, i5, i3, i2, i1}},
		{"script", store.InvocationFilter{AppID: a.ID, Script: "hello"}, []store.Invocation{i5, i2, i1}},
		{"status", store.InvocationFilter{AppID: a.ID, Status: store.StatusOK}, []store.Invocation{i3, i1}},
		{"script and status", store.InvocationFilter{AppID: a.ID, Script: "hello", Status: store.StatusError}, []store.Invocation{i2}},
		{"http 4xx", store.InvocationFilter{AppID: a.ID, HTTPStatusMin: 400, HTTPStatusMax: 499}, []store.Invocation{i3}},
		{"http 500 every app", store.InvocationFilter{HTTPStatusMin: 500, HTTPStatusMax: 599}, []store.Invocation{i4, i2}},
		{"http 200 with status", store.InvocationFilter{AppID: a.ID, Status: store.StatusOK, HTTPStatusMin: 200, HTTPStatusMax: 200}, []store.Invocation{i1}},
		{"limit", store.InvocationFilter{AppID: a.ID, Limit: 2}, []store.Invocation{i5, i3}},
		{"limit 1 with filters", store.InvocationFilter{AppID: a.ID, Script: "hello", Limit: 1}, []store.Invocation{i5}},
		{"unknown script", store.InvocationFilter{AppID: a.ID, Script: "nope"}, []store.Invocation{}},
		{"unknown status", store.InvocationFilter{AppID: b.ID, Status: store.StatusOK}, []store.Invocation{}},
	} {
		list, err := st.ListInvocations(ctx, tc.f)
		ok(t, "ListInvocations "+tc.name, err)
		check(t, "ListInvocations "+tc.name, list, tc.want)
	}

	// A record already stored is skipped, the rest of its batch stored;
	// so is a record of an app that does not exist.
	dup := i1
	dup.Summary = "rewritten"
	i6 := invocation("inv-06", b, "hello", store.StatusOK, at(4*time.Second))
	orphan := invocation("inv-07", store.App{ID: 1 << 40}, "hello", store.StatusOK, at(5*time.Second))
	ok(t, "InsertInvocations with a duplicate and an orphan", st.InsertInvocations(ctx, []store.Invocation{dup, i6, orphan}))
	got, err = st.GetInvocation(ctx, "inv-01")
	ok(t, "GetInvocation", err)
	check(t, "GetInvocation after a duplicate insert", got, i1)
	got, err = st.GetInvocation(ctx, "inv-06")
	ok(t, "GetInvocation", err)
	check(t, "GetInvocation", got, i6)
	_, err = st.GetInvocation(ctx, "inv-07")
	wantErr(t, "GetInvocation orphan", err, store.ErrNotFound)

	// A batch larger than any implementation's statement, with duplicates
	// and orphans spread through it, keeps every other record.
	var big []store.Invocation
	want := map[string]store.Invocation{}
	for i := range 300 {
		app := a
		if i%2 == 1 {
			app = b
		}
		inv := invocation(fmt.Sprintf("big-%03d", i), app, "bulk", store.StatusOK, at(time.Hour+time.Duration(i)*time.Millisecond))
		switch {
		case i%37 == 5:
			inv.AppID = 1<<40 + int64(i) // an orphan
		case i%41 == 7:
			inv.ID = "inv-02" // a duplicate of a stored record
		default:
			want[inv.ID] = inv
		}
		big = append(big, inv)
	}
	ok(t, "InsertInvocations of 300", st.InsertInvocations(ctx, big))
	for _, app := range []store.App{a, b} {
		list, err := st.ListInvocations(ctx, store.InvocationFilter{AppID: app.ID, Script: "bulk", Limit: 1000})
		ok(t, "ListInvocations bulk", err)
		for _, inv := range list {
			if w, found := want[inv.ID]; !found {
				t.Errorf("bulk insert stored %s, which it should have skipped", inv.ID)
			} else {
				check(t, "bulk record "+inv.ID, inv, w)
				delete(want, inv.ID)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("bulk insert lost %d records", len(want))
	}
	got, err = st.GetInvocation(ctx, "inv-02")
	ok(t, "GetInvocation", err)
	check(t, "GetInvocation after a bulk duplicate", got, i2)

	// A NUL or invalid UTF-8 in a summary or in printed output (a
	// script's own text) is kept as U+FFFD, and never costs the batch: PostgreSQL's text refuses
	// NUL, and a refused batch would lose every record in it.
	nul := invocation("nul-01", a, "hello", store.StatusError, at(2*time.Hour))
	nul.Summary, nul.Output = "ErrorRuntime: a\x00b", "x\x00y\xff\n"
	plain := invocation("nul-02", a, "hello", store.StatusOK, at(2*time.Hour))
	ok(t, "InsertInvocations with NUL", st.InsertInvocations(ctx, []store.Invocation{nul, plain}))
	got, err = st.GetInvocation(ctx, "nul-01")
	ok(t, "GetInvocation with NUL", err)
	if got.Summary != "ErrorRuntime: a\uFFFDb" || got.Output != "x\uFFFDy\uFFFD\n" {
		t.Errorf("NUL stored as summary %q, output %q; want U+FFFD in its place", got.Summary, got.Output)
	}
	_, err = st.GetInvocation(ctx, "nul-02")
	ok(t, "GetInvocation of the NUL record's batch mate", err)
}

func testPruneInvocations(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	var invs []store.Invocation
	for i, id := range []string{"p1", "p2", "p3", "p4"} {
		invs = append(invs, invocation(id, a, "hello", store.StatusOK, at(time.Duration(i)*time.Hour)))
	}
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, invs))

	// Records started before the cut go; one started at the cut stays.
	n, err := st.PruneInvocations(ctx, at(2*time.Hour))
	ok(t, "PruneInvocations", err)
	if n != 2 {
		t.Errorf("PruneInvocations = %d, want 2", n)
	}
	list, err := st.ListInvocations(ctx, store.InvocationFilter{AppID: a.ID})
	ok(t, "ListInvocations", err)
	check(t, "ListInvocations after PruneInvocations", list, []store.Invocation{invs[3], invs[2]})
	_, err = st.GetInvocation(ctx, "p1")
	wantErr(t, "GetInvocation pruned", err, store.ErrNotFound)

	n, err = st.PruneInvocations(ctx, at(2*time.Hour))
	ok(t, "PruneInvocations again", err)
	if n != 0 {
		t.Errorf("PruneInvocations again = %d, want 0", n)
	}
	n, err = st.PruneInvocations(ctx, at(24*time.Hour))
	ok(t, "PruneInvocations all", err)
	if n != 2 {
		t.Errorf("PruneInvocations all = %d, want 2", n)
	}
}
