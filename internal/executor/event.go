package executor

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// Event is what triggers a run: an HTTP request, a job of the async queue
// (which carries the HTTP request it was made from), or a schedule's due
// time. The script sees it as the variables `event` and `request`.
type Event struct {
	App    string // the app's slug, seen by the script as `app`
	Script string // the script's name, seen as `script`
	// AppID is the app's id, which keys its data (the kv module).
	AppID int64 `json:"app_id,omitempty"`
	// Trigger is store.TriggerHTTP (also when empty), TriggerAsync or
	// TriggerSchedule.
	Trigger string

	// The HTTP request, for the http and async triggers.
	Method string
	// Path is the part of the URL path after /fn/{app}/{script}: "" or
	// starting with "/".
	Path   string
	Query  url.Values
	Header http.Header
	// Host is the request's Host header, which net/http keeps out of
	// Header; it reaches the script as headers.host.
	Host string
	Body []byte

	// Jobs (async and schedule triggers).
	InvocationID string    // the job's id: the invocation id its caller got
	Attempt      int       // from 1
	EnqueuedAt   time.Time // when the job was queued

	// The schedule trigger.
	ScheduleID  int64
	ScheduledAt time.Time // the due time fired
	Payload     []byte    // the schedule's JSON payload; nil for none

	// Outbound is the app's outbound HTTP policy, for the http module.
	Outbound Outbound `json:"outbound"`
	// Env holds the app's secrets, by name, opened by the orchestrator;
	// the script reads them as `env` and through secret(name). Their
	// values are redacted from what the run keeps (see redactor).
	Env map[string]string `json:"env,omitempty"`

	// Journal asks the run to record its effect journal (Result.Journal).
	Journal bool `json:"journal,omitempty"`
	// Replay, when set, runs the script in a sandbox whose effects are
	// answered from this journal, recorded by a run of the same event
	// (see sandbox): nothing is written, no outbound call is made, and
	// Result.Replay reports the captured writes and the new effects.
	Replay *Journal `json:"replay,omitempty"`
	// ReplayStart is when the recorded run started: the wall clock of a
	// replay beyond the journal's draws.
	ReplayStart time.Time `json:"replay_start,omitzero"`
}

// eventValue builds the script's `event` map, which says what triggered
// the run:
//
//	http:     #{kind: "http"}
//	async:    #{kind: "async", invocation_id, attempt, enqueued_at}
//	schedule: #{kind: "schedule", schedule_id, scheduled_at, payload, invocation_id, attempt, enqueued_at}
//
// Times are RFC 3339 strings in UTC; payload is the parsed JSON, or ().
func eventValue(ev Event) rhai.Value {
	m := map[string]rhai.Value{}
	switch ev.Trigger {
	case store.TriggerAsync, store.TriggerSchedule:
		m["kind"] = rhai.String(ev.Trigger)
		m["invocation_id"] = rhai.String(ev.InvocationID)
		m["attempt"] = rhai.Int(int64(ev.Attempt))
		m["enqueued_at"] = rhai.String(rfc3339(ev.EnqueuedAt))
	default:
		m["kind"] = rhai.String(store.TriggerHTTP)
	}
	if ev.Trigger == store.TriggerSchedule {
		m["schedule_id"] = rhai.Int(ev.ScheduleID)
		m["scheduled_at"] = rhai.String(rfc3339(ev.ScheduledAt))
		payload := rhai.Unit
		if len(ev.Payload) > 0 {
			if v, err := rhai.FromJSON(ev.Payload); err == nil {
				payload = v
			}
		}
		m["payload"] = payload
	}
	return rhai.NewMap(m)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// scriptRequest is the script's `request`: the HTTP request for the http
// and async triggers, () for a schedule.
func scriptRequest(ev Event) rhai.Value {
	if ev.Trigger == store.TriggerSchedule {
		return rhai.Unit
	}
	return requestValue(ev)
}

// requestValue builds the script's `request` map:
//
//	#{ method, path, query: #{name: first value}, headers: #{lower-case name: value},
//	   body: string, json: parsed body or () }
//
// Repeated headers are joined with ", " as HTTP allows.
func requestValue(ev Event) rhai.Value {
	query := make(map[string]rhai.Value, len(ev.Query))
	for k, vs := range ev.Query {
		if len(vs) > 0 {
			query[k] = rhai.String(vs[0])
		}
	}
	headers := make(map[string]rhai.Value, len(ev.Header)+1)
	for k, vs := range ev.Header {
		headers[lowerHeader(k)] = rhai.String(strings.Join(vs, ", "))
	}
	if ev.Host != "" {
		headers["host"] = rhai.String(ev.Host)
	}
	return rhai.NewMap(map[string]rhai.Value{
		"method":  rhai.String(ev.Method),
		"path":    rhai.String(ev.Path),
		"query":   rhai.NewMap(query),
		"headers": rhai.NewMap(headers),
		"body":    rhai.String(string(ev.Body)),
		"json":    jsonBody(ev),
	})
}

// lowerHeaders holds the lower-case forms of common header names, so that
// building a request's headers does not allocate one for each of them.
var lowerHeaders = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
		"Cache-Control", "Connection", "Content-Encoding", "Content-Length", "Content-Type", "Cookie",
		"Forwarded", "If-Match", "If-Modified-Since", "If-None-Match", "Origin", "Pragma", "Referer",
		"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Te", "Traceparent", "Upgrade-Insecure-Requests",
		"User-Agent", "Via", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip",
		"X-Request-Id"} {
		m[name] = strings.ToLower(name)
	}
	return m
}()

// lowerHeader is strings.ToLower(name), without allocating for common
// names.
func lowerHeader(name string) string {
	if l, ok := lowerHeaders[name]; ok {
		return l
	}
	return strings.ToLower(name)
}

// jsonBody parses the body when its Content-Type is JSON (application/json
// or any +json type) and it parses; otherwise it is ().
func jsonBody(ev Event) rhai.Value {
	if len(ev.Body) == 0 || !isJSON(ev.Header.Get("Content-Type")) {
		return rhai.Unit
	}
	v, err := rhai.FromJSON(ev.Body)
	if err != nil {
		return rhai.Unit
	}
	return v
}

func isJSON(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
