package scheduler

import (
	"strings"
	"testing"
	"time"
	// The zones the tests use, whatever the system has.
	_ "time/tzdata"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		expr, zone string
		err        string // "" when valid
	}{
		{"*/5 * * * *", "", ""},
		{"0 9 * * MON-FRI", "Europe/Paris", ""},
		{"30 2 * * *", "America/New_York", ""},
		{"0 0 1 jan *", "UTC", ""},
		{"@hourly", "", ""},
		{"@daily", "Asia/Kolkata", ""},
		{"@yearly", "", ""},
		{"  15 * * * *  ", "", ""},
		{"", "", "empty"},
		{"* * * *", "", "invalid cron expression"},
		{"* * * * * *", "", "invalid cron expression"},
		{"61 * * * *", "", "invalid cron expression"},
		{"* 24 * * *", "", "invalid cron expression"},
		{"every minute", "", "invalid cron expression"},
		{"@every 1m", "", "unknown shortcut"},
		{"@reboot", "", "unknown shortcut"},
		{"TZ=UTC * * * * *", "", "timezone field"},
		{"CRON_TZ=Europe/Paris 0 * * * *", "", "timezone field"},
		{"* * * * *", "Mars/Olympus_Mons", "unknown time zone"},
		{"* * * * *", "Local", "not allowed"},
		{"* * * * *", "europe/paris", "unknown time zone"},
	} {
		_, err := ParseSpec(tc.expr, tc.zone)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseSpec(%q, %q): %v", tc.expr, tc.zone, err)
		case tc.err != "" && err == nil:
			t.Errorf("ParseSpec(%q, %q) succeeded, want an error with %q", tc.expr, tc.zone, tc.err)
		case tc.err != "" && !strings.Contains(err.Error(), tc.err):
			t.Errorf("ParseSpec(%q, %q): %v, want it to mention %q", tc.expr, tc.zone, err, tc.err)
		}
	}
}

func TestSpecNextInZone(t *testing.T) {
	s, err := ParseSpec("0 9 * * *", "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
	for _, tc := range []struct{ from, want time.Time }{
		{time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC), time.Date(2025, 1, 11, 8, 0, 0, 0, time.UTC)},
		{time.Date(2025, 7, 10, 12, 0, 0, 0, time.UTC), time.Date(2025, 7, 11, 7, 0, 0, 0, time.UTC)},
	} {
		got := s.Next(tc.from)
		if !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("Next(%v) = %v, want %v in UTC", tc.from, got, tc.want)
		}
	}
	never, err := ParseSpec("0 0 30 2 *", "")
	if err != nil {
		t.Fatal(err)
	}
	if n := never.Next(time.Now()); !n.IsZero() {
		t.Errorf("Next of February 30 = %v, want zero", n)
	}
}

func TestLatest(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	every5, _ := ParseSpec("*/5 * * * *", "")
	minutely, _ := ParseSpec("* * * * *", "")
	daily, _ := ParseSpec("0 3 * * *", "")
	yearly, _ := ParseSpec("@yearly", "")
	ny0230, _ := ParseSpec("30 2 * * *", "America/New_York")
	for _, tc := range []struct {
		name     string
		spec     *Spec
		due, now time.Time
		want     time.Time
		skipped  bool
	}{
		{"on time", every5, t0, t0, t0, false},
		{"a little late", every5, t0, t0.Add(4 * time.Minute), t0, false},
		{"one missed", every5, t0, t0.Add(5 * time.Minute), t0.Add(5 * time.Minute), true},
		{"hours missed", every5, t0, t0.Add(3*time.Hour + 2*time.Minute), t0.Add(3 * time.Hour), true},
		{"a year of minutes", minutely, t0, t0.AddDate(1, 0, 0).Add(30 * time.Second), t0.AddDate(1, 0, 0), true},
		{"days", daily, time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC), time.Date(2025, 6, 9, 2, 0, 0, 0, time.UTC),
			time.Date(2025, 6, 8, 3, 0, 0, 0, time.UTC), true},
		{"years", yearly, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), true},
		// Down from before New York's spring-forward day (02:30 fires at
		// 03:30 EDT, 07:30Z) to the next morning: the latest is 10 March
		// 02:30 EDT, 06:30Z.
		{"over a DST gap", ny0230, time.Date(2025, 3, 9, 7, 30, 0, 0, time.UTC), time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC),
			time.Date(2025, 3, 10, 6, 30, 0, 0, time.UTC), true},
		{"the gap time itself", ny0230, time.Date(2025, 3, 8, 7, 30, 0, 0, time.UTC), time.Date(2025, 3, 9, 7, 45, 0, 0, time.UTC),
			time.Date(2025, 3, 9, 7, 30, 0, 0, time.UTC), true},
	} {
		got, skipped := tc.spec.Latest(tc.due, tc.now)
		if !got.Equal(tc.want) || skipped != tc.skipped {
			t.Errorf("%s: Latest = %v, %v; want %v, %v", tc.name, got, skipped, tc.want, tc.skipped)
		}
	}
}

