package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/picloud/picloud/internal/egress"
	"github.com/picloud/picloud/internal/store"
	"github.com/picloud/picloud/rhai"
)

// Outbound is a run's outbound HTTP policy: the hosts the script may call
// with the http module, the private ones among them, and how much it may
// do. The orchestrator fills it from the app's settings and the server's
// limits. Allow and Private both empty turn outbound HTTP off.
type Outbound struct {
	// Allow holds the host patterns of the app's allow-list (package
	// egress), which its editors manage: public addresses only.
	Allow []string `json:"allow,omitempty"`
	// Private holds the hosts, addresses and CIDR prefixes that an
	// administrator lets the script reach at loopback, private,
	// link-local and other special-purpose addresses.
	Private []string `json:"private,omitempty"`
	OutboundLimits
}

// OutboundLimits bound the http module in one run; a zero field means the
// default.
type OutboundLimits struct {
	// Timeout is the longest one request may take, redirects and body
	// included; a request never outlives its run's deadline either.
	Timeout time.Duration `json:"timeout_ns,omitempty"`
	// MaxResponseBytes bounds the body read of one response.
	MaxResponseBytes int64 `json:"max_response_bytes,omitempty"`
	// MaxRequestBytes bounds the body sent with one request.
	MaxRequestBytes int64 `json:"max_request_bytes,omitempty"`
	// MaxRequests bounds the requests of one run (redirects not counted).
	MaxRequests int `json:"max_requests,omitempty"`
}

// Default outbound limits.
const (
	DefaultOutboundTimeout          = 10 * time.Second
	DefaultOutboundMaxResponseBytes = 1 << 20
	DefaultOutboundMaxRequestBytes  = 1 << 20
	DefaultOutboundMaxRequests      = 20
)

// MaxRedirects is how many redirects one request follows; each new
// location is checked against the allow-list, and each address dialed
// against the private ranges, as the first.
const MaxRedirects = 5

// DefaultOutboundLimits are the limits used where the server sets none.
func DefaultOutboundLimits() OutboundLimits {
	return OutboundLimits{
		Timeout:          DefaultOutboundTimeout,
		MaxResponseBytes: DefaultOutboundMaxResponseBytes,
		MaxRequestBytes:  DefaultOutboundMaxRequestBytes,
		MaxRequests:      DefaultOutboundMaxRequests,
	}
}

// Or returns l with its zero fields taken from d.
func (l OutboundLimits) Or(d OutboundLimits) OutboundLimits {
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = d.MaxResponseBytes
	}
	if l.MaxRequestBytes <= 0 {
		l.MaxRequestBytes = d.MaxRequestBytes
	}
	if l.MaxRequests <= 0 {
		l.MaxRequests = d.MaxRequests
	}
	return l
}

// outboundClient holds the connections of the http module, shared by every
// run of an executor. Apps that may reach no private address share one
// transport; an app with a private list gets a transport of its own,
// keyed by the list, so that a pooled connection to a private address
// never serves an app whose list did not allow it.
type outboundClient struct {
	public *http.Transport
	// exempt, set by tests only, lets a transport dial some loopback
	// addresses as if they were public.
	exempt func(netip.AddrPort) bool
	// override, when set, replaces every transport (Config.Transport).
	override http.RoundTripper

	mu      sync.Mutex
	private map[string]*http.Transport // by the private list, joined
}

// maxPrivateTransports bounds the transports kept for private lists; past
// it they are all closed and made again as needed.
const maxPrivateTransports = 64

func newOutboundClient() *outboundClient {
	o := &outboundClient{private: make(map[string]*http.Transport)}
	o.public = newTransport(func(host, address string) error { return o.checkDial(nil, host, address) })
	return o
}

