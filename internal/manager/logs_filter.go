package manager

import (
	"strconv"

	"github.com/picloud/picloud/internal/httpx"
	"github.com/picloud/picloud/internal/store"
)

// httpStatusFilter reads ?http_status= into f: a status ("404") or a
// class ("4xx"). The record's status says how the run went (a script that
// answers 422 ran fine: ok); the HTTP status says what the caller got, so
// it is the filter for a script's own client errors.
func httpStatusFilter(v string, f *store.InvocationFilter) error {
	if v == "" {
		return nil
	}
	if len(v) == 3 && v[0] >= '1' && v[0] <= '5' && v[1:] == "xx" {
		base := int(v[0]-'0') * 100
		f.HTTPStatusMin, f.HTTPStatusMax = base, base+99
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 || n > 599 || len(v) != 3 {
		return httpx.Invalid("invalid http_status %q: use a status from 100 to 599 (404) or a class (1xx to 5xx)", v)
	}
	f.HTTPStatusMin, f.HTTPStatusMax = n, n
	return nil
}