// TestNextAcrossDST checks the due times around the days clocks change,
// against instants worked out by hand from the zones' rules (the local
// reading is in each comment):
//
//   - America/New_York, 2025: on 9 March 02:00 EST (UTC−5) becomes
//     03:00 EDT (UTC−4), at 07:00Z; on 2 November 02:00 EDT becomes
//     01:00 EST, at 06:00Z.
//   - Australia/Sydney, 2025: on 6 April 03:00 AEDT (UTC+11) becomes
//     02:00 AEST (UTC+10), at 5 April 16:00Z; on 5 October 02:00 AEST
//     becomes 03:00 AEDT, at 4 October 16:00Z.
//   - America/Santiago, 2025: on 6 April 00:00 (UTC−3) becomes 5 April
//     23:00 (UTC−4), at 03:00Z; on 7 September 00:00 (UTC−4) becomes
//     01:00 (UTC−3), at 04:00Z: a change at midnight.
func TestNextAcrossDST(t *testing.T) {
	for _, tc := range []struct {
		name, cron, zone string
		from             string   // UTC
		want             []string // UTC
	}{
		// A fixed hour follows the wall clock.
		{"NY spring, 02:30 is in the gap: 03:30 EDT", "30 2 * * *", "America/New_York", "2025-03-07T17:00:00Z", []string{
			"2025-03-08T07:30:00Z", // 02:30 EST
			"2025-03-09T07:30:00Z", // 03:30 EDT: 02:30 read as EST, shifted by the hour skipped
			"2025-03-10T06:30:00Z", // 02:30 EDT
			"2025-03-11T06:30:00Z", // 02:30 EDT
		}},
		{"NY spring, times outside the gap", "0 1,3 * * *", "America/New_York", "2025-03-08T12:00:00Z", []string{
			"2025-03-09T06:00:00Z", // 01:00 EST
			"2025-03-09T07:00:00Z", // 03:00 EDT
			"2025-03-10T05:00:00Z", // 01:00 EDT
			"2025-03-10T07:00:00Z", // 03:00 EDT
		}},
		{"NY spring, gap times landing on later ones fire once", "15,45 2,3 * * *", "America/New_York", "2025-03-09T00:00:00Z", []string{
			"2025-03-09T07:15:00Z", // 02:15 → 03:15 EDT, and 03:15 EDT itself
			"2025-03-09T07:45:00Z", // 02:45 → 03:45 EDT, and 03:45 EDT itself
			"2025-03-10T06:15:00Z", // 02:15 EDT
			"2025-03-10T06:45:00Z", // 02:45 EDT
			"2025-03-10T07:15:00Z", // 03:15 EDT
		}},
		{"NY fall, 01:30 twice: the first only", "30 1 * * *", "America/New_York", "2025-11-01T16:00:00Z", []string{
			"2025-11-02T05:30:00Z", // 01:30 EDT (not 06:30Z, 01:30 EST)
			"2025-11-03T06:30:00Z", // 01:30 EST
			"2025-11-04T06:30:00Z", // 01:30 EST
		}},
		{"NY fall, the repeated hour every 20 minutes", "*/20 1 * * *", "America/New_York", "2025-11-02T04:00:00Z", []string{
			"2025-11-02T05:00:00Z", // 01:00 EDT
			"2025-11-02T05:20:00Z", // 01:20 EDT
			"2025-11-02T05:40:00Z", // 01:40 EDT; 01:00–01:40 EST do not fire again
			"2025-11-03T06:00:00Z", // 01:00 EST, the next day
		}},
		{"NY fall, 02:30 once", "30 2 * * *", "America/New_York", "2025-10-31T16:00:00Z", []string{
			"2025-11-01T06:30:00Z", // 02:30 EDT
			"2025-11-02T07:30:00Z", // 02:30 EST
			"2025-11-03T07:30:00Z", // 02:30 EST
		}},
		{"Sydney April, 02:30 twice: the first only", "30 2 * * *", "Australia/Sydney", "2025-04-04T00:00:00Z", []string{
			"2025-04-04T15:30:00Z", // 5 April 02:30 AEDT
			"2025-04-05T15:30:00Z", // 6 April 02:30 AEDT (not 16:30Z, 02:30 AEST)
			"2025-04-06T16:30:00Z", // 7 April 02:30 AEST
		}},
		{"Sydney October, 02:30 is in the gap: 03:30 AEDT", "30 2 * * *", "Australia/Sydney", "2025-10-03T00:00:00Z", []string{
			"2025-10-03T16:30:00Z", // 4 October 02:30 AEST
			"2025-10-04T16:30:00Z", // 5 October 03:30 AEDT
			"2025-10-05T15:30:00Z", // 6 October 02:30 AEDT
		}},
		{"Santiago September, midnight is in the gap", "@daily", "America/Santiago", "2025-09-05T12:00:00Z", []string{
			"2025-09-06T04:00:00Z", // 6 September 00:00 −04
			"2025-09-07T04:00:00Z", // 7 September 01:00 −03
			"2025-09-08T03:00:00Z", // 8 September 00:00 −03
		}},
		{"Santiago April, 23:30 twice: the first only", "30 23 * * *", "America/Santiago", "2025-04-05T12:00:00Z", []string{
			"2025-04-06T02:30:00Z", // 5 April 23:30 −03 (not 03:30Z, 23:30 −04)
			"2025-04-07T03:30:00Z", // 6 April 23:30 −04
		}},

		// Every hour follows elapsed time: no gap, nothing twice.
		{"NY spring, every 15 minutes", "*/15 * * * *", "America/New_York", "2025-03-09T06:20:00Z", []string{
			"2025-03-09T06:30:00Z", // 01:30 EST
			"2025-03-09T06:45:00Z", // 01:45 EST
			"2025-03-09T07:00:00Z", // 03:00 EDT
			"2025-03-09T07:15:00Z", // 03:15 EDT
		}},
		{"NY fall, every 15 minutes", "*/15 * * * *", "America/New_York", "2025-11-02T05:20:00Z", []string{
			"2025-11-02T05:30:00Z", // 01:30 EDT
			"2025-11-02T05:45:00Z", // 01:45 EDT
			"2025-11-02T06:00:00Z", // 01:00 EST
			"2025-11-02T06:15:00Z", // 01:15 EST
			"2025-11-02T06:30:00Z", // 01:30 EST
			"2025-11-02T06:45:00Z", // 01:45 EST
			"2025-11-02T07:00:00Z", // 02:00 EST
		}},
		{"NY spring, hourly", "@hourly", "America/New_York", "2025-03-09T05:30:00Z", []string{
			"2025-03-09T06:00:00Z", // 01:00 EST
			"2025-03-09T07:00:00Z", // 03:00 EDT
			"2025-03-09T08:00:00Z", // 04:00 EDT
		}},
		{"NY fall, at 30 past every hour", "30 * * * *", "America/New_York", "2025-11-02T05:00:00Z", []string{
			"2025-11-02T05:30:00Z", // 01:30 EDT
			"2025-11-02T06:30:00Z", // 01:30 EST
			"2025-11-02T07:30:00Z", // 02:30 EST
		}},
		{"Sydney April, every 30 minutes", "*/30 * * * *", "Australia/Sydney", "2025-04-05T14:40:00Z", []string{
			"2025-04-05T15:00:00Z", // 02:00 AEDT
			"2025-04-05T15:30:00Z", // 02:30 AEDT
			"2025-04-05T16:00:00Z", // 02:00 AEST
			"2025-04-05T16:30:00Z", // 02:30 AEST
			"2025-04-05T17:00:00Z", // 03:00 AEST
		}},
		{"Sydney October, every 30 minutes", "*/30 * * * *", "Australia/Sydney", "2025-10-04T15:10:00Z", []string{
			"2025-10-04T15:30:00Z", // 01:30 AEST
			"2025-10-04T16:00:00Z", // 03:00 AEDT
			"2025-10-04T16:30:00Z", // 03:30 AEDT
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSpec(tc.cron, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			at := mustTime(t, tc.from)
			for i, w := range tc.want {
				want := mustTime(t, w)
				got := s.Next(at)
				if !got.Equal(want) || got.Location() != time.UTC {
					t.Fatalf("due time %d after %s: %v, want %v", i+1, at.Format(time.RFC3339), got, want)
				}
				at = got
			}
		})
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