// transport returns the transport of a private list (the public one for
// an empty list).
func (o *outboundClient) transport(private []string, list egress.AllowList) *http.Transport {
	if len(private) == 0 {
		return o.public
	}
	key := strings.Join(private, "\n")
	o.mu.Lock()
	defer o.mu.Unlock()
	if t, ok := o.private[key]; ok {
		return t
	}
	if len(o.private) >= maxPrivateTransports {
		for k, t := range o.private {
			t.CloseIdleConnections()
			delete(o.private, k)
		}
	}
	t := newTransport(func(host, address string) error { return o.checkDial(list, host, address) })
	o.private[key] = t
	return t
}

// roundTripper returns the override when there is one, else the
// transport of a private list.
func (o *outboundClient) roundTripper(private []string, list egress.AllowList) http.RoundTripper {
	if o.override != nil {
		return o.override
	}
	return o.transport(private, list)
}

// newTransport returns a transport whose every dial, after name resolution,
// passes check with the host the request named and the address dialed. It
// ignores the proxy variables of the environment: a proxy would dial on
// the script's behalf, past the check.
func newTransport(check func(host, address string) error) *http.Transport {
	base := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, refuse("refused to connect to %s: not a host and port", addr)
		}
		d := base
		d.Control = func(_, address string, _ syscall.RawConn) error { return check(host, address) }
		return d.DialContext(ctx, network, addr)
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dial,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        60 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// refusal is an outbound request the policy refused; its message is the
// script's error.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

func refuse(format string, args ...any) *refusal { return &refusal{fmt.Sprintf(format, args...)} }

// checkDial refuses an address in a private or special-purpose range
// unless the app's private list names it, or names host, the name that
// resolved to it. It runs for every address the transport dials — each
// one a name resolves to, after each redirect — so that neither DNS nor a
// redirect can lead a request where the allow-list check of its URL did
// not look: a public name on the editors' list that resolves to a private
// address is refused.
func (o *outboundClient) checkDial(private egress.AllowList, host, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return refuse("refused to connect to %s: not an IP address and port", address)
	}
	why := egress.Blocked(ap.Addr())
	if why == "" || o.exempt != nil && o.exempt(ap) || private.Reaches(host, strconv.Itoa(int(ap.Port())), ap.Addr().Unmap()) {
		return nil
	}
	return refuse("refused to connect to %s (%s): private addresses are reachable only when an administrator names them in this app's private list",
		ap.Addr().Unmap(), why)
}

// outboundRun is the http module's state in one run.
type outboundRun struct {
	client   *outboundClient
	app      string
	policy   Outbound
	allow    egress.AllowList
	private  egress.AllowList
	allowErr error
	parsed   bool
	requests int
}

func (x *Executor) newOutboundRun(ev Event) *outboundRun {
	p := ev.Outbound
	p.OutboundLimits = p.OutboundLimits.Or(DefaultOutboundLimits())
	return &outboundRun{client: x.outbound, app: ev.App, policy: p}
}

// checkURL refuses a URL that is not http(s) or whose host is not on the
// allow-list.
func (r *outboundRun) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("only http and https URLs can be called, not %q", u.Scheme+":")
	}
	host := u.Hostname()
	if host == "" {
		return refuse("the URL %q has no host", u.Redacted())
	}
	if err := r.parse(); err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if !r.allow.Allows(host, port) && !r.private.Allows(host, port) {
		name := host
		if u.Port() != "" {
			name = u.Host
		}
		return refuse("host %s is not in this app's allow-list", name)
	}
	return nil
}

// parse reads the app's lists once per run.
func (r *outboundRun) parse() error {
	if !r.parsed {
		r.parsed = true
		var err error
		if r.allow, err = egress.ParseAllowList(r.policy.Allow); err != nil {
			r.allowErr = refuse("the allow-list of app %s is invalid: %v", r.app, err)
		} else if r.private, err = egress.ParsePrivateList(r.policy.Private); err != nil {
			r.allowErr = refuse("the private list of app %s is invalid: %v", r.app, err)
		}
	}
	if r.allowErr != nil {
		return r.allowErr
	}
	return nil
}

