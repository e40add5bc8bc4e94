package storetest

import (
	"testing"

	"github.com/picloud/picloud/internal/store"
)

func testAudit(t *testing.T, st store.Store) {
	ctx := t.Context()
	list, err := st.ListAudit(ctx, store.AuditFilter{})
	ok(t, "ListAudit of an empty log", err)
	if list == nil || len(list) != 0 {
		t.Fatalf("ListAudit = %#v, want empty", list)
	}
	entries := []store.AuditEntry{
		{At: at(0), ActorID: 1, Actor: "ann", Address: "192.0.2.1", Action: "app.create", ObjectKind: "app", ObjectName: "shop",
			App: "shop", Outcome: store.AuditOK, Details: `{"status":201}`},
		{At: at(1e9), Actor: "mallory", Address: "2001:db8::1", Action: "auth.login", ObjectKind: "session",
			ObjectName: "mallory", Outcome: store.AuditFailed, Reason: "invalid username or password"},
		{At: at(2e9), ActorID: 2, Actor: "bob", Action: "secret.put", ObjectKind: "secret", ObjectName: "TOKEN",
			App: "shop", Outcome: store.AuditDenied, Reason: "needs an editor"},
	}
	for i := range entries {
		ok(t, "InsertAudit", st.InsertAudit(ctx, &entries[i]))
		if entries[i].ID == 0 {
			t.Fatalf("InsertAudit set no ID: %+v", entries[i])
		}
	}
	// Details default to an empty object.
	entries[1].Details = "{}"

	list, err = st.ListAudit(ctx, store.AuditFilter{})
	ok(t, "ListAudit", err)
	check(t, "ListAudit newest first", list, []store.AuditEntry{entries[2], entries[1], entries[0]})

	for _, c := range []struct {
		name string
		f    store.AuditFilter
		want []store.AuditEntry
	}{
		{"app", store.AuditFilter{App: "shop"}, []store.AuditEntry{entries[2], entries[0]}},
		{"actor", store.AuditFilter{Actor: "mallory"}, []store.AuditEntry{entries[1]}},
		{"since", store.AuditFilter{Since: at(1e9)}, []store.AuditEntry{entries[2], entries[1]}},
		{"limit", store.AuditFilter{Limit: 1}, []store.AuditEntry{entries[2]}},
		{"all of them", store.AuditFilter{App: "shop", Actor: "ann", Since: at(0), Limit: 5}, []store.AuditEntry{entries[0]}},
		{"none", store.AuditFilter{App: "blog"}, []store.AuditEntry{}},
	} {
		list, err := st.ListAudit(ctx, c.f)
		ok(t, "ListAudit by "+c.name, err)
		check(t, "ListAudit by "+c.name, list, c.want)
	}
}
