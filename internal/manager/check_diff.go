package manager

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/picloud/picloud/internal/api"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/store"
)

// Bounds of what a check report says of one invocation.
const (
	// maxDiffLines bounds the lines of a body's diff.
	maxDiffLines = 40
	// maxDiffLine bounds each line of a diff, write or effect.
	maxDiffLine = 300
	// maxLCSCells bounds the table of the line diff: bodies whose
	// differing middles are longer are shown whole, removed then added.
	maxLCSCells = 250_000
)

// compareRuns judges the candidate's run against the live version's,
// both replays of one recorded invocation. The app's secrets are
// redacted from everything it reports.
func compareRuns(live, cand executor.Result) api.CheckedInvocation {
	red := cand.Secrets
	var out api.CheckedInvocation
	if effects := replayed(cand).NewEffects; len(effects) > 0 {
		out.Outcome = api.CheckNewEffect
		for _, e := range effects {
			out.NewEffects = append(out.NewEffects, clip(red.Redact(effectLine(e))))
		}
	}
	if live.Status == executor.StatusOK && cand.Status != executor.StatusOK {
		if out.Outcome == "" {
			out.Outcome = api.CheckNewError
		}
		out.Error = clip(red.Redact(cand.Summary))
	}
	out.Diff = diffRuns(live, cand)
	if out.Outcome == "" && out.Diff != nil {
		out.Outcome = api.CheckDifferent
	}
	if out.Outcome == "" {
		out.Outcome = api.CheckSame
	}
	out.Summary = checkSummary(out)
	return out
}

func replayed(res executor.Result) executor.ReplayReport {
	if res.Replay == nil {
		return executor.ReplayReport{}
	}
	return *res.Replay
}

// diffRuns is how the candidate's response and writes differ from the
// live version's; nil when they do not.
func diffRuns(live, cand executor.Result) *api.CheckDiff {
	red := cand.Secrets
	d := &api.CheckDiff{}
	if live.HTTPStatus != cand.HTTPStatus {
		d.Status = []int{live.HTTPStatus, cand.HTTPStatus}
	}
	d.Headers = headerDiff(live.Header, cand.Header, red)
	if !bytes.Equal(live.Body, cand.Body) {
		d.Body = bodyDiff(red.RedactBytes(live.Body), red.RedactBytes(cand.Body))
	}
	d.WritesGone, d.WritesNew = writesDiff(writeLines(live, red), writeLines(cand, red))
	if d.Status == nil && d.Headers == nil && d.Body == "" && d.WritesGone == nil && d.WritesNew == nil {
		return nil
	}
	return d
}

// headerDiff lists the headers whose values differ, by canonical name.
func headerDiff(a, b http.Header, red *executor.Redactor) []api.HeaderDiff {
	x, y := joinedHeader(a), joinedHeader(b)
	names := slices.Collect(maps.Keys(x))
	for k := range y {
		if _, ok := x[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var out []api.HeaderDiff
	for _, name := range names {
		if x[name] != y[name] {
			out = append(out, api.HeaderDiff{Name: name, Live: clip(red.Redact(x[name])), Candidate: clip(red.Redact(y[name]))})
		}
	}
	return out
}

// joinedHeader is h by canonical name, each header's values joined.
func joinedHeader(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		name := http.CanonicalHeaderKey(k)
		if prev, ok := out[name]; ok {
			vs = append([]string{prev}, vs...)
		}
		out[name] = strings.Join(vs, ", ")
	}
	return out
}

// bodyDiff is a line diff of two bodies, JSON indented first so that a
// changed field shows as its own line; binary bodies are told by size.
func bodyDiff(a, b []byte) string {
	if !utf8.Valid(a) || !utf8.Valid(b) {
		return fmt.Sprintf("binary bodies differ (%d bytes → %d bytes)", len(a), len(b))
	}
	lines := lineDiff(strings.Split(indented(a), "\n"), strings.Split(indented(b), "\n"))
	if len(lines) > maxDiffLines {
		lines = append(lines[:maxDiffLines], fmt.Sprintf("… %d more lines", len(lines)-maxDiffLines))
	}
	return strings.Join(lines, "\n")
}

// indented is a JSON body indented, any other text as it is.
func indented(b []byte) string {
	var buf bytes.Buffer
	if json.Valid(b) && json.Indent(&buf, b, "", "  ") == nil {
		return buf.String()
	}
	return string(b)
}

// lineDiff returns the lines removed from a ("-") and added in b ("+"),
// in order, from a longest common subsequence of the lines between their
// common prefix and suffix.
func lineDiff(a, b []string) []string {
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	if len(a)*len(b) > maxLCSCells {
		return append(prefixed("-", a), prefixed("+", b)...)
	}
	// lcs[i][j] is the length of a common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i, j = i+1, j+1
		case j == len(b) || (i < len(a) && lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "-"+clip(a[i]))
			i++
		default:
			out = append(out, "+"+clip(b[j]))
			j++
		}
	}
	return out
}