func (r *outboundRun) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return refuse("stopped after %d redirects", MaxRedirects)
	}
	if err := r.checkURL(req.URL); err != nil {
		return refuse("redirected to %s: %v", req.URL.Redacted(), err)
	}
	return nil
}

// outboundRequest is one call of the http module.
type outboundRequest struct {
	fn      string // the function, for errors: "http::get"
	method  string
	url     string
	headers rhai.Value // a map, or ()
	body    rhai.Value
	timeout time.Duration // 0: the server's
}

// The methods a script may send.
var outboundMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// Request headers that the transport owns.
var outboundReservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"Keep-Alive": true, "Upgrade": true, "Te": true, "Trailer": true,
}

// registerHTTP adds the http module:
//
//	http::get(url[, headers])
//	http::post(url, body[, headers])
//	http::request(#{method, url, headers, body, timeout_ms})
//
// each returning #{status, headers, body, json}.
func registerHTTP(e *rhai.Engine) {
	m := rhai.NewModule()
	lib := m.Lib()
	lib.Fn("get", rhai.P(rhai.TypeString), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return doHTTP(c, outboundRequest{fn: "http::get", method: http.MethodGet, url: args[0].AsString(), headers: rhai.Unit, body: rhai.Unit})
	})
	lib.Fn("get", rhai.P(rhai.TypeString, rhai.TypeMap), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return doHTTP(c, outboundRequest{fn: "http::get", method: http.MethodGet, url: args[0].AsString(), headers: args[1], body: rhai.Unit})
	})
	lib.Fn("post", rhai.P(rhai.TypeString, rhai.TypeAny), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return doHTTP(c, outboundRequest{fn: "http::post", method: http.MethodPost, url: args[0].AsString(), headers: rhai.Unit, body: args[1]})
	})
	lib.Fn("post", rhai.P(rhai.TypeString, rhai.TypeAny, rhai.TypeMap), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		return doHTTP(c, outboundRequest{fn: "http::post", method: http.MethodPost, url: args[0].AsString(), headers: args[2], body: args[1]})
	})
	lib.Fn("request", rhai.P(rhai.TypeMap), func(c *rhai.Context, args []rhai.Value) (rhai.Value, error) {
		req, err := requestOptions(args[0].AsMap())
		if err != nil {
			return rhai.Unit, err
		}
		return doHTTP(c, req)
	})
	e.RegisterModule("http", m)
}

// requestOptions reads the map of http::request.
func requestOptions(m *rhai.Map) (outboundRequest, error) {
	req := outboundRequest{fn: "http::request", method: http.MethodGet, headers: rhai.Unit, body: rhai.Unit}
	fail := func(format string, args ...any) (outboundRequest, error) {
		return req, rhai.NewError(rhai.ErrorRuntime, "http::request: "+format, args...)
	}
	hasURL := false
	for _, k := range m.Keys() {
		v := m.M[k].Flatten()
		switch k {
		case "method":
			if v.Type() != rhai.TypeString {
				return fail("method must be a string, not %s", v.TypeName())
			}
			req.method = strings.ToUpper(v.AsString())
		case "url":
			if v.Type() != rhai.TypeString {
				return fail("url must be a string, not %s", v.TypeName())
			}
			req.url, hasURL = v.AsString(), true
		case "headers":
			if v.Type() != rhai.TypeMap && !v.IsUnit() {
				return fail("headers must be a map, not %s", v.TypeName())
			}
			req.headers = v
		case "body":
			req.body = v
		case "timeout_ms":
			if v.Type() != rhai.TypeInt || v.AsInt() <= 0 {
				return fail("timeout_ms must be a positive integer")
			}
			req.timeout = time.Duration(min(v.AsInt(), int64(24*time.Hour/time.Millisecond))) * time.Millisecond
		default:
			return fail("unknown option %q (the options are method, url, headers, body and timeout_ms)", k)
		}
	}
	if !hasURL {
		return fail("the url option is required")
	}
	return req, nil
}

