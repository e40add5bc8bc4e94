package executor

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/picloud/picloud/rhai"
)

// Event is what triggers a run: for the data plane, one HTTP request.
type Event struct {
	App    string // the app's slug, seen by the script as `app`
	Script string // the script's name, seen as `script`

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
		headers[strings.ToLower(k)] = rhai.String(strings.Join(vs, ", "))
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
