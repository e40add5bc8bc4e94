package scheduler

import (
	"strings"
	"testing"
	"time"
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
	} {
		got, skipped := tc.spec.Latest(tc.due, tc.now)
		if !got.Equal(tc.want) || skipped != tc.skipped {
			t.Errorf("%s: Latest = %v, %v; want %v, %v", tc.name, got, skipped, tc.want, tc.skipped)
		}
	}
}
