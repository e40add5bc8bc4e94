package executor

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/picloud/picloud/rhai"
)

// truncatedMarker ends output that passed its bound.
const truncatedMarker = "… [output truncated]\n"

// output collects a run's print and debug lines up to max bytes. A run
// calls it from one goroutine only.
type output struct {
	b         strings.Builder
	max       int
	truncated bool
	// redact, when set, hides secrets in each line before it is kept.
	redact func(string) string
}

func (o *output) print(s string) { o.line(s) }

func (o *output) debug(s string, pos rhai.Position) {
	if pos.IsValid() {
		o.line(fmt.Sprintf("[debug %d:%d] %s", pos.Line, pos.Col, s))
		return
	}
	o.line("[debug] " + s)
}

func (o *output) line(s string) {
	if o.truncated {
		return
	}
	if o.redact != nil {
		s = o.redact(s)
	}
	room := o.max - o.b.Len()
	if len(s)+1 <= room {
		o.b.WriteString(s)
		o.b.WriteByte('\n')
		return
	}
	cut := max(room, 0)
	for cut > 0 && cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut--
	}
	o.b.WriteString(s[:min(cut, len(s))])
	o.b.WriteString(truncatedMarker)
	o.truncated = true
}

func (o *output) String() string { return o.b.String() }
