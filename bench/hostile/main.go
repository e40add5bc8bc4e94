// Command hostile measures how well one PiCloud app is shielded from
// another app's hostile scripts (issue 15, item 2): a well-behaved app's
// latency and the server's memory, idle and then while a second app keeps
// -hostile runs of hostile scripts in flight.
//
// It builds the real picloud binary (or takes -picloud), starts it with a
// fresh data directory and deploys two apps:
//
//   - good/hello, a user-style script: a function, a loop, method calls,
//     a map returned as JSON;
//   - hostile/mem, forty -mem-mb MB strings held in forty variables (the
//     issue's memory attack), and hostile/cpu, a loop that never ends.
//
// Then, in one run, it sends good/hello at a constant -rate for -d with
// nothing else running (idle), and again for -d while -hostile clients
// send hostile/mem and hostile/cpu back to back (attack). Each request of
// good/hello is timed from the moment it was due, so that a stalled server
// cannot hide its backlog. It prints p50, p99 and max of both phases, the
// ratio p99(attack)/p99(idle) against the target of 3, the answers the
// hostile clients got (admitted runs, 429 and 503 refusals), and the
// server's peak resident memory (VmHWM of /proc/PID/status) after each
// phase.
//
// Run it from the bench directory:
//
//	go run ./hostile [-d 10s] [-rate 50] [-hostile 50] [-mem-mb 16] [-- server flags]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/bench/internal/picloudproc"
)

// targetRatio is the target: the good app's p99 under attack at
// most three times its idle p99.
const targetRatio = 3.0

const adminPassword = "hostile-bench-password"

type config struct {
	picloud  string
	duration time.Duration
	rate     float64
	hostile  int
	memMB    int
	scripts  []string // the hostile scripts the attack sends, in turn
	server   []string // extra flags of picloud serve
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.picloud, "picloud", "", "picloud binary (default: build ../cmd/picloud)")
	fs.DurationVar(&c.duration, "d", 10*time.Second, "duration of each phase")
	fs.Float64Var(&c.rate, "rate", 50, "requests per second of the good app")
	fs.IntVar(&c.hostile, "hostile", 50, "hostile runs kept in flight during the attack")
	fs.IntVar(&c.memMB, "mem-mb", 16, "size in MB of each of the forty strings of hostile/mem")
	attacks := fs.String("attack", "mem,cpu", "hostile scripts the attack sends, in turn: mem, cpu or both")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c.server = fs.Args()
	c.scripts = strings.Split(*attacks, ",")
	for _, a := range c.scripts {
		if a != "mem" && a != "cpu" {
			fmt.Fprintf(stderr, "hostile: -attack %q: the scripts are mem and cpu\n", *attacks)
			return 2
		}
	}
	if err := bench(c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "hostile:", err)
		return 1
	}
	return 0
}

func bench(c config, stdout, stderr io.Writer) error {
	tmp, err := os.MkdirTemp("", "picloud-hostile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := c.picloud
	if bin == "" {
		fmt.Fprintln(stderr, "building picloud…")
		if bin, err = picloudproc.Build(context.Background(), tmp); err != nil {
			return err
		}
	}
	s, err := start(bin, tmp, c.server)
	if err != nil {
		return err
	}
	defer s.stop()
	if err := s.setUp(c.memMB); err != nil {
		return fmt.Errorf("%w\nserver output:\n%s", err, s.out.String())
	}

	fmt.Fprintln(stderr, "warming up…")
	measure(s, c.rate, 2*time.Second)
	fmt.Fprintln(stderr, "idle phase…")
	idle := measure(s, c.rate, c.duration)
	idleHWM := s.peakRSS()

	fmt.Fprintf(stderr, "attack phase: %d hostile runs in flight…\n", c.hostile)
	ctx, cancel := context.WithCancel(context.Background())
	outcomes := attack(ctx, s, c.hostile, c.scripts)
	time.Sleep(time.Second) // let the attack reach its steady state
	attacked := measure(s, c.rate, c.duration)
	cancel()
	attackHWM := s.peakRSS()
	got := outcomes()

	fmt.Fprintf(stdout, "good/hello at %.0f/s for %s per phase; %d hostile clients sending %s (hostile/mem: 40 × %d MB strings, hostile/cpu: an endless loop)\n\n",
		c.rate, c.duration, c.hostile, strings.Join(c.scripts, " and "), c.memMB)
	fmt.Fprintf(stdout, "%-8s %10s %10s %10s %8s %8s\n", "phase", "p50", "p99", "max", "ok", "failed")
	for _, p := range []struct {
		name string
		r    result
	}{{"idle", idle}, {"attack", attacked}} {
		fmt.Fprintf(stdout, "%-8s %10s %10s %10s %8d %8d\n", p.name, p.r.quantile(0.5), p.r.quantile(0.99), p.r.quantile(1), len(p.r.latencies), p.r.failed)
	}
	ratio := float64(attacked.quantile(0.99)) / float64(max(idle.quantile(0.99), 1))
	verdict := "met"
	if ratio > targetRatio || attacked.failed > 0 {
		verdict = "NOT met"
	}
	fmt.Fprintf(stdout, "\np99(attack)/p99(idle) = %.2f (target ≤ %.0f: %s)\n", ratio, targetRatio, verdict)
	fmt.Fprintf(stdout, "hostile answers: %s\n", got)
	fmt.Fprintf(stdout, "server peak RSS (VmHWM): %d MiB after the idle phase, %d MiB after the attack\n", idleHWM>>20, attackHWM>>20)
	return nil
}

// server is the picloud process under test.
type server struct {
	cmd   *exec.Cmd
	url   string
	token string
	out   *picloudproc.SyncBuffer
}

func start(bin, tmp string, extra []string) (*server, error) {
	addr, err := picloudproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + addr, out: &picloudproc.SyncBuffer{}}
	args := append([]string{"serve", "--listen", addr, "--data", filepath.Join(tmp, "data"), "--log-level", "warn"}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(os.Environ(), "PICLOUD_ADMIN_PASSWORD="+adminPassword)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start picloud: %w", err)
	}
	if err := picloudproc.WaitHealthy(context.Background(), s.url, 30*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, s.out.String())
	}
	return s, nil
}

