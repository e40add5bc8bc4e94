package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/client"
	localnode "github.com/picloud/picloud/internal/local"
	"github.com/picloud/picloud/internal/store"
)

// errReproDiffers is the error of a reproduction whose response is not
// the recorded one: exit 1, after the comparison was printed.
var errReproDiffers = errors.New("the local run's response differs from the recorded one")

// reproLog runs a recorded invocation again locally, deterministically,
// against the source of the version it ran or a local file, and shows
// both responses side by side with the first point where they differ.
func reproLog(p *pic, api logsAPI, id, file string) error {
	e, err := api.GetLog(p.ctx, id)
	if err != nil {
		return err
	}
	if e.Record == nil {
		return fmt.Errorf("%s is a job; reproduce one of its attempts ('pic logs show %s' lists them)", id, id)
	}
	inv, err := recordOf(e.Record)
	if err != nil {
		return err
	}
	opts := localnode.ReproOptions{Record: inv, File: file}
	if file == "" {
		v, err := api.GetVersion(p.ctx, inv.AppSlug, inv.Script, inv.Version)
		if err != nil {
			return fmt.Errorf("reading version %d of %s/%s: %w", inv.Version, inv.AppSlug, inv.Script, err)
		}
		if v.Source != nil {
			opts.Source = *v.Source
		}
	}
	r, err := localnode.Reproduce(p.ctx, opts)
	if err != nil {
		var ce *localnode.CompileError
		if errors.As(err, &ce) {
			return &localError{err}
		}
		return err
	}
	rep := &client.Replay{Original: sideOf(e.Record), Replay: reproSide(r, file, inv.Version)}
	diff := firstDifference(rep.Original, rep.Replay)
	if p.isJSON() {
		if err := writeJSON(p.io.Out, reproView{Replay: rep, Same: diff == "", FirstDifference: diff,
			Writes: r.Result.Replay.Writes, NewEffects: r.Result.Replay.NewEffects}); err != nil {
			return err
		}
	} else if err := writeRepro(p.io.Out, rep, r, diff); err != nil {
		return err
	}
	if diff != "" {
		return errReproDiffers
	}
	return nil
}

// reproView is 'pic logs repro --output json'.
type reproView struct {
	*client.Replay
	Same            bool                 `json:"same"`
	FirstDifference string               `json:"first_difference,omitempty"`
	Writes          []store.JournalEntry `json:"writes,omitempty"`
	NewEffects      []store.JournalEntry `json:"new_effects,omitempty"`
}

