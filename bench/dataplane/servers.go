package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/picloud/picloud/bench/internal/picloudproc"
)

// What both servers answer, and where.
const (
	fnPath = "/fn/bench/hello"
	script = `"Hello, world!"`
	// effectsPath answers the same, with effects its invocation record
	// journals: a kv read, the clock, a random UUID (-journals).
	effectsPath   = "/fn/bench/effects"
	effectsScript = `let hits = kv::get("hits", 0); let at = time::unix(); let id = crypto::uuid(); "Hello, world!"`
	helloBody     = "Hello, world!"
	textPlain     = "text/plain; charset=utf-8"
	adminPassword = "dataplane-bench-password"

	// invocationHeader is picloud's per-response header. The bare handler
	// sends a constant of the same length, so that both responses have the
	// same size.
	invocationHeader = "X-Picloud-Invocation"
	bareInvocationID = "01BENCH0000000000000000000"
	// sandboxPolicy is the Content-Security-Policy of every data-plane
	// response (internal/orchestrator.SandboxPolicy; sameResponses
	// checks that both servers send the same).
	sandboxPolicy = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"
)

// server is a running server process under test.
type server struct {
	name   string
	url    string
	cmd    *exec.Cmd
	stderr *picloudproc.SyncBuffer
	pprof  string // the base URL of /debug/pprof, when served
}

// pprofEnv names the environment variable that makes a picloud built with
// the profiling overlay serve net/http/pprof, on the address it holds.
const pprofEnv = "PICLOUD_BENCH_PPROF"

// pprofOverlay is a file that the profiling build adds to cmd/picloud
// through go build -overlay, leaving the repository untouched: the product
// does not mount /debug/pprof.
const pprofOverlay = `package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
)

func init() {
	if addr := os.Getenv("` + pprofEnv + `"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
`

// buildPicloud builds cmd/picloud into dir; with pprof, with
// pprofOverlay added.
func buildPicloud(ctx context.Context, dir string, pprof bool) (string, error) {
	if !pprof {
		return picloudproc.Build(ctx, dir)
	}
	root, err := picloudproc.ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	src := filepath.Join(dir, "bench_pprof.go")
	overlay := filepath.Join(dir, "overlay.json")
	o, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		filepath.Join(root, "cmd", "picloud", "zz_bench_pprof.go"): src,
	}})
	if err := errors.Join(os.WriteFile(src, []byte(pprofOverlay), 0o644), os.WriteFile(overlay, o, 0o644)); err != nil {
		return "", err
	}
	return picloudproc.Build(ctx, dir, "-overlay", overlay)
}

// startPicloud starts bin on a free loopback port with a data directory
// under tmp, creates the app "bench" and deploys the script "hello". With
// pprof, it asks a binary built with the profiling overlay to serve
// /debug/pprof on a second port (s.pprof).
func startPicloud(ctx context.Context, bin, tmp string, pprof bool) (*server, error) {
	return startPicloudAs(ctx, "picloud", bin, filepath.Join(tmp, "data"), pprof)
}

// startPicloudAs is startPicloud with a name, a data directory and more
// arguments of picloud serve.
func startPicloudAs(ctx context.Context, name, bin, data string, pprof bool, args ...string) (*server, error) {
	addr, err := picloudproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{name: name, url: "http://" + addr, stderr: &picloudproc.SyncBuffer{}}
	s.cmd = exec.Command(bin, append([]string{"serve", "--listen", addr, "--data", data, "--log-level", "warn"}, args...)...)
	s.cmd.Env = append(os.Environ(), "PICLOUD_ADMIN_PASSWORD="+adminPassword, "PICLOUD_METRICS_TOKEN="+metricsToken)
	if pprof {
		paddr, err := picloudproc.FreeAddr()
		if err != nil {
			return nil, err
		}
		s.pprof = "http://" + paddr
		s.cmd.Env = append(s.cmd.Env, pprofEnv+"="+paddr)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start picloud: %w", err)
	}
	if err := s.setUp(ctx); err != nil {
		s.kill()
		return nil, fmt.Errorf("%w\npicloud's output:\n%s", err, s.stderr)
	}
	return s, nil
}

func (s *server) setUp(ctx context.Context) error {
	if err := picloudproc.WaitHealthy(ctx, s.url, 15*time.Second); err != nil {
		return err
	}
	login, _ := json.Marshal(map[string]string{"username": "admin", "password": adminPassword})
	code, body, _, err := call(ctx, "POST", s.url+"/api/v1/auth/login", "", "application/json", string(login))
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("log in: %d %s %v", code, body, err)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.Token == "" {
		return fmt.Errorf("log in: no token in %q", body)
	}
	if code, body, _, err := call(ctx, "POST", s.url+"/api/v1/apps", tok.Token, "application/json", `{"slug":"bench"}`); err != nil || code != http.StatusCreated {
		return fmt.Errorf("create the app: %d %s %v", code, body, err)
	}
	for name, src := range map[string]string{"hello": script, "effects": effectsScript} {
		if code, body, _, err := call(ctx, "PUT", s.url+"/api/v1/apps/bench/scripts/"+name, tok.Token, "text/plain", src); err != nil || code != http.StatusCreated {
			return fmt.Errorf("deploy the script %s: %d %s %v", name, code, body, err)
		}
	}
	return nil
}

