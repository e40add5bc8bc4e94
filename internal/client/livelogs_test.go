package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	stream := "retry: 2000\n\n" +
		": keep-alive\n\n" +
		"id: A1\nevent: invocation\ndata: {\"id\":\"A1\",\"script\":\"s\",\"status\":\"ok\"}\n\n" +
		"event: other\ndata: ignored\n\n" +
		"id:A3\n\n" + // no space after the colon
		"event: invocation\ndata: {\"id\":\n" + "data: \"A4\"}\n\n" + // data over two lines; the id stays A3
		"id: A5\n" // cut before the end of the message: not delivered
	var got []LogEvent
	if err := readEvents(strings.NewReader(stream), func(ev LogEvent) error { got = append(got, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	type want struct {
		id, inv string
	}
	wants := []want{{"", ""}, {"A1", "A1"}, {"A1", ""}, {"A3", ""}, {"A3", "A4"}}
	if len(got) != len(wants) {
		t.Fatalf("%d messages: %+v", len(got), got)
	}
	for i, w := range wants {
		inv := ""
		if got[i].Invocation != nil {
			inv = got[i].Invocation.ID
		}
		if got[i].ID != w.id || inv != w.inv {
			t.Errorf("message %d: id %q invocation %q, want %q %q", i, got[i].ID, inv, w.id, w.inv)
		}
	}
	if got[1].Invocation.Script != "s" || got[1].Invocation.Status != "ok" {
		t.Errorf("record %+v", got[1].Invocation)
	}

	err := readEvents(strings.NewReader("event: invocation\ndata: {not json\n\n"), func(LogEvent) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "not a record") {
		t.Errorf("bad data: %v", err)
	}
}

// TestStreamLogs: the request carries the filters, Last-Event-ID and the
// token; how each way of ending is reported.
func TestStreamLogs(t *testing.T) {
	var got *http.Request
	mode := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		switch mode {
		case "refused":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			io.WriteString(w, `{"error":{"code":"forbidden","message":"no way"}}`)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "retry: 2000\n\nid: X\nevent: invocation\ndata: {\"id\":\"X\"}\n\n")
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "tok")
	c.HTTP = &http.Client{Timeout: 1} // the stream ignores the timeout of calls
	var ids []string
	err := c.StreamLogs(context.Background(), "my app", LogFilter{Script: "s", Status: "error", Limit: 5}, "W", func(ev LogEvent) error {
		ids = append(ids, ev.ID)
		return nil
	})
	if !errors.Is(err, ErrStreamEnded) {
		t.Fatalf("a stream the server ended: %v", err)
	}
	if strings.Join(ids, ",") != ",X" {
		t.Errorf("ids %q", ids)
	}
	if got.URL.Path != "/api/v1/apps/my app/logs/stream" || got.URL.RawQuery != "script=s&status=error" ||
		got.Header.Get("Last-Event-ID") != "W" || got.Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("request %s %s %v", got.URL.Path, got.URL.RawQuery, got.Header)
	}

	stop := errors.New("enough")
	if err := c.StreamLogs(context.Background(), "a", LogFilter{}, "", func(LogEvent) error { return stop }); err != stop {
		t.Errorf("the callback's error: %v", err)
	}

	mode = "refused"
	err = c.StreamLogs(context.Background(), "a", LogFilter{}, "", func(LogEvent) error { return nil })
	if StatusOf(err) != 403 || !strings.Contains(err.Error(), "no way") {
		t.Errorf("refused: %v", err)
	}

	srv.Close()
	var ne *NetworkError
	if err := c.StreamLogs(context.Background(), "a", LogFilter{}, "", func(LogEvent) error { return nil }); !errors.As(err, &ne) {
		t.Errorf("server down: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.StreamLogs(ctx, "a", LogFilter{}, "", func(LogEvent) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
