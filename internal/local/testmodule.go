package local

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/picloud/picloud/rhai"
)

// newTestEngine returns the engine of test files: the standard library,
// the test module and the assertions. Scripts under test never run on it:
// test::call runs them on the node.
//
//	test::call(script) / test::call(script, #{method, path, query, headers, body})
//	    → #{status, headers, body, json}
//	test::stub_http(url, #{status, body, headers})
//	assert(cond) / assert(cond, message)
//	assert_eq(actual, expected)
func newTestEngine() *rhai.Engine {
	e := rhai.New()
	m := rhai.NewModule()
	lib := m.Lib()
	lib.Fn("call", rhai.P(rhai.TypeString), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return testCall(c, args[0].AsString(), nil)
	})
	lib.Fn("call", rhai.P(rhai.TypeString, rhai.TypeMap), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return testCall(c, args[0].AsString(), args[1].AsMap())
	})
	lib.Fn("stub_http", rhai.P(rhai.TypeString, rhai.TypeMap), stubHTTP)
	e.RegisterModule("test", m)
	e.RegisterFn("assert", rhai.P(rhai.TypeBool), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return assertTrue(args[0], "assertion failed")
	})
	e.RegisterFn("assert", rhai.P(rhai.TypeBool, rhai.TypeAny), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return assertTrue(args[0], "assertion failed: "+args[1].String())
	})
	e.RegisterFn("assert_eq", rhai.P(rhai.TypeAny, rhai.TypeAny), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		actual, expected := args[0].Flatten().DebugString(), args[1].Flatten().DebugString()
		if actual != expected {
			return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "assert_eq failed: actual %s, expected %s", actual, expected)
		}
		return rhai.Unit, nil
	})
	return e
}

func assertTrue(cond rhai.Value, msg string) (rhai.Value, error) {
	if !cond.AsBool() {
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "%s", msg)
	}
	return rhai.Unit, nil
}

func testHostOf(c *rhai.Context, fn string) (*testHost, error) {
	h, _ := c.Host().(*testHost)
	if h == nil {
		return nil, rhai.NewError(rhai.ErrorRuntime, "test::%s is only available in pic test", fn)
	}
	return h, nil
}

// testCall calls a script of the project through the node's data plane.
func testCall(c *rhai.Context, script string, opts *rhai.Map) (rhai.Value, error) {
	h, err := testHostOf(c, "call")
	if err != nil {
		return rhai.Unit, err
	}
	req, err := testRequest(script, opts)
	if err != nil {
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "test::call: %v", err)
	}
	res, err := h.rt.Invoke(c.Context(), req)
	if err != nil {
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "test::call: %v", err)
	}
	headers := map[string]rhai.Value{}
	for k := range res.Header {
		headers[strings.ToLower(k)] = rhai.String(res.Header.Get(k))
	}
	parsed, err := rhai.FromJSON(res.Body)
	if err != nil {
		parsed = rhai.Unit
	}
	return rhai.NewMap(map[string]rhai.Value{
		"status":  rhai.Int(int64(res.Status)),
		"headers": rhai.NewMap(headers),
		"body":    rhai.String(string(res.Body)),
		"json":    parsed,
	}), nil
}

// testRequest reads test::call's options: method, path, query (a map),
// headers (a map) and body (a string, or any other value sent as JSON).
func testRequest(script string, opts *rhai.Map) (Request, error) {
	req := Request{Script: script, Method: http.MethodGet, Query: url.Values{}, Header: http.Header{}}
	if opts == nil {
		return req, nil
	}
	for k, v := range opts.M {
		v = v.Flatten()
		switch k {
		case "method":
			req.Method = strings.ToUpper(v.String())
		case "path":
			req.Path = v.String()
			if req.Path != "" && !strings.HasPrefix(req.Path, "/") {
				req.Path = "/" + req.Path
			}
		case "query", "headers":
			if v.Type() != rhai.TypeMap {
				return req, fmt.Errorf("%s must be a map, not %s", k, v.TypeName())
			}
			for name, val := range v.AsMap().M {
				if k == "query" {
					req.Query.Set(name, val.String())
				} else {
					req.Header.Set(name, val.String())
				}
			}
		case "body":
			if v.Type() == rhai.TypeString {
				req.Body = []byte(v.AsString())
				break
			}
			b, err := rhai.ToJSON(v)
			if err != nil {
				return req, fmt.Errorf("body: %v", err)
			}
			req.Body = b
			if req.Header.Get("Content-Type") == "" {
				req.Header.Set("Content-Type", "application/json")
			}
		default:
			return req, fmt.Errorf("unknown option %q (method, path, query, headers, body)", k)
		}
	}
	return req, nil
}

// stubHTTP answers the requests of the running test to url with a
// response: #{status, body, headers}.
func stubHTTP(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
	h, err := testHostOf(c, "stub_http")
	if err != nil {
		return rhai.Unit, err
	}
	u := args[0].AsString()
	st := stub{status: http.StatusOK, header: http.Header{}}
	for k, v := range args[1].AsMap().M {
		v = v.Flatten()
		switch k {
		case "status":
			if v.Type() != rhai.TypeInt {
				return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "test::stub_http: status must be an integer")
			}
			st.status = int(v.AsInt())
		case "body":
			if v.Type() == rhai.TypeString {
				st.body = []byte(v.AsString())
				break
			}
			b, err := rhai.ToJSON(v)
			if err != nil {
				return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "test::stub_http: body: %v", err)
			}
			st.body = b
			st.header.Set("Content-Type", "application/json")
		case "headers":
			if v.Type() != rhai.TypeMap {
				return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "test::stub_http: headers must be a map")
			}
			for name, val := range v.AsMap().M {
				st.header.Set(name, val.String())
			}
		default:
			return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "test::stub_http: unknown option %q (status, body, headers)", k)
		}
	}
	h.stubs.set(u, st)
	return rhai.Unit, nil
}

// stub is a canned response.
type stub struct {
	status int
	header http.Header
	body   []byte
}

// stubTransport is the outbound transport of pic test's node: it answers
// the stubbed URLs of the running test and refuses every other request.
type stubTransport struct {
	mu    sync.Mutex
	stubs map[string]stub
}

func (t *stubTransport) reset() {
	t.mu.Lock()
	t.stubs = nil
	t.mu.Unlock()
}

func (t *stubTransport) set(u string, s stub) {
	t.mu.Lock()
	if t.stubs == nil {
		t.stubs = map[string]stub{}
	}
	t.stubs[u] = s
	t.mu.Unlock()
}

// RoundTrip answers with the stub of the request's URL, or of the URL
// without its query.
func (t *stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	full := req.URL.String()
	bare := *req.URL
	bare.RawQuery = ""
	t.mu.Lock()
	s, ok := t.stubs[full]
	if !ok {
		s, ok = t.stubs[bare.String()]
	}
	t.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("outbound HTTP is refused in pic test: stub it with test::stub_http(%q, #{status: 200, body: \"…\"})", full)
	}
	return &http.Response{
		StatusCode:    s.status,
		Status:        fmt.Sprintf("%d %s", s.status, http.StatusText(s.status)),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        s.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(s.body)),
		ContentLength: int64(len(s.body)),
		Request:       req,
	}, nil
}
