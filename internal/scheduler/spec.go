package scheduler

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Spec is a parsed cron expression in a time zone.
//
// Its due times follow one of two readings of the expression, which differ
// only around a daylight-saving change (see docs/events.md):
//
//   - the wall clock, when the hour field names particular hours
//     ("30 2 * * *", "0 9-17 * * MON-FRI", @daily): each matching local date
//     and time fires once. A time that does not exist that day (the hour
//     skipped when clocks go forward) fires at the same time read with the
//     offset in force before the change, that is shifted forward by the
//     length of the gap (02:30 → 03:30); a time that exists twice (the hour
//     repeated when clocks go back) fires at its first occurrence only.
//     This is how RFC 5545 (iCalendar) resolves such times, as do
//     java.time, Python's zoneinfo and PostgreSQL.
//   - elapsed time, when the hour field is every hour ("*/15 * * * *",
//     "5 * * * *", @hourly): every instant whose local reading matches
//     fires, so the schedule keeps its real-time rhythm through both
//     changes, with no gap and no instant fired twice. The cron library
//     computes these.
type Spec struct {
	sched *cron.SpecSchedule
	loc   *time.Location
	// wall is true when the hour field names particular hours: due
	// times are then read on the wall clock.
	wall bool
}

// Bits of a robfig/cron SpecSchedule field.
const (
	allHours = 1<<24 - 1 // hours 0 to 23
	starBit  = 1 << 63   // the field was written "*" (as the cron package marks it)
)

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
	return &Spec{sched: spec, loc: loc, wall: spec.Hour&allHours != allHours}, nil
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
	if s.wall {
		return s.nextWall(t)
	}
	n := s.sched.Next(t)
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

// nextWall is Next on the wall clock: it resolves every matching local
// date and time of the days around t to an instant (resolve) and returns
// the earliest after t. Resolved times are not in the order of the wall
// times (02:30 resolves after 03:15 on the day 02:00–03:00 is skipped),
// so the days after the first that has one are searched too.
func (s *Spec) nextWall(t time.Time) time.Time {
	after := t.Unix() // whole seconds: a due time u is after t iff u > ⌊t⌋
	local := t.In(s.loc)
	// Two days back: a wall time of an earlier day can resolve after t
	// when a gap shifts it forward, by at most a day (Samoa skipped
	// 30 December 2011).
	day := time.Date(local.Year(), local.Month(), local.Day()-2, 0, 0, 0, 0, time.UTC)
	limit := day.AddDate(5, 0, 3)
	var best int64
	var stop time.Time // once a due time is found: the last day that could hold an earlier one
	for day.Before(limit) && (stop.IsZero() || !day.After(stop)) {
		if 1<<uint(day.Month())&s.sched.Month == 0 {
			day = time.Date(day.Year(), day.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if s.dayMatches(day) {
			w0 := day.Unix() // the day's midnight, as wall-clock seconds
			zone := zonePeriods(s.loc, w0-86400, w0+2*86400)
			for h := int64(0); h < 24; h++ {
				if 1<<uint(h)&s.sched.Hour == 0 {
					continue
				}
				for m := int64(0); m < 60; m++ {
					if 1<<uint(m)&s.sched.Minute == 0 {
						continue
					}
					u := zone.resolve(w0 + h*3600 + m*60)
					if u > after && (stop.IsZero() || u < best) {
						if stop.IsZero() {
							stop = day.AddDate(0, 0, 2)
						}
						best = u
					}
				}
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	if stop.IsZero() {
		return time.Time{}
	}
	return time.Unix(best, 0).UTC()
}

// dayMatches reports whether the calendar date day (in UTC) matches the
// day-of-month and day-of-week fields, as in cron: when both are
// restricted, either may match.
func (s *Spec) dayMatches(day time.Time) bool {
	dom := 1<<uint(day.Day())&s.sched.Dom != 0
	dow := 1<<uint(day.Weekday())&s.sched.Dow != 0
	if s.sched.Dom&starBit != 0 || s.sched.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// zone is the run of a time zone's periods of constant offset that covers
// a span of instants, in order.
type zone []period

// period is a span [start, end) of Unix seconds with one UTC offset.
type period struct {
	start, end int64 // math.MinInt64 / math.MaxInt64 when unbounded
	offset     int64 // seconds east of UTC
}

// zonePeriods returns the periods of loc that cover the instants from
// from to to (Unix seconds).
func zonePeriods(loc *time.Location, from, to int64) zone {
	var z zone
	for at := from; ; {
		t := time.Unix(at, 0).In(loc)
		_, off := t.Zone()
		start, end := t.ZoneBounds()
		p := period{start: math.MinInt64, end: math.MaxInt64, offset: int64(off)}
		if !start.IsZero() {
			p.start = start.Unix()
		}
		if !end.IsZero() {
			p.end = end.Unix()
		}
		z = append(z, p)
		if p.end > to || p.end <= at {
			return z
		}
		at = p.end
	}
}

// resolve returns the instant of the wall-clock time w (local date and
// time as Unix seconds, as if it were UTC): its only instant, the first
// of two when clocks went back over it, or, when clocks went forward over
// it, w read with the offset before the gap — later than the gap's start
// by as much as w is.
func (z zone) resolve(w int64) int64 {
	var first int64
	found := false
	for _, p := range z {
		if u := w - p.offset; u >= p.start && u < p.end && (!found || u < first) {
			first, found = u, true
		}
	}
	if found {
		return first
	}
	for i := 0; i+1 < len(z); i++ {
		change := z[i].end
		if w >= change+z[i].offset && w < change+z[i+1].offset {
			return w - z[i].offset
		}
	}
	// Not reached: z covers a day on either side of w.
	return w - z[0].offset
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