func prefixed(p string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = p + clip(l)
	}
	return out
}

// writeLines are a run's captured writes, one line each, redacted.
func writeLines(res executor.Result, red *executor.Redactor) []string {
	var out []string
	for _, e := range replayed(res).Writes {
		out = append(out, clip(red.Redact(writeLine(e))))
	}
	return out
}

// writeLine says what a captured write did: "kv::set KEY VALUE",
// "kv::delete KEY", "kv::incr KEY N", "http POST URL sha256:…".
func writeLine(e store.JournalEntry) string {
	switch e.Op {
	case store.JournalKVSet:
		if e.N != 0 {
			return fmt.Sprintf("kv::set %s %s (ttl %ds)", e.Key, e.Value, e.N)
		}
		return fmt.Sprintf("kv::set %s %s", e.Key, e.Value)
	case store.JournalKVIncr:
		return fmt.Sprintf("kv::incr %s %d", e.Key, e.N)
	case store.JournalHTTP:
		return exchangeLine(e.HTTP)
	}
	return strings.TrimSpace(e.Op + " " + e.Key)
}

// effectLine says what a new effect would have done.
func effectLine(e store.JournalEntry) string {
	if e.Op == store.JournalHTTP {
		return exchangeLine(e.HTTP)
	}
	return strings.TrimSpace(e.Op + " " + e.Key)
}

// exchangeLine is an outbound request: "http METHOD URL", and the hash
// of its body when it has one, which tells bodies apart.
func exchangeLine(x *store.JournalExchange) string {
	if x == nil {
		return "http"
	}
	line := fmt.Sprintf("http %s %s", x.Method, x.URL)
	if x.BodyHash != "" {
		line += fmt.Sprintf(" (body %d bytes, sha256 %.12s)", x.BodySize, x.BodyHash)
	}
	return line
}

// writesDiff compares two lists of writes as multisets: gone are the
// lines of a that b lacks, added those of b that a lacks, in order.
func writesDiff(a, b []string) (gone, added []string) {
	count := map[string]int{}
	for _, w := range b {
		count[w]++
	}
	for _, w := range a {
		if count[w] > 0 {
			count[w]--
			continue
		}
		gone = append(gone, w)
	}
	for _, w := range b {
		if count[w] > 0 {
			count[w]--
			added = append(added, w)
		}
	}
	return gone, added
}

// checkSummary says in one line what differs: "new effect: http GET
// https://x", "status 200 → 500, body, writes -1 +2"; "" when nothing.
func checkSummary(c api.CheckedInvocation) string {
	var parts []string
	if len(c.NewEffects) > 0 {
		parts = append(parts, "new effect: "+c.NewEffects[0])
		if n := len(c.NewEffects) - 1; n > 0 {
			parts[0] += fmt.Sprintf(" (and %d more)", n)
		}
	}
	if c.Outcome == api.CheckNewError {
		parts = append(parts, "error: "+c.Error)
	}
	if d := c.Diff; d != nil {
		if d.Status != nil {
			parts = append(parts, fmt.Sprintf("status %d → %d", d.Status[0], d.Status[1]))
		}
		if d.Headers != nil {
			parts = append(parts, "headers")
		}
		if d.Body != "" {
			parts = append(parts, "body")
		}
		if d.WritesGone != nil || d.WritesNew != nil {
			parts = append(parts, fmt.Sprintf("writes -%d +%d", len(d.WritesGone), len(d.WritesNew)))
		}
	}
	return strings.Join(parts, ", ")
}

// clip cuts a line of a report at maxDiffLine bytes, on a character
// boundary.
func clip(s string) string {
	if len(s) <= maxDiffLine {
		return s
	}
	n := maxDiffLine
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