func (s *server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// peakRSS is the server's VmHWM in bytes.
func (s *server) peakRSS() int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// The scripts.
const goodScript = `fn greet(name) { ` + "`Hello, ${name}!`" + ` }
let names = ["ada", "grace", "linus", "ken"];
let out = [];
for n in names { out.push(greet(n).to_upper()); }
#{greetings: out, count: out.len()}`

const cpuScript = `let n = 0; loop { n += 1; }`

// memScript holds forty strings of mb MB each in forty variables.
func memScript(mb int) string {
	var b strings.Builder
	size := mb * 1_000_000
	fmt.Fprintf(&b, "let s = \"x\";\nwhile s.len() * 2 <= %d { s += s; }\ns += s.sub_string(0, %d - s.len());\n", size, size)
	for i := range 40 {
		fmt.Fprintf(&b, "let v%d = s.sub_string(1) + \"%d\";\n", i, i%10)
	}
	b.WriteString("v39.len()\n")
	return b.String()
}

func (s *server) setUp(memMB int) error {
	var login struct{ Token string }
	if err := s.api("POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": adminPassword}, &login); err != nil {
		return err
	}
	s.token = login.Token
	for _, app := range []string{"good", "hostile"} {
		if err := s.api("POST", "/api/v1/apps", map[string]string{"slug": app}, nil); err != nil {
			return err
		}
	}
	for path, src := range map[string]string{
		"good/scripts/hello": goodScript, "hostile/scripts/mem": memScript(memMB), "hostile/scripts/cpu": cpuScript,
	} {
		if err := s.api("PUT", "/api/v1/apps/"+path, map[string]string{"source": src}, nil); err != nil {
			return err
		}
	}
	resp, err := http.Get(s.url + "/fn/good/hello")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "HELLO, ADA!") {
		return fmt.Errorf("good/hello answered %d %s", resp.StatusCode, body)
	}
	return nil
}

func (s *server) api(method, path string, in, out any) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// result is the good app's latencies in one phase.
type result struct {
	latencies []time.Duration
	failed    int
}

func (r result) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	l := slices.Clone(r.latencies)
	slices.Sort(l)
	return l[min(int(q*float64(len(l))), len(l)-1)]
}

// measure sends good/hello at rate for d, each request timed from when
// it was due.
func measure(s *server, rate float64, d time.Duration) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	var mu sync.Mutex
	var r result
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range n {
		due := begin.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(s.url + "/fn/good/hello")
			ok := err == nil && resp.StatusCode == 200
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			lat := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				r.latencies = append(r.latencies, lat)
			} else {
				r.failed++
			}
		}()
	}
	wg.Wait()
	client.CloseIdleConnections()
	return r
}

// attack keeps n hostile runs in flight until ctx ends; outcomes reports
// the answers by status.
func attack(ctx context.Context, s *server, n int, scripts []string) (outcomes func() string) {
	var counts [600]atomic.Int64
	var errs atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: time.Minute}
	var wg sync.WaitGroup
	for i := range n {
		script := scripts[i%len(scripts)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/fn/hostile/"+script, nil)
				resp, err := client.Do(req)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						errs.Add(1)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				// A hostile client ignores Retry-After.
				counts[resp.StatusCode].Add(1)
			}
		}()
	}
	return func() string {
		wg.Wait()
		var parts []string
		for code := range counts {
			if v := counts[code].Load(); v > 0 {
				parts = append(parts, fmt.Sprintf("%d × %d", v, code))
			}
		}
		if e := errs.Load(); e > 0 {
			parts = append(parts, fmt.Sprintf("%d transport errors", e))
		}
		return strings.Join(parts, ", ")
	}
}