// doHTTP makes one request for the running script and returns its
// response as #{status, headers, body, json}.
func doHTTP(c *rhai.Context, req outboundRequest) (rhai.Value, error) {
	h, _ := c.Host().(*runHost)
	if h == nil || h.outbound == nil {
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, "%s: outbound HTTP is not available here", req.fn)
	}
	return h.outbound.do(c, req)
}

func (r *outboundRun) do(c *rhai.Context, req outboundRequest) (rhai.Value, error) {
	fail := func(format string, args ...any) (rhai.Value, error) {
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, req.fn+": "+format, args...)
	}
	// A replay performs nothing: the app's policy, which let production
	// make the calls its journal answers, is not asked again (a local
	// replay has none).
	h := hostOf(c)
	if len(r.policy.Allow) == 0 && len(r.policy.Private) == 0 && h.replay == nil {
		return fail("outbound HTTP is off for app %s: allow hosts with 'pic apps set-outbound %s --allow HOST'", r.app, r.app)
	}
	if !outboundMethods[req.method] {
		return fail("method %q is not supported (use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS)", req.method)
	}
	u, err := url.Parse(req.url)
	if err != nil {
		return fail("invalid URL %q", req.url)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || h.replay == nil {
		if err := r.checkURL(u); err != nil {
			return fail("%v", err)
		}
	}
	header := http.Header{}
	if err := requestHeaders(req.headers, header); err != nil {
		return fail("%v", err)
	}
	ctype, body, err := requestBody(req.body)
	if err != nil {
		return fail("%v", err)
	}
	if int64(len(body)) > r.policy.MaxRequestBytes {
		return fail("the request body has %d bytes, more than the limit of %d", len(body), r.policy.MaxRequestBytes)
	}
	if ctype != "" && header.Get("Content-Type") == "" {
		header.Set("Content-Type", ctype)
	}
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", "PiCloud")
	}
	if r.requests >= r.policy.MaxRequests {
		return fail("this run has made %d requests, the most one invocation may make", r.policy.MaxRequests)
	}
	r.requests++

	if h.replay != nil {
		return h.replay.http(req.fn, journalRequest(req.method, u, header, body, h.red))
	}
	if !h.rec.on {
		return r.send(c, req, u, header, body, nil)
	}
	x := journalRequest(req.method, u, header, body, h.red)
	v, err := r.send(c, req, u, header, body, x)
	h.rec.add(JournalEntry{Op: store.JournalHTTP, HTTP: x, Err: errText(err)})
	return v, err
}

// send makes the request checked by do; when x is not nil it notes the
// response there for the journal.
func (r *outboundRun) send(c *rhai.Context, req outboundRequest, u *url.URL, header http.Header, body []byte, x *JournalExchange) (rhai.Value, error) {
	fail := func(format string, args ...any) (rhai.Value, error) {
		return rhai.Unit, rhai.NewError(rhai.ErrorRuntime, req.fn+": "+format, args...)
	}
	timeout := r.policy.Timeout
	if req.timeout > 0 {
		timeout = min(timeout, req.timeout)
	}
	runCtx := c.Context()
	ctx, cancel := context.WithTimeout(runCtx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, req.method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fail("invalid request: %v", err)
	}
	hreq.Header = header
	client := &http.Client{Transport: r.client.roundTripper(r.policy.Private, r.private), CheckRedirect: r.checkRedirect}
	what := req.method + " " + u.Redacted()

	resp, err := client.Do(hreq)
	if err != nil {
		return rhai.Unit, r.failed(req.fn, what, runCtx, ctx, timeout, err)
	}
	defer resp.Body.Close()
	limit := r.policy.MaxResponseBytes
	tooLarge := func() (rhai.Value, error) {
		return fail("the response to %s is larger than the limit of %d bytes", what, limit)
	}
	if resp.ContentLength > limit {
		return tooLarge()
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return rhai.Unit, r.failed(req.fn, what, runCtx, ctx, timeout, err)
	}
	if x != nil {
		x.Status, x.RespHeader, x.RespBodySize = resp.StatusCode, resp.Header, len(data)
		x.RespBody, x.RespBodyTruncated = journalBody(data)
	}
	if int64(len(data)) > limit {
		return tooLarge()
	}
	if err := c.CheckSize(len(data), -1, -1, -1); err != nil {
		return rhai.Unit, err
	}
	return responseValue(resp.StatusCode, resp.Header, data), nil
}

