package store

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	bounds := []float64{10, 20, 50}
	for _, tc := range []struct {
		name string
		hist []int64
		p    float64
		want float64
	}{
		{"empty", []int64{0, 0, 0, 0}, 50, 0},
		{"one in the first", []int64{1, 0, 0, 0}, 99, 10},
		{"median of the first", []int64{4, 0, 0, 0}, 50, 5},
		{"second bucket", []int64{5, 5, 0, 0}, 90, 18},
		{"third bucket", []int64{0, 0, 2, 0}, 50, 35},
		{"unbounded bucket", []int64{1, 0, 0, 9}, 50, 50},
		{"p100", []int64{3, 1, 0, 0}, 100, 20},
	} {
		if got := Percentile(bounds, tc.hist, tc.p); got != tc.want {
			t.Errorf("%s: Percentile(%v, %v) = %v, want %v", tc.name, tc.hist, tc.p, got, tc.want)
		}
	}
}

func TestBucket(t *testing.T) {
	for v, want := range map[float64]int{0: 0, 1: 0, 1.5: 1, 3: 2, 30000: 13, 30001: 14} {
		if got := Bucket(DurationBounds, v); got != want {
			t.Errorf("Bucket(%v) = %d, want %d", v, got, want)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	for _, tc := range []struct {
		status string
		http   int
		want   Outcome
	}{
		{StatusOK, 200, OutcomeOK},
		{StatusOK, 302, OutcomeOK},
		{StatusOK, 404, OutcomeClientError},
		{StatusOK, 503, OutcomeServerError},
		{StatusError, 500, OutcomeServerError},
		{StatusTimeout, 504, OutcomeTimeout},
		{StatusLimit, 429, OutcomeLimit},
	} {
		if got := OutcomeOf(Invocation{Status: tc.status, HTTPStatus: tc.http}); got != tc.want {
			t.Errorf("OutcomeOf(%s, %d) = %d, want %d", tc.status, tc.http, got, tc.want)
		}
	}
}

func TestStatsStep(t *testing.T) {
	if StepMinute.Duration() != time.Minute || StepHour.Duration() != time.Hour || StatsStep("day").Duration() != 0 {
		t.Error("StatsStep.Duration: wrong spans")
	}
}
