package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Invocation is the log record of one run of a script.
type Invocation struct {
	ID         string    `json:"id"`
	App        string    `json:"app"`
	Script     string    `json:"script"`
	Version    int       `json:"version"`
	Trigger    string    `json:"trigger"` // "http", "schedule" or "async"
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	Status     string    `json:"status"` // "ok", "error", "timeout" or "limit"
	HTTPStatus int       `json:"http_status"`
	Operations int64     `json:"operations"`
	Summary    string    `json:"summary"`
	Output     *string   `json:"output,omitempty"` // only when one record is shown
	// JobID and Attempt tie the record of a job's attempt to the job;
	// records of HTTP requests have neither.
	JobID   string `json:"job_id,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	// Request and Response are the recorded HTTP exchange of an http,
	// async or replay run; only when one record is shown, and only for
	// records that have one.
	Request  *RecordedRequest  `json:"request,omitempty"`
	Response *RecordedResponse `json:"response,omitempty"`
	// Journal is the run's effect journal; only when one record is
	// shown, and only for records that have one.
	Journal *Journal `json:"journal,omitempty"`
}

// Job is a job of the durable queue — an async invocation or a schedule's
// firing — shown as a log record: Status is its state ("queued",
// "running", "error", "ok" or "dead"), StartedAt when it was queued, and
// the other fields of Invocation are those of its latest attempt.
type Job struct {
	Invocation
	Attempts         int        `json:"attempts"`
	MaxAttempts      int        `json:"max_attempts"`
	NextAttemptAt    *time.Time `json:"next_attempt_at"`    // while queued or awaiting a retry
	LastInvocationID *string    `json:"last_invocation_id"` // null before the first attempt
	ScheduleID       *int64     `json:"schedule_id,omitempty"`
	ScheduledAt      *time.Time `json:"scheduled_at,omitempty"`
	// Invocations are the records of its attempts, newest first; only
	// when one job is shown.
	Invocations *[]Invocation `json:"invocations,omitempty"`
}

// LogEntry is what GET /api/v1/logs/{id} answers: the record of one run
// or, for the id of a job (what an async request or a schedule's firing
// gets), the job. Exactly one of Record and Job is set.
type LogEntry struct {
	Record *Invocation
	Job    *Job
}

// UnmarshalJSON tells a job, which always has "max_attempts", from a
// record.
func (e *LogEntry) UnmarshalJSON(b []byte) error {
	var probe struct {
		MaxAttempts *int `json:"max_attempts"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	*e = LogEntry{}
	if probe.MaxAttempts != nil {
		e.Job = &Job{}
		return json.Unmarshal(b, e.Job)
	}
	e.Record = &Invocation{}
	return json.Unmarshal(b, e.Record)
}

// MarshalJSON writes the record or the job.
func (e LogEntry) MarshalJSON() ([]byte, error) {
	switch {
	case e.Job != nil:
		return json.Marshal(e.Job)
	case e.Record != nil:
		return json.Marshal(e.Record)
	}
	return nil, errors.New("api: an empty log entry")
}

// RecordedBody is a recorded body: Body when it is UTF-8 text, otherwise
// BodyBase64 with Body null; BodyTruncated when only its first bytes were
// kept.
type RecordedBody struct {
	Body          *string `json:"body"`
	BodyBase64    *string `json:"body_base64,omitempty"`
	BodySize      int     `json:"body_size"`
	BodyTruncated bool    `json:"body_truncated"`
}

// Bytes returns the body's bytes, decoded from base64 when it is binary.
func (b RecordedBody) Bytes() []byte {
	switch {
	case b.Body != nil:
		return []byte(*b.Body)
	case b.BodyBase64 != nil:
		raw, err := base64.StdEncoding.DecodeString(*b.BodyBase64)
		if err == nil {
			return raw
		}
	}
	return nil
}

// RecordedRequest is the HTTP request an invocation answered, without
// the headers that carry credentials. Headers is an object, never null.
type RecordedRequest struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Host    string      `json:"host"`
	Headers http.Header `json:"headers"`
	RecordedBody
}

// RecordedResponse is the response an invocation gave (the status alone
// for a failed run). Headers is an object, never null.
type RecordedResponse struct {
	Status  int         `json:"status"`
	Headers http.Header `json:"headers"`
	RecordedBody
}

// ReplayRequest is the body of POST /api/v1/logs/{id}/replay; it may be
// empty.
type ReplayRequest struct {
	// Version is the script version to run; 0 runs the live one.
	Version int `json:"version,omitempty"`
	// Force replays a request whose body was cut when it was recorded,
	// with the part that was kept.
	Force bool `json:"force,omitempty"`
}

// ReplaySide is one of the two responses of a replay: the original or
// the replay.
type ReplaySide struct {
	InvocationID string `json:"invocation_id"`
	Version      int    `json:"version"`
	// Outcome is the run's status label (ok, error, timeout, limit);
	// Status is the HTTP status.
	Outcome    string  `json:"outcome"`
	Summary    string  `json:"summary"`
	DurationMS float64 `json:"duration_ms"`
	RecordedResponse
}

// Replay answers a replay: the recorded response and the replay's.
type Replay struct {
	Original ReplaySide `json:"original"`
	Replay   ReplaySide `json:"replay"`
	// Identical: the same status, headers and body.
	Identical bool `json:"identical"`
}

// Queued answers an async invocation (202): the id to follow it by.
type Queued struct {
	InvocationID string `json:"invocation_id"`
	Status       string `json:"status"` // "queued"
}
