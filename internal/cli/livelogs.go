package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/client"
)

// liveOptions are the flags of 'pic logs APP --follow' and 'pic logs
// replay ID'.
type liveOptions struct {
	Follow  bool
	After   string
	Version int
	Force   bool
}

func (o *liveOptions) flags(f *flags) {
	f.boolVar(&o.Follow, "f,follow", "print new records as they are written, until interrupted (Ctrl-C)")
	f.stringVar(&o.After, "after", "ID", "with --follow: first print the records after this one")
	f.intVar(&o.Version, "version", "N", "replay: the script version to run (default: the live one)")
	f.boolVar(&o.Force, "force", "replay: send a request whose body was cut when it was recorded")
}

// Reconnection delays of --follow after the stream dropped: doubled
// after each failed attempt, up to the maximum.
const (
	followMinBackoff = 250 * time.Millisecond
	followMaxBackoff = 10 * time.Second
)

// followLogs prints an app's new records as they are written, until the
// user interrupts pic (exit 0). A dropped stream is resumed from the last
// record seen (Last-Event-ID), after a bounded backoff; a refusal (no
// such app, no access) and a first connection that fails are errors.
func followLogs(p *pic, api logsAPI, opts logsOptions) error {
	if !p.isJSON() {
		if err := writeTable(p.io.Out, logsTable()); err != nil { // the header row
			return err
		}
	}
	last := opts.Live.After
	opened, wait := false, followMinBackoff
	for {
		received := false
		err := api.StreamLogs(p.ctx, opts.App, opts.Filter, last, func(ev client.LogEvent) error {
			if !received {
				received = true
				if !opened {
					p.info("Following the logs of app %q; stop with Ctrl-C.", opts.App)
				} else {
					p.info("Reconnected.")
				}
				opened = true
			}
			if ev.ID != "" {
				last = ev.ID
			}
			if ev.Invocation == nil {
				return nil
			}
			return p.printLive(*ev.Invocation)
		})
		if p.ctx.Err() != nil {
			return nil // interrupted: the way a follow ends
		}
		var ce *client.Error
		switch {
		case errors.As(err, &ce) && ce.Status != http.StatusServiceUnavailable:
			return err
		case !opened:
			return err
		case received:
			wait = followMinBackoff
		}
		p.info("The stream was interrupted (%v); reconnecting in %v.", err, wait)
		select {
		case <-p.ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, followMaxBackoff)
	}
}

// printLive writes one streamed record: a table row, or a line of JSON.
func (p *pic) printLive(inv client.Invocation) error {
	if p.isJSON() {
		enc := json.NewEncoder(p.io.Out)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(inv); err != nil {
			return fmt.Errorf("cli: unable to write JSON: %w", err)
		}
		return nil
	}
	t := logsTable()
	addLogRow(t, inv, truncate(inv.Summary, summaryWidth))
	var b strings.Builder
	writeRow(&b, t.rows[0])
	_, err := io.WriteString(p.io.Out, b.String())
	return err
}

// replayLog replays a recorded request and shows both responses.
func replayLog(p *pic, api logsAPI, id string, live liveOptions) error {
	r, err := api.Replay(p.ctx, id, client.ReplayOptions{Version: live.Version, Force: live.Force})
	if err != nil {
		if size, ok := conflictDetail(err, "body_size"); ok {
			kept, _ := conflictDetail(err, "body_kept")
			return reworded(err, "the request body of %s (%d bytes) was cut when it was recorded, so a replay would not send the same body; "+
				"add --force to send the %d bytes that were kept", id, size, kept)
		}
		return err
	}
	if p.isJSON() {
		return writeJSON(p.io.Out, r)
	}
	return writeReplay(p.io.Out, r)
}

// replayWidth bounds each column of a replay's side-by-side view; longer
// lines are cut with an ellipsis (--output json has them whole).
const replayWidth = 60

// writeReplay shows the two responses of a replay side by side, original
// on the left: the invocation, the status, the headers (a header only one
// side has faces an empty cell), an empty line and the bodies; then it
// says whether they differ and how.
func writeReplay(w io.Writer, r *client.Replay) error {
	o, p := r.Original, r.Replay
	rows := [][2]string{
		{fmt.Sprintf("ORIGINAL %s (version %d)", o.InvocationID, o.Version), fmt.Sprintf("REPLAY %s (version %d)", p.InvocationID, p.Version)},
		{statusLine(o), statusLine(p)},
	}
	names := slices.Sorted(maps.Keys(o.Headers))
	for name := range p.Headers {
		if _, ok := o.Headers[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		rows = append(rows, [2]string{headerLine(o.Headers, name), headerLine(p.Headers, name)})
	}
	rows = append(rows, [2]string{})
	ob, pb := bodyLines(o), bodyLines(p)
	for i := range max(len(ob), len(pb)) {
		var row [2]string
		if i < len(ob) {
			row[0] = ob[i]
		}
		if i < len(pb) {
			row[1] = pb[i]
		}
		rows = append(rows, row)
	}

	width := 0
	for i := range rows {
		rows[i][0], rows[i][1] = truncate(rows[i][0], replayWidth), truncate(rows[i][1], replayWidth)
		width = max(width, utf8.RuneCountInString(rows[i][0]))
	}
	var b strings.Builder
	for _, row := range rows {
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(row[0]))
		b.WriteString(strings.TrimRight(row[0]+pad+" | "+row[1], " "))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	if diff := differences(o, p); len(diff) == 0 {
		b.WriteString("The responses are identical.\n")
	} else {
		b.WriteString("The responses differ: " + strings.Join(diff, ", ") + ".\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// statusLine is "HTTP 200 ok", with the summary of a failed run.
func statusLine(s client.ReplaySide) string {
	line := fmt.Sprintf("HTTP %d %s", s.Status, s.Outcome)
	if s.Outcome != "ok" && s.Summary != "" {
		line += ": " + s.Summary
	}
	return line
}

// headerLine is "Name: value", or "" when h has no such header.
func headerLine(h http.Header, name string) string {
	vs, ok := h[name]
	if !ok {
		return ""
	}
	return name + ": " + strings.Join(vs, ", ")
}

// bodyLines are the lines of a body; a binary body is described, and a
// cut one says so.
func bodyLines(s client.ReplaySide) []string {
	var lines []string
	switch {
	case s.Body != nil && *s.Body != "":
		lines = strings.Split(strings.TrimSuffix(*s.Body, "\n"), "\n")
	case s.BodyBase64 != nil:
		lines = []string{fmt.Sprintf("(%d bytes of binary data)", len(s.Bytes()))}
	}
	if s.BodyTruncated {
		lines = append(lines, fmt.Sprintf("(the first %d of %d bytes)", len(s.Bytes()), s.BodySize))
	}
	return lines
}

// differences names what differs between two responses.
func differences(a, b client.ReplaySide) []string {
	var out []string
	if a.Status != b.Status {
		out = append(out, "status")
	}
	if !maps.EqualFunc(a.Headers, b.Headers, slices.Equal[[]string]) {
		out = append(out, "headers")
	}
	if a.BodySize != b.BodySize || !bytes.Equal(a.Bytes(), b.Bytes()) {
		out = append(out, "body")
	}
	return out
}
