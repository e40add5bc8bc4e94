package storetest

import (
	"net/http"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/store"
)

// testInvocationExchange: the recorded request and response of a record
// come back whole from GetInvocation, binary bodies included, through
// InsertInvocations and FinishJob alike; lists leave them out.
func testInvocationExchange(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")

	text := invocation("inv-text", a, "hello", store.StatusOK, at(0))
	text.Request = &store.HTTPRequest{
		Method: "POST", Path: "/orders/7", Query: "a=1&b=%C3%A9", Host: "example.test",
		Header: http.Header{"Content-Type": {"application/json"}, "X-Multi": {"one", "two"}},
		Body:   []byte("{\"item\":\"<b>é</b> & \x00\"}"), BodySize: 27,
	}
	text.Response = &store.HTTPResponse{Status: 201, Header: http.Header{"Content-Type": {"text/html"}},
		Body: []byte("<p>créé</p>"), BodySize: 13}

	binary := invocation("inv-binary", a, "hello", store.StatusOK, at(time.Second))
	binary.Request = &store.HTTPRequest{Method: "PUT", Body: []byte{0xff, 0x00, 0xfe, 'x'}, BodySize: 70000, BodyTruncated: true}
	binary.Response = &store.HTTPResponse{Status: 200, Body: []byte{0x80, 0x81}, BodySize: 2}

	// A failed run keeps its status alone; a schedule's run has nothing.
	failed := invocation("inv-failed", a, "hello", store.StatusError, at(2*time.Second))
	failed.Request = &store.HTTPRequest{Method: "GET"}
	failed.Response = &store.HTTPResponse{Status: 500}
	bare := invocation("inv-bare", a, "hello", store.StatusOK, at(3*time.Second))
	bare.Trigger = store.TriggerSchedule

	ok(t, "InsertInvocations", st.InsertInvocations(ctx, []store.Invocation{text, binary, failed, bare}))
	for _, want := range []store.Invocation{text, binary, failed, bare} {
		got, err := st.GetInvocation(ctx, want.ID)
		ok(t, "GetInvocation "+want.ID, err)
		check(t, "GetInvocation "+want.ID, got, want)
	}

	list, err := st.ListInvocations(ctx, store.InvocationFilter{AppID: a.ID})
	ok(t, "ListInvocations", err)
	if len(list) != 4 {
		t.Fatalf("ListInvocations: %d records, want 4", len(list))
	}
	for _, inv := range list {
		if inv.Request != nil || inv.Response != nil {
			t.Errorf("ListInvocations: %s has its exchange", inv.ID)
		}
	}

	// The attempt of a job, stored by FinishJob.
	j := store.Job{ID: "job-1", AppID: a.ID, Script: "hello", Trigger: store.TriggerAsync, MaxAttempts: 1, RunAt: at(0),
		Request: []byte(`{"method":"POST"}`)}
	ok(t, "EnqueueJob", st.EnqueueJob(ctx, &j, 0))
	claimed, err := st.ClaimJob(ctx, "node", at(time.Second), at(time.Hour), 0)
	ok(t, "ClaimJob", err)
	attempt := invocation("inv-attempt", a, "hello", store.StatusOK, at(4*time.Second))
	attempt.Trigger, attempt.JobID, attempt.Attempt = store.TriggerAsync, j.ID, 1
	attempt.Request = &store.HTTPRequest{Method: "POST", Body: []byte("queued")}
	attempt.Response = &store.HTTPResponse{Status: 202, Body: []byte("done")}
	_, err = st.FinishJob(ctx, claimed, store.JobOK, time.Time{}, attempt)
	ok(t, "FinishJob", err)
	got, err := st.GetInvocation(ctx, attempt.ID)
	ok(t, "GetInvocation of an attempt", err)
	check(t, "GetInvocation of an attempt", got, attempt)
}

// testInvocationsAfter: After pages forward oldest first by ID, IDs
// selects records, and both combine with the other filters.
func testInvocationsAfter(t *testing.T, st store.Store) {
	ctx := t.Context()
	a := newApp(t, st, "alpha")
	b := newApp(t, st, "beta")
	// IDs sort as their runs started, but "r3" was logged late: it
	// started before "r4" and is inserted after it.
	r1 := invocation("r1", a, "hello", store.StatusOK, at(0))
	r2 := invocation("r2", a, "other", store.StatusError, at(time.Second))
	r4 := invocation("r4", a, "hello", store.StatusOK, at(3*time.Second))
	rb := invocation("r5", b, "hello", store.StatusOK, at(4*time.Second))
	r3 := invocation("r3", a, "hello", store.StatusError, at(2*time.Second))
	r3.Request = &store.HTTPRequest{Method: "GET"}
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, []store.Invocation{r1, r2, r4, rb}))
	ok(t, "InsertInvocations", st.InsertInvocations(ctx, []store.Invocation{r3}))
	r3.Request = nil // lists leave it out

	for _, tc := range []struct {
		name string
		f    store.InvocationFilter
		want []store.Invocation
	}{
		{"after", store.InvocationFilter{AppID: a.ID, After: "r1"}, []store.Invocation{r2, r3, r4}},
		{"after with limit", store.InvocationFilter{AppID: a.ID, After: "r1", Limit: 2}, []store.Invocation{r2, r3}},
		{"after the last", store.InvocationFilter{AppID: a.ID, After: "r4"}, []store.Invocation{}},
		{"after before all", store.InvocationFilter{AppID: a.ID, After: "0"}, []store.Invocation{r1, r2, r3, r4}},
		{"after every app", store.InvocationFilter{After: "r3"}, []store.Invocation{r4, rb}},
		{"after with script", store.InvocationFilter{AppID: a.ID, Script: "hello", After: "r1"}, []store.Invocation{r3, r4}},
		{"after with status", store.InvocationFilter{AppID: a.ID, Status: store.StatusError, After: "r2"}, []store.Invocation{r3}},
		{"ids", store.InvocationFilter{AppID: a.ID, IDs: []string{"r3", "r1", "nope"}}, []store.Invocation{r3, r1}},
		{"ids of another app", store.InvocationFilter{AppID: a.ID, IDs: []string{"r5"}}, []store.Invocation{}},
		{"ids with status", store.InvocationFilter{AppID: a.ID, Status: store.StatusOK, IDs: []string{"r1", "r2", "r3", "r4"}},
			[]store.Invocation{r4, r1}},
		{"no ids", store.InvocationFilter{AppID: a.ID, IDs: []string{}}, []store.Invocation{}},
		{"ids and after", store.InvocationFilter{AppID: a.ID, IDs: []string{"r1", "r3", "r4"}, After: "r1"}, []store.Invocation{r3, r4}},
	} {
		list, err := st.ListInvocations(ctx, tc.f)
		ok(t, "ListInvocations "+tc.name, err)
		check(t, "ListInvocations "+tc.name, list, tc.want)
	}
}
