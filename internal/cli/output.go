package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// All of pic's data output goes through this file: a TSV table with an
// upper-case header row (the default), or JSON with --output json (an
// array for a list, an object for one item, in the server's field names).

// table is a TSV table: one header row, then one line per row.
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// print writes v as JSON with --output json, and t otherwise.
func (p *pic) print(v any, t *table) error {
	if p.isJSON() {
		return writeJSON(p.io.Out, v)
	}
	return writeTable(p.io.Out, t)
}

// writeTable writes t as tab-separated values. A cell's tabs and line
// breaks become spaces so that every row stays one line of fixed columns.
func writeTable(w io.Writer, t *table) error {
	var b strings.Builder
	writeRow(&b, t.header)
	for _, r := range t.rows {
		writeRow(&b, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var cellReplacer = strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ")

func writeRow(b *strings.Builder, cells []string) {
	for i, c := range cells {
		if i > 0 {
			b.WriteByte('\t')
		}
		b.WriteString(cellReplacer.Replace(c))
	}
	b.WriteByte('\n')
}

// writeJSON writes v as indented JSON. A nil slice is written as [], so
// that a list is always an array.
func writeJSON(w io.Writer, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.IsNil() {
		v = []any{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("cli: unable to write JSON: %w", err)
	}
	return nil
}

// Cell formats.

// timeCell is t in RFC 3339, UTC, to the second.
func timeCell(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// optionalTimeCell is timeCell, or "-" when there is no time.
func optionalTimeCell(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return timeCell(*t)
}

func intCell[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }

// durationCell writes milliseconds with their unit: "1.234ms".
func durationCell(ms float64) string { return strconv.FormatFloat(ms, 'f', 3, 64) + "ms" }

// summaryWidth is how many characters of a log summary a table shows.
const summaryWidth = 60

// truncate shortens s to at most n characters (runes), ending it with an
// ellipsis when it was cut. Line breaks become spaces first.
func truncate(s string, n int) string {
	s = cellReplacer.Replace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
