package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/client"
	"github.com/picloud/picloud/internal/store/dbtest"
)

func TestAudit(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, testAudit)
}

func testAudit(t *testing.T, b dbtest.Backend) {
	t.Parallel()
	srv := shared(t, b)
	app := newApp(t, srv)
	sh := admin(t, srv)
	editor, name, _ := newUser(t, srv, "member")
	if _, _, err := sh.api().PutMember(context.Background(), app, name, "editor"); err != nil {
		t.Fatal(err)
	}
	const value = "audit-s3cr3t-value"
	if r := editor.runIn(value, "secrets", "set", app, "TOKEN"); r.code != 0 {
		t.Fatalf("set: %v", r)
	}

	got := rows(editor.ok("audit", "--app", app))
	want := []string{"TIME", "ACTOR", "ADDRESS", "ACTION", "APP", "OBJECT", "OUTCOME", "REASON"}
	if len(got) != 4 || strings.Join(got[0], " ") != strings.Join(want, " ") {
		t.Fatalf("audit --app: %q", got)
	}
	if r := got[1]; !isRFC3339(r[0]) || r[1] != name || r[3] != "secret.put" || r[4] != app || r[5] != "TOKEN" || r[6] != "ok" || r[7] != "-" {
		t.Errorf("the secret's row: %q", r)
	}
	if r := got[2]; r[1] != "admin" || r[3] != "member.put" || r[5] != name {
		t.Errorf("the member's row: %q", r)
	}
	if r := got[3]; r[1] != "admin" || r[3] != "app.create" || r[5] != app {
		t.Errorf("the app's row: %q", r)
	}

	var entries []client.AuditEntry
	out := sh.ok("audit", "--app", app, "--actor", name, "--since", "1h", "-o", "json")
	if strings.Contains(out, value) {
		t.Fatalf("the secret's value is in the audit log: %s", out)
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil || len(entries) != 1 || entries[0].Action != "secret.put" {
		t.Fatalf("audit -o json (%v): %s", err, out)
	}

	editor.fails(1, "error: HTTP 403: ", "audit")
	sh.fails(1, "error: HTTP 422: invalid since", "audit", "--since", "yesterday")
	sh.fails(2, "Usage: pic audit", "audit", "extra")
}
