package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Spec is a parsed cron expression in a time zone.
type Spec struct {
	sched *cron.SpecSchedule
}

// shortcuts are the @-expressions accepted, as in crontab(5). @every and
// @reboot are not: the first is no calendar time, the second no time at
// all.
var shortcuts = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true,
}

// ParseSpec parses a standard five-field cron expression (minute, hour,
// day of month, month, day of week, with ranges, lists, steps and names)
// or a shortcut such as @hourly, to be read in the IANA time zone zone
// ("" is UTC). Its error describes what is wrong, for the user.
func ParseSpec(expr, zone string) (*Spec, error) {
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		return nil, errors.New("the cron expression is empty")
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return nil, errors.New("the cron expression cannot set a time zone; use the timezone field")
	case strings.HasPrefix(expr, "@") && !shortcuts[expr]:
		return nil, fmt.Errorf("unknown shortcut %q: use @yearly, @monthly, @weekly, @daily or @hourly", expr)
	}
	loc, err := LoadZone(zone)
	if err != nil {
		return nil, err
	}
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %v", expr, err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok { // only @every gives another type, and it is refused above
		return nil, fmt.Errorf("invalid cron expression %q", expr)
	}
	spec.Location = loc
	return &Spec{sched: spec}, nil
}

// LoadZone loads an IANA time zone; "" is UTC. "Local" is refused: a
// schedule must not change meaning with the server's settings.
func LoadZone(zone string) (*time.Location, error) {
	switch zone {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		return nil, errors.New(`time zone "Local" is not allowed; name an IANA zone such as Europe/Paris`)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Europe/Paris or America/New_York", zone)
	}
	return loc, nil
}

// Next returns the first due time strictly after t, in UTC, or the zero
// time when there is none within five years (an expression such as
// "0 0 30 2 *" never fires).
func (s *Spec) Next(t time.Time) time.Time {
	n := s.sched.Next(t)
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

// lookback are the windows searched, shortest first, for the latest due
// time before now after a long downtime.
var lookback = []time.Duration{
	time.Minute, time.Hour, 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 366 * 24 * time.Hour,
}

// Latest returns the last due time of s at or before now, starting from
// due, the earliest one not yet fired (due must not be after now), and
// whether it passed over earlier ones. After a long downtime it looks back
// from now over growing windows, so that a year of missed minutes costs a
// few steps rather than half a million.
func (s *Spec) Latest(due, now time.Time) (time.Time, bool) {
	fire := due
	next := s.Next(fire)
	if next.IsZero() || next.After(now) {
		return fire, false
	}
	fire = next
	for _, w := range lookback {
		from := now.Add(-w)
		if !from.After(fire) {
			break
		}
		if c := s.Next(from); !c.IsZero() && !c.After(now) {
			fire = c
			break
		}
	}
	for {
		next := s.Next(fire)
		if next.IsZero() || next.After(now) {
			return fire, true
		}
		fire = next
	}
}
