package cli

import (
	"context"

	"github.com/picloud/picloud/internal/client"
)

func auditCmd() *command {
	return &command{
		name:  "audit",
		args:  "[--app APP] [--actor USER] [--since WHEN] [--limit N]",
		short: "list the audit log of changes through the control plane, newest first",
		long: `'pic audit' lists who changed what, from which address, and how it
ended: ok, denied (403) or failed, with the reason. Administrators see
every entry; an app's editors see that app's, naming it with --app.
--since takes a time (2026-01-02T15:04:05Z) or a duration back from now
(24h). Secrets appear by name only, never by value.`,
		run: leaf(parseAudit, runAudit),
	}
}

// auditAPI is what 'pic audit' needs of the client.
type auditAPI interface {
	ListAudit(ctx context.Context, f client.AuditFilter) ([]client.AuditEntry, error)
}

var _ auditAPI = (*client.Client)(nil)

func parseAudit(p *pic, c *command, args []string) (client.AuditFilter, error) {
	var f client.AuditFilter
	fl := newFlags(c)
	fl.stringVar(&f.App, "app", "APP", "only this app's entries")
	fl.stringVar(&f.Actor, "actor", "USER", "only this user's entries")
	fl.stringVar(&f.Since, "since", "WHEN", "only entries since a time (RFC 3339) or a duration ago (24h)")
	fl.intVar(&f.Limit, "limit", "N", "at most N entries (1 to 1000; default 100)")
	if _, err := p.parse(c, fl, args, 0, 0); err != nil {
		return f, err
	}
	return f, nil
}

func runAudit(p *pic, api auditAPI, f client.AuditFilter) error {
	list, err := api.ListAudit(p.ctx, f)
	if err != nil {
		return err
	}
	return p.print(list, auditTable(list...))
}

// auditTable is the table of audit entries; the reason is the last column
// as it may hold spaces.
func auditTable(list ...client.AuditEntry) *table {
	t := newTable("TIME", "ACTOR", "ADDRESS", "ACTION", "APP", "OBJECT", "OUTCOME", "REASON")
	for _, e := range list {
		t.add(timeCell(e.At), dash(e.Actor), dash(e.Address), e.Action, dash(e.App), dash(e.ObjectName), e.Outcome, dash(e.Reason))
	}
	return t
}

// dash is s, or "-" for an empty cell.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
