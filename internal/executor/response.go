package executor

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/picloud/picloud/rhai"
)

// responseType is the type_of() name of the value response() returns.
const responseType = "Response"

// scriptResponse is what response(status, body[, headers]) returns: the
// executor recognises it as the script's result and answers with it.
type scriptResponse struct {
	status int
	body   rhai.Value
	header http.Header
}

// String is what print(response(…)) shows.
func (r *scriptResponse) String() string { return fmt.Sprintf("response(%d)", r.status) }

// registerResponse adds response(status, body) and response(status, body,
// headers) to the engine.
func registerResponse(e *rhai.Engine) {
	e.RegisterFn("response", rhai.P(rhai.TypeInt, rhai.TypeAny), func(_ *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return newResponse(args[0], args[1], rhai.Unit)
	})
	e.RegisterFn("response", rhai.P(rhai.TypeInt, rhai.TypeAny, rhai.TypeMap), func(_ *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return newResponse(args[0], args[1], args[2])
	})
}

func newResponse(status, body, headers rhai.Value) (rhai.Value, error) {
	code := status.AsInt()
	if code < 200 || code > 599 {
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "response: status %d is not between 200 and 599", code)
	}
	body = body.Flatten()
	if isResponse(body) {
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "response: the body cannot be another response")
	}
	r := &scriptResponse{status: int(code), body: body, header: http.Header{}}
	if headers.Type() == rhai.TypeMap {
		m := headers.AsMap()
		for _, name := range m.Keys() {
			if !validHeaderName(name) {
				return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "response: invalid header name %q", name)
			}
			v := m.M[name].Flatten()
			values := []rhai.Value{v}
			if v.Type() == rhai.TypeArray {
				values = v.AsArray().Elems
			}
			for _, e := range values {
				s := e.String()
				if !validHeaderValue(s) {
					return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "response: invalid value for header %q", name)
				}
				r.header.Add(name, s)
			}
		}
	}
	return rhai.NewCustom(responseType, r), nil
}

func isResponse(v rhai.Value) bool {
	if v.Type() != rhai.TypeCustom {
		return false
	}
	_, ok := v.AsCustom().V.(*scriptResponse)
	return ok
}

// Headers the platform owns: a script's value for them is ignored.
var reservedHeaders = map[string]bool{
	"Content-Length":       true,
	"Transfer-Encoding":    true,
	"Connection":           true,
	"Keep-Alive":           true,
	"Upgrade":              true,
	"Trailer":              true,
	"Te":                   true,
	"X-Picloud-Invocation": true,
}

// toResponse turns the script's value into an HTTP response per the
// contract: a response() value sets status and headers; () is 204; a
// string is text; a map or array is JSON; a blob is bytes; any other value
// is its to_string text.
func toResponse(v rhai.Value) (status int, header http.Header, body []byte, err error) {
	v = v.Flatten()
	header = http.Header{}
	status = http.StatusOK
	var extra http.Header
	if isResponse(v) {
		r := v.AsCustom().V.(*scriptResponse)
		status, v, extra = r.status, r.body, r.header
	} else if v.IsUnit() {
		status = http.StatusNoContent
	}
	ctype, body, err := encodeBody(v)
	if err != nil {
		return 0, nil, nil, err
	}
	if ctype != "" {
		header.Set("Content-Type", ctype)
	}
	for name, vs := range extra {
		if reservedHeaders[name] {
			continue
		}
		header[name] = vs
	}
	if !bodyAllowed(status) {
		body = nil
		header.Del("Content-Type")
	}
	return status, header, body, nil
}

// encodeBody encodes a body value and names its content type; () has no
// body and no type.
func encodeBody(v rhai.Value) (contentType string, body []byte, err error) {
	v = v.Flatten()
	switch v.Type() {
	case rhai.TypeUnit:
		return "", nil, nil
	case rhai.TypeString:
		return "text/plain; charset=utf-8", []byte(v.AsString()), nil
	case rhai.TypeArray, rhai.TypeMap:
		data, err := rhai.ToJSON(v)
		if err != nil {
			return "", nil, fmt.Errorf("executor: the script's result cannot be encoded as JSON: %w", err)
		}
		return "application/json", data, nil
	case rhai.TypeBlob:
		return "application/octet-stream", v.AsBlob().B, nil
	case rhai.TypeCustom:
		if isResponse(v) {
			return "", nil, fmt.Errorf("executor: a response cannot be the body of another response")
		}
	}
	return "text/plain; charset=utf-8", []byte(v.String()), nil
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 5.1).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters other than tab, so that a
// script cannot split the response.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