// startBare starts this command again with -serve-bare and reads the URL
// it prints.
func startBare(ctx context.Context) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := &server{name: "bare", stderr: &picloudproc.SyncBuffer{}}
	s.cmd = exec.Command(self, "-serve-bare")
	s.cmd.Stderr = s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bare server: %w", err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
		io.Copy(io.Discard, out)
	}()
	select {
	case s.url = <-line:
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
	}
	if !strings.HasPrefix(s.url, "http://") {
		s.kill()
		return nil, fmt.Errorf("the bare server did not start: %q\n%s", s.url, s.stderr)
	}
	return s, nil
}

// serveBare is the bare server process: a plain net/http handler with the
// same response as the deployed script, until ctx is done.
func serveBare(ctx context.Context, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		// The same server settings as picloud's.
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", textPlain)
			h.Set(invocationHeader, bareInvocationID)
			h.Set("Content-Length", strconv.Itoa(len(helloBody)))
			// The headers every data-plane response carries (docs/security.md).
			h.Set("Content-Security-Policy", sandboxPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, helloBody)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// sameResponses checks that both URLs answer 200 with the expected body
// and the same header names and Content-Type.
func sameResponses(ctx context.Context, bareURL, picloudURL string) error {
	var names [2][]string
	for i, u := range []string{bareURL, picloudURL} {
		code, body, h, err := call(ctx, "GET", u, "", "", "")
		if err != nil {
			return err
		}
		if code != http.StatusOK || body != helloBody || h.Get("Content-Type") != textPlain || len(h.Get(invocationHeader)) != len(bareInvocationID) ||
			h.Get("Content-Security-Policy") != sandboxPolicy || h.Get("X-Content-Type-Options") != "nosniff" {
			return fmt.Errorf("GET %s: %d %q %v; want 200 %q with Content-Type %q and the data plane's sandbox headers", u, code, body, h, helloBody, textPlain)
		}
		names[i] = slices.Sorted(maps.Keys(h))
	}
	if !slices.Equal(names[0], names[1]) {
		return fmt.Errorf("the responses differ: the bare handler sends headers %v, picloud %v", names[0], names[1])
	}
	return nil
}

// metricsToken is the bearer token of picloud's /metrics in the benchmark.
const metricsToken = "dataplane-bench-metrics-token-0123456789"

// picloudCounters reads the invocation counters from picloud's /metrics.
func picloudCounters(ctx context.Context, url string) (invocations, dropped int64, err error) {
	code, body, _, err := call(ctx, "GET", url+"/metrics", metricsToken, "", "")
	if err != nil || code != http.StatusOK {
		return 0, 0, fmt.Errorf("picloud /metrics: %d %v", code, err)
	}
	for line := range strings.Lines(body) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(name, `picloud_invocations_total{app="bench"`):
			invocations += int64(v)
		case name == "picloud_invocation_logs_dropped_total":
			dropped = int64(v)
		}
	}
	return invocations, dropped, nil
}

// profile saves what /debug/pprof/<kind>?seconds=secs returns into file.
func (s *server) profile(ctx context.Context, kind string, secs int, file string) error {
	if s.pprof == "" {
		return errors.New("picloud serves no /debug/pprof")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", s.pprof, kind, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("picloud %s: %w", kind, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("picloud %s: %d %s", kind, resp.StatusCode, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("picloud %s: %w", kind, err)
	}
	return f.Close()
}

// call makes one request of the set-up, outside the load generator.
func call(ctx context.Context, method, url, token, contentType, body string) (int, string, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

// stop ends the process with SIGTERM and waits for a clean exit; picloud
// flushes its buffered invocation logs on the way out.
func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", s.name, err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s exited with %w\n%s", s.name, err, s.stderr)
		}
		return nil
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop within 30s of SIGTERM", s.name)
	}
}

// kill ends the process if it still runs; for the error paths.
func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// cpuSample is a reading of the CPU time used so far by the server under
// load, by the load generator, and by the whole machine.
type cpuSample struct{ server, client, machine cpuTime }

func sampleCPU(s *server) cpuSample {
	return cpuSample{
		server:  procCPU(strconv.Itoa(s.cmd.Process.Pid)),
		client:  procCPU("self"),
		machine: machineCPU(),
	}
}

// cpuUse is the CPU time used between two samples by the server, the load
// generator, and every other process together; negative when unknown.
type cpuUse struct{ server, client, other time.Duration }

func (a cpuSample) until(b cpuSample) cpuUse {
	u := cpuUse{server: -1, client: -1, other: -1}
	if a.server >= 0 && b.server >= 0 {
		u.server = time.Duration(b.server - a.server)
	}
	if a.client >= 0 && b.client >= 0 {
		u.client = time.Duration(b.client - a.client)
	}
	if u.server >= 0 && u.client >= 0 && a.machine >= 0 && b.machine >= 0 {
		u.other = max(time.Duration(b.machine-a.machine)-u.server-u.client, 0)
	}
	return u
}

// cpuTime is CPU time in /proc's clock ticks of 1/100 s (USER_HZ on every
// architecture Go supports), or negative when /proc cannot tell.
type cpuTime time.Duration

// procCPU reads utime and stime of /proc/PID/stat.
func procCPU(pid string) cpuTime {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return -1
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// state is the first field after it, utime and stime the 12th and
	// 13th.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return -1
	}
	return cpuTime(time.Duration(u+k) * 10 * time.Millisecond)
}

// machineCPU reads the busy time of all CPUs from /proc/stat: user, nice,
// system, irq, softirq and steal (guest time is part of user).
func machineCPU() cpuTime {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return -1
		}
		busy += v
	}
	return cpuTime(time.Duration(busy) * 10 * time.Millisecond)
}
