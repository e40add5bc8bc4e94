package manager

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/api"
)

func TestLineDiff(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want []string
	}{
		{"a\nb\nc", "a\nb\nc", nil},
		{"a\nb\nc", "a\nx\nc", []string{"-b", "+x"}},
		{"a\nb\nc", "a\nc", []string{"-b"}},
		{"a\nc", "a\nb\nc", []string{"+b"}},
		{"one", "uno", []string{"-one", "+uno"}},
		// The common lines between changes are kept out.
		{"k\na\nb\nc\nd", "k\nA\nb\nc\nD", []string{"-a", "+A", "-d", "+D"}},
	} {
		if got := lineDiff(strings.Split(c.a, "\n"), strings.Split(c.b, "\n")); !slices.Equal(got, c.want) {
			t.Errorf("lineDiff(%q, %q) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

func TestBodyDiff(t *testing.T) {
	t.Parallel()
	// JSON is indented first, so that one changed field is one line.
	if got := bodyDiff([]byte(`{"a":1,"b":2}`), []byte(`{"a":1,"b":3}`)); got != "-  \"b\": 2\n+  \"b\": 3" {
		t.Errorf("JSON: %q", got)
	}
	if got := bodyDiff([]byte{0xff, 0}, []byte("text")); got != "binary bodies differ (2 bytes → 4 bytes)" {
		t.Errorf("binary: %q", got)
	}
	long := strings.Repeat("line\n", 100)
	if got := bodyDiff([]byte(long), []byte(strings.ReplaceAll(long, "line", "LINE"))); !strings.HasSuffix(got, "\n… 160 more lines") ||
		strings.Count(got, "\n") != maxDiffLines {
		t.Errorf("long: %d lines, ending %q", strings.Count(got, "\n"), got[len(got)-30:])
	}
}

func TestWritesDiff(t *testing.T) {
	t.Parallel()
	gone, added := writesDiff([]string{"kv::set a 1", "kv::set a 1", "kv::delete b"}, []string{"kv::delete b", "kv::set a 1", "kv::incr c 1"})
	if !slices.Equal(gone, []string{"kv::set a 1"}) || !slices.Equal(added, []string{"kv::incr c 1"}) {
		t.Errorf("writesDiff: gone %q, added %q", gone, added)
	}
	// The same writes in another order are the same set.
	if gone, added := writesDiff([]string{"x", "y"}, []string{"y", "x"}); gone != nil || added != nil {
		t.Errorf("reordered: gone %q, added %q", gone, added)
	}
}

func TestHeaderDiff(t *testing.T) {
	t.Parallel()
	a := http.Header{"Content-Type": {"text/plain"}, "X-Same": {"1"}, "X-Gone": {"g"}}
	b := http.Header{"content-type": {"application/json"}, "X-Same": {"1"}, "X-New": {"n", "m"}}
	want := []api.HeaderDiff{{Name: "Content-Type", Live: "text/plain", Candidate: "application/json"},
		{Name: "X-Gone", Live: "g"}, {Name: "X-New", Candidate: "n, m"}}
	if got := headerDiff(a, b, nil); !reflect.DeepEqual(got, want) {
		t.Errorf("headerDiff = %+v, want %+v", got, want)
	}
}