// writeRepro writes the two responses side by side, the local run's
// captured writes and new effects, and the first difference.
func writeRepro(w io.Writer, rep *client.Replay, r localnode.Repro, diff string) error {
	if err := writeReplay(w, rep); err != nil {
		return err
	}
	var b strings.Builder
	if n := len(r.Result.Replay.Writes); n > 0 {
		fmt.Fprintf(&b, "Writes captured, not applied: %d.\n", n)
	}
	for _, e := range r.Result.Replay.NewEffects {
		fmt.Fprintf(&b, "New effect, not performed: %s.\n", effectLine(e))
	}
	if diff != "" {
		fmt.Fprintf(&b, "First difference: %s.\n", diff)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// effectLine names an effect: "kv::get key", "http GET URL".
func effectLine(e store.JournalEntry) string {
	if e.HTTP != nil {
		return e.Op + " " + e.HTTP.Method + " " + e.HTTP.URL
	}
	if e.Key != "" {
		return e.Op + " " + e.Key
	}
	return e.Op
}

// sideOf is the recorded response of a record.
func sideOf(inv *client.Invocation) client.ReplaySide {
	s := client.ReplaySide{InvocationID: inv.ID, Version: inv.Version, Outcome: inv.Status, Summary: inv.Summary,
		DurationMS: inv.DurationMS}
	if inv.Response != nil {
		s.RecordedResponse = *inv.Response
	} else {
		s.RecordedResponse = api.RecordedResponse{Status: inv.HTTPStatus, Headers: http.Header{}}
	}
	return s
}

// reproSide is the local run's response.
func reproSide(r localnode.Repro, file string, version int) client.ReplaySide {
	name := "local"
	if file != "" {
		name, version = file, 0
	}
	resp := r.Response
	s := client.ReplaySide{InvocationID: name, Version: version, Outcome: r.Result.Status, Summary: r.Result.Summary,
		DurationMS: float64(r.Result.Duration.Microseconds()) / 1000}
	s.Status, s.Headers = resp.Status, resp.Header
	if s.Headers == nil {
		s.Headers = http.Header{}
	}
	s.BodySize, s.BodyTruncated = resp.BodySize, resp.BodyTruncated
	text := string(resp.Body)
	if !utf8.Valid(resp.Body) {
		text = base64.StdEncoding.EncodeToString(resp.Body)
		s.BodyBase64 = &text
		return s
	}
	s.Body = &text
	return s
}

// firstDifference says where two responses first differ: the status, a
// header, or the body's first differing line and column; "" when they
// are the same.
func firstDifference(a, b client.ReplaySide) string {
	if a.Status != b.Status {
		return fmt.Sprintf("the status, %d recorded and %d locally", a.Status, b.Status)
	}
	names := map[string]bool{}
	for k := range a.Headers {
		names[k] = true
	}
	for k := range b.Headers {
		names[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(names)) {
		if !slices.Equal(a.Headers[k], b.Headers[k]) {
			return fmt.Sprintf("header %s, %q recorded and %q locally", k, strings.Join(a.Headers[k], ", "), strings.Join(b.Headers[k], ", "))
		}
	}
	x, y := string(a.Bytes()), string(b.Bytes())
	if x == y {
		if a.BodySize != b.BodySize {
			return fmt.Sprintf("the body's size, %d recorded and %d locally", a.BodySize, b.BodySize)
		}
		return ""
	}
	line, col := 1, 1
	for i := 0; i < len(x) && i < len(y) && x[i] == y[i]; i++ {
		if x[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("the body, at line %d, column %d", line, col)
}

// recordOf is the record the API showed, as the store has it: what
// localnode.Reproduce needs.
func recordOf(inv *client.Invocation) (store.Invocation, error) {
	rec := store.Invocation{ID: inv.ID, AppSlug: inv.App, Script: inv.Script, Version: inv.Version,
		Trigger: inv.Trigger, StartedAt: inv.StartedAt, Journal: journalOf(inv.Journal)}
	if r := inv.Request; r != nil {
		rec.Request = &store.HTTPRequest{Method: r.Method, Path: r.Path, Query: r.Query, Header: r.Headers, Host: r.Host,
			Body: r.Bytes(), BodySize: r.BodySize, BodyTruncated: r.BodyTruncated}
	}
	if rec.Request == nil {
		return rec, fmt.Errorf("invocation %s has no recorded request to run again (a schedule's run, or a record older than the recording)", inv.ID)
	}
	return rec, nil
}

// journalOf is the store's form of a journal the API showed.
func journalOf(j *api.Journal) *store.Journal {
	if j == nil {
		return nil
	}
	out := &store.Journal{Truncated: j.Truncated, Entries: make([]store.JournalEntry, len(j.Entries))}
	for i, e := range j.Entries {
		out.Entries[i] = store.JournalEntry{Op: e.Op, Key: e.Key, Value: e.Value, Found: e.Found, Keys: e.Keys, N: e.N,
			Int: e.Int, Bytes: store.JournalBody(e.Bytes), Err: e.Err}
		if x := e.HTTP; x != nil {
			out.Entries[i].HTTP = &store.JournalExchange{Method: x.Method, URL: x.URL, Header: x.Header,
				Body: store.JournalBody(x.Body), BodySize: x.BodySize, BodyHash: x.BodyHash, BodyTruncated: x.BodyTruncated,
				Status: x.Status, RespHeader: x.RespHeader, RespBody: store.JournalBody(x.RespBody),
				RespBodySize: x.RespBodySize, RespBodyTruncated: x.RespBodyTruncated}
		}
	}
	return out
}

// writeJournal writes a record's effect journal after an empty line, one
// effect a line: "kv::get cart → {...}", "http POST URL → 201"; nothing
// for a record without one.
func writeJournal(w io.Writer, j *api.Journal) error {
	if j == nil {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nEffects (%d", len(j.Entries))
	if j.Truncated {
		b.WriteString(", the journal was cut short")
	}
	b.WriteString("):\n")
	for i, e := range j.Entries {
		fmt.Fprintf(&b, "%3d  %s\n", i+1, truncate(journalLine(e), 100))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// journalLine describes one effect.
func journalLine(e api.JournalEntry) string {
	var s string
	switch {
	case e.HTTP != nil:
		s = fmt.Sprintf("%s %s %s → %d", e.Op, e.HTTP.Method, e.HTTP.URL, e.HTTP.Status)
	case e.Op == store.JournalKVGet && !e.Found:
		s = e.Op + " " + e.Key + " → absent"
	case e.Op == store.JournalKVGet:
		s = e.Op + " " + e.Key + " → " + e.Value
	case e.Op == store.JournalKVList:
		s = fmt.Sprintf("%s %q → %s", e.Op, e.Key, strings.Join(e.Keys, ", "))
	case e.Op == store.JournalKVSet:
		s = e.Op + " " + e.Key + " = " + e.Value
	case e.Op == store.JournalKVDelete:
		s = fmt.Sprintf("%s %s → %v", e.Op, e.Key, e.Found)
	case e.Op == store.JournalKVIncr:
		s = fmt.Sprintf("%s %s %+d → %d", e.Op, e.Key, e.N, e.Int)
	case e.Op == store.JournalUUID:
		s = e.Op + " → " + e.Value
	case e.Op == store.JournalRandomBytes:
		s = fmt.Sprintf("%s → %d bytes", e.Op, len(e.Bytes))
	default:
		s = fmt.Sprintf("%s → %d", e.Op, e.Int)
	}
	if e.Err != "" {
		s += " (error: " + e.Err + ")"
	}
	return s
}
