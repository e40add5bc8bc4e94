package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// follower is `pic logs APP --follow -o json` running in the background.
type follower struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string // stdout, a line at a time
	stderr chan string
	done   chan struct{}
}

func (c *cli) follow(args ...string) *follower {
	c.t.Helper()
	cmd := exec.Command(picBin, args...)
	cmd.Env = append(append(cleanEnv(), "HOME="+c.home, "XDG_CONFIG_HOME="+c.home), c.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start pic: %v", err)
	}
	f := &follower{t: c.t, cmd: cmd, lines: make(chan string, 100), stderr: make(chan string, 100), done: make(chan struct{})}
	scan := func(r io.Reader, ch chan string) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}
	go scan(stderr, f.stderr)
	go func() {
		scan(stdout, f.lines)
		close(f.done)
	}()
	c.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return f
}

// waitLine returns the first line of ch that contains s, failing after 10 s.
func (f *follower) waitLine(ch chan string, s string) string {
	f.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l := <-ch:
			if strings.Contains(l, s) {
				return l
			}
		case <-timeout:
			f.t.Fatalf("pic logs --follow printed no line with %q in 10s", s)
		}
	}
}

// interrupt sends SIGINT, as Ctrl-C does, and returns the exit code.
func (f *follower) interrupt() int {
	f.t.Helper()
	f.cmd.Process.Signal(syscall.SIGINT)
	exited := make(chan error, 1)
	go func() { exited <- f.cmd.Wait() }()
	select {
	case <-exited:
		return f.cmd.ProcessState.ExitCode()
	case <-time.After(10 * time.Second):
		f.t.Fatal("pic logs --follow did not exit after SIGINT")
		return -1
	}
}

// TestLiveLogsAndReplay follows an app's logs with the real pic while a
// request is made, then replays that request against v1 and v2: the
// follower sees the request's record and the replays' records as they
// are written, and the replays answer as each version does.
func TestLiveLogsAndReplay(t *testing.T) {
	app := createApp(t, "live")
	deployAPI(t, app, "echo", `"v1 " + request.method + " " + request.body`)
	deployAPI(t, app, "echo", `response(201, "v2 " + request.method + " " + request.body, #{"X-Version": "2"})`)
	pic := asAdmin(t)

	f := pic.follow("logs", app, "--follow", "-o", "json")
	f.waitLine(f.stderr, `Following the logs of app "`+app+`"`)

	// A request made after the follower started, with credentials that
	// must not be recorded.
	req, err := http.NewRequest("POST", serverURL+"/fn/"+app+"/echo", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer e2e-secret-token")
	req.Header.Set("X-Trace", "e2e")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	id := res.Header.Get("X-Picloud-Invocation")
	if res.StatusCode != 201 || id == "" {
		t.Fatalf("/fn/%s/echo: HTTP %d, invocation %q", app, res.StatusCode, id)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(f.waitLine(f.lines, id)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["script"] != "echo" || rec["trigger"] != "http" || rec["status"] != "ok" || rec["http_status"] != 201.0 || rec["version"] != 2.0 {
		t.Errorf("followed record %v", rec)
	}

	// The record keeps the request, without the Authorization header.
	shown := pic.ok("logs", "show", id, "-o", "json")
	var detail struct {
		Request struct {
			Method  string              `json:"method"`
			Headers map[string][]string `json:"headers"`
			Body    string              `json:"body"`
		} `json:"request"`
	}
	decodeOne(t, shown, &detail)
	if detail.Request.Method != "POST" || detail.Request.Body != "hello" || detail.Request.Headers["X-Trace"][0] != "e2e" ||
		strings.Contains(shown.stdout, "e2e-secret-token") || detail.Request.Headers["Authorization"] != nil {
		t.Errorf("the recorded request\n%s", shown)
	}

	// Replayed against v1: another status and body; side by side.
	r := pic.ok("logs", "replay", id, "--version", "1")
	if !strings.Contains(r.stdout, "HTTP 201 ok") || !strings.Contains(r.stdout, "HTTP 200 ok") ||
		!strings.Contains(r.stdout, "v2 POST hello") || !strings.Contains(r.stdout, "v1 POST hello") ||
		!strings.HasSuffix(r.stdout, "\nThe responses differ: status, headers, body.\n") {
		t.Errorf("replay against v1\n%s", r)
	}
	// Against the live version, v2: the same response.
	var live struct {
		Replay struct {
			InvocationID string `json:"invocation_id"`
			Version      int    `json:"version"`
			Status       int    `json:"status"`
			Body         string `json:"body"`
		} `json:"replay"`
		Identical bool `json:"identical"`
	}
	decodeOne(t, pic.ok("logs", "replay", id, "-o", "json"), &live)
	if !live.Identical || live.Replay.Version != 2 || live.Replay.Status != 201 || live.Replay.Body != "v2 POST hello" {
		t.Errorf("replay against live: %+v", live)
	}

	// The follower sees the replay, logged with its own trigger.
	if err := json.Unmarshal([]byte(f.waitLine(f.lines, live.Replay.InvocationID)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["trigger"] != "replay" || rec["version"] != 2.0 {
		t.Errorf("the replay's record %v", rec)
	}

	// A viewer may follow but not replay.
	viewer, token := createUser(t, "live-viewer")
	api(t, 201, "PUT", "/api/v1/apps/"+app+"/members/"+viewer, adminToken, `{"role":"viewer"}`)
	refused(t, as(t, token).run("logs", "replay", id), 403)

	if code := f.interrupt(); code != 0 {
		t.Errorf("pic logs --follow exited %d after SIGINT, want 0", code)
	}
}