// failed turns the error of a request into the script's error. Past the
// run's deadline it is the run's end, which the script cannot catch, so
// that a slow upstream ends the run as a timeout; otherwise a catchable
// error says what went wrong.
func (r *outboundRun) failed(fn, what string, runCtx, ctx context.Context, timeout time.Duration, err error) error {
	if runCtx.Err() != nil {
		return rhai.NewError(rhai.ErrorTerminated, "Script terminated: %v (during %s: %s)", runCtx.Err(), fn, what)
	}
	var ref *refusal
	if errors.As(err, &ref) {
		return rhai.NewError(rhai.ErrorRuntime, "%s: %s", fn, ref.msg)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return rhai.NewError(rhai.ErrorRuntime, "%s: %s timed out after %s", fn, what, timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return rhai.NewError(rhai.ErrorRuntime, "%s: %s failed: %v", fn, what, err)
}

// requestHeaders adds the script's headers map to h; a value may be an
// array of values.
func requestHeaders(v rhai.Value, h http.Header) error {
	v = v.Flatten()
	if v.Type() != rhai.TypeMap {
		return nil
	}
	m := v.AsMap()
	for _, name := range m.Keys() {
		if !validHeaderName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		if outboundReservedHeaders[http.CanonicalHeaderKey(name)] {
			return fmt.Errorf("header %s is set by the platform", http.CanonicalHeaderKey(name))
		}
		hv := m.M[name].Flatten()
		values := []rhai.Value{hv}
		if hv.Type() == rhai.TypeArray {
			values = hv.AsArray().Elems
		}
		for _, e := range values {
			s := e.Flatten().String()
			if !validHeaderValue(s) {
				return fmt.Errorf("invalid value for header %q", name)
			}
			h.Add(name, s)
		}
	}
	return nil
}

// requestBody encodes a request body: a string as text, a blob as bytes,
// a map or an array as JSON, () as none.
func requestBody(v rhai.Value) (contentType string, body []byte, err error) {
	v = v.Flatten()
	switch v.Type() {
	case rhai.TypeUnit:
		return "", nil, nil
	case rhai.TypeString:
		return "text/plain; charset=utf-8", []byte(v.AsString()), nil
	case rhai.TypeBlob:
		return "application/octet-stream", v.AsBlob().B, nil
	case rhai.TypeMap, rhai.TypeArray:
		data, err := rhai.ToJSON(v)
		if err != nil {
			return "", nil, fmt.Errorf("the body cannot be encoded as JSON: %w", err)
		}
		return "application/json", data, nil
	}
	return "", nil, fmt.Errorf("the body must be a string, a blob, a map or an array, not %s", v.TypeName())
}

// responseValue is the script's view of a response:
//
//	#{status, headers: #{lower-case name: value}, body: string, json: parsed body or ()}
func responseValue(status int, header http.Header, data []byte) rhai.Value {
	headers := make(map[string]rhai.Value, len(header))
	for k, vs := range header {
		headers[strings.ToLower(k)] = rhai.String(strings.Join(vs, ", "))
	}
	js := rhai.Unit
	if len(data) > 0 && isJSON(header.Get("Content-Type")) {
		if v, err := rhai.FromJSON(data); err == nil {
			js = v
		}
	}
	return rhai.NewMap(map[string]rhai.Value{
		"status":  rhai.Int(int64(status)),
		"headers": rhai.NewMap(headers),
		"body":    rhai.String(string(data)),
		"json":    js,
	})
}
