package orchestrator

import (
	"github.com/picloud/picloud/internal/events"
	"github.com/picloud/picloud/internal/store"
)

// announce publishes, once records are written, which ones were, app by
// app (events.InvocationsLogged): live log streams (GET
// /api/v1/apps/{slug}/logs/stream) then read them from the store. It runs
// after each batch of the log writer, and after each job's attempt, never
// on the request path; with no bus there is nobody to tell.
func (o *Orchestrator) announce(invs []store.Invocation) {
	if o.bus == nil || len(invs) == 0 {
		return
	}
	var (
		slugs []string // in order of first appearance
		ids   = map[string][]string{}
	)
	for _, inv := range invs {
		if _, ok := ids[inv.AppSlug]; !ok {
			slugs = append(slugs, inv.AppSlug)
		}
		ids[inv.AppSlug] = append(ids[inv.AppSlug], inv.ID)
	}
	for _, slug := range slugs {
		for _, e := range events.InvocationsLoggedEvents(slug, ids[slug]) {
			o.bus.Publish(e)
		}
	}
}
