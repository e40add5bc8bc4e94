package events

import "strings"

// maxInvocationsKey bounds the Key of one InvocationsLogged event, well
// within the 8000 bytes of a PostgreSQL notification's payload (which
// also carries the kind and the publisher's mark): a longer list of ids
// is split over several events.
const maxInvocationsKey = 4000

// InvocationsLoggedEvents returns the InvocationsLogged events that
// announce the records ids of the app slug: each Key is the slug and ids,
// separated by spaces.
func InvocationsLoggedEvents(slug string, ids []string) []Event {
	var (
		out []Event
		b   strings.Builder
	)
	for _, id := range ids {
		if b.Len() > 0 && b.Len()+1+len(id) > maxInvocationsKey {
			out = append(out, Event{Kind: InvocationsLogged, Key: b.String()})
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(slug)
		}
		b.WriteByte(' ')
		b.WriteString(id)
	}
	if b.Len() > 0 {
		out = append(out, Event{Kind: InvocationsLogged, Key: b.String()})
	}
	return out
}

// ParseInvocationsLogged splits the Key of an InvocationsLogged event
// into the app's slug and the ids of its records.
func ParseInvocationsLogged(key string) (slug string, ids []string) {
	slug, rest, _ := strings.Cut(key, " ")
	return slug, strings.Fields(rest)
}
