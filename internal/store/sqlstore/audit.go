package sqlstore

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/internal/store"
)

const auditColumns = "id, at, actor_id, actor, address, action, object_kind, object_name, app, outcome, reason, details"

// auditDefaultLimit and auditMaxLimit bound a ListAudit.
const (
	auditDefaultLimit = 100
	auditMaxLimit     = 1000
)

func scanAudit(row scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	var app *string
	if err := row.Scan(&e.ID, tm(&e.At), &e.ActorID, &e.Actor, &e.Address, &e.Action,
		&e.ObjectKind, &e.ObjectName, &app, &e.Outcome, &e.Reason, &e.Details); err != nil {
		return store.AuditEntry{}, err
	}
	if app != nil {
		e.App = *app
	}
	return e, nil
}

// InsertAudit appends e to the audit log, setting its ID and, when zero,
// its At.
func (s *Store) InsertAudit(ctx context.Context, e *store.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = s.d.ts(e.At)
	if e.Details == "" {
		e.Details = "{}"
	}
	var app any
	if e.App != "" {
		app = e.App
	}
	err := s.writeRow(ctx,
		`INSERT INTO audit (at, actor_id, actor, address, action, object_kind, object_name, app, outcome, reason, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.d.t(e.At), e.ActorID, e.Actor, e.Address, e.Action, e.ObjectKind, e.ObjectName, app, e.Outcome, e.Reason, e.Details,
	).Scan(&e.ID)
	if err != nil {
		return s.writeError(fmt.Sprintf("record audit entry %q", e.Action), err)
	}
	return nil
}

// ListAudit returns the audit entries f selects, newest first.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	text := `SELECT ` + auditColumns + ` FROM audit WHERE 1 = 1`
	var args []any
	if f.App != "" {
		text += ` AND app = ?`
		args = append(args, f.App)
	}
	if f.Actor != "" {
		text += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if !f.Since.IsZero() {
		text += ` AND at >= ?`
		args = append(args, s.d.t(f.Since))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = auditDefaultLimit
	}
	limit = min(limit, auditMaxLimit)
	text += fmt.Sprintf(` ORDER BY at DESC, id DESC LIMIT %d`, limit)
	return list(ctx, s, s.read, scanAudit, "list the audit log", text, args...)
}
