package manager

import (
	"time"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/store"
)

// The API's JSON shapes are package api's, which the client reads too;
// these functions build them from the store's records, which never go out
// as they are, so a hash or an internal field cannot leak by accident.

// utc is t as the API shows it: in UTC, to the second, so that it encodes
// as RFC 3339 without fractions.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// optionalTime is utc, or null for the zero time.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// roleLabel is how a global role reads to a person.
func roleLabel(role string) string {
	switch role {
	case store.RoleAdmin:
		return "Administrator"
	case store.RoleMember:
		return "Member"
	}
	return role
}

func toUser(u store.User) api.User {
	return api.User{ID: u.ID, Username: u.Username, Role: u.Role, RoleLabel: roleLabel(u.Role), CreatedAt: utc(u.CreatedAt)}
}

func toAPIKey(k store.APIKey) api.APIKey {
	return api.APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: utc(k.CreatedAt), LastUsedAt: optionalTime(k.LastUsed)}
}

// toApp converts the limits as a whole: api.AppLimits has the fields of
// store.AppLimits, so a limit added to one and not the other stops the
// build here rather than going missing from the API.
func toApp(a store.App) api.App {
	return api.App{ID: a.ID, Slug: a.Slug, Name: a.Name, Description: a.Description, Limits: api.AppLimits(a.Limits), CreatedAt: utc(a.CreatedAt),
		Outbound: toOutbound(a.Outbound)}
}

func toMember(m store.Member) api.Member {
	return api.Member{UserID: m.UserID, Username: m.Username, Role: m.Role, CreatedAt: utc(m.CreatedAt)}
}

func toScript(slug string, s store.Script) api.Script {
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = store.DefaultMaxAttempts
	}
	return api.Script{App: slug, Name: s.Name, LiveVersion: s.LiveVersion, MaxAttempts: maxAttempts, Endpoint: "/fn/" + slug + "/" + s.Name,
		CreatedAt: utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt), Visibility: visibilityName(s.Private)}
}

func toInvocation(inv store.Invocation, withOutput bool) api.Invocation {
	r := api.Invocation{ID: inv.ID, App: inv.AppSlug, Script: inv.Script, Version: inv.Version, Trigger: inv.Trigger,
		StartedAt: utc(inv.StartedAt), DurationMS: float64(inv.Duration.Microseconds()) / 1000,
		Status: inv.Status, HTTPStatus: inv.HTTPStatus, Operations: inv.Operations, Summary: inv.Summary,
		JobID: inv.JobID, Attempt: inv.Attempt}
	if withOutput {
		r.Output = &inv.Output
	}
	return r
}
