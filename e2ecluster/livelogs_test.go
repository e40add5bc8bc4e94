package e2ecluster

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

// liveLogsAndReplay follows the logs of app demo through Caddy (the
// manager's stream) while a node runs a request, then replays it through
// Caddy, which sends replays to the nodes: the record of each node's run
// reaches the manager's stream over LISTEN/NOTIFY.
func liveLogsAndReplay(t *testing.T, c *cluster, p *pic) {
	if v := p.deploy(t, "echo", `"v1 " + request.body`); v != "1" {
		t.Fatalf("deploy echo printed version %q", v)
	}
	if v := p.deploy(t, "echo", `"v2 " + request.body`); v != "2" {
		t.Fatalf("redeploy echo printed version %q", v)
	}

	cmd := exec.Command(p.bin, "logs", "demo", "--follow", "--script", "echo", "-o", "json")
	cmd.Env = env("HOME="+p.home, "XDG_CONFIG_HOME="+p.home)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	lines, errLines := make(chan string, 100), make(chan string, 100)
	for r, ch := range map[io.Reader]chan string{stdout: lines, stderr: errLines} {
		go func() {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				ch <- sc.Text()
			}
		}()
	}
	wait := func(ch chan string, s string) string {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l := <-ch:
				if strings.Contains(l, s) {
					return l
				}
			case <-timeout:
				t.Fatalf("pic logs --follow printed no line with %q in 10s", s)
			}
		}
	}
	wait(errLines, `Following the logs of app "demo"`)

	resp, err := client.Post(c.front+"/fn/demo/echo", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Picloud-Invocation")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("POST /fn/demo/echo: %d, invocation %q", resp.StatusCode, id)
	}
	streamed := time.Now()
	wait(lines, id)
	t.Logf("the record of a node's run reached the manager's stream through Caddy in %v", time.Since(streamed).Round(time.Millisecond))

	var rep struct {
		Original struct {
			Body string `json:"body"`
		} `json:"original"`
		Replay struct {
			InvocationID string `json:"invocation_id"`
			Version      int    `json:"version"`
			Body         string `json:"body"`
		} `json:"replay"`
	}
	if err := json.Unmarshal([]byte(p.run(t, "", "logs", "replay", id, "--version", "1", "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Original.Body != "v2 hi" || rep.Replay.Body != "v1 hi" || rep.Replay.Version != 1 {
		t.Fatalf("replay through Caddy: %+v", rep)
	}
	var rec struct {
		Trigger string `json:"trigger"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal([]byte(wait(lines, rep.Replay.InvocationID)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Trigger != "replay" || rec.Version != 1 {
		t.Errorf("the replay's record %+v", rec)
	}

	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("pic logs --follow exited %d after SIGINT", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pic logs --follow did not exit after SIGINT")
	}
}

// streamsEndWithAccess opens live log streams through Caddy on the
// manager with a viewer's sessions and ends the access behind each, by a
// logout and by the viewer's removal from the app: each stream must end
// within a second or so (3 s allowed). The check reads the shared
// database, so it holds on every manager of a cluster.
func streamsEndWithAccess(t *testing.T, c *cluster) {
	// No timeout: a stream lasts as long as the server keeps it.
	streamClient := &http.Client{Transport: &http.Transport{Proxy: nil}}
	call := func(method, path, token, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, c.front+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	do := func(method, path, token, body string, want int) []byte {
		t.Helper()
		resp := call(method, path, token, body)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		return b
	}
	login := func(user, password string) string {
		t.Helper()
		var s struct {
			Token string `json:"token"`
		}
		b := do("POST", "/api/v1/auth/login", "", `{"username": "`+user+`", "password": "`+password+`"}`, http.StatusOK)
		if err := json.Unmarshal(b, &s); err != nil || s.Token == "" {
			t.Fatalf("login %s: %s %v", user, b, err)
		}
		return s.Token
	}
	admin := login("admin", adminPassword)
	do("POST", "/api/v1/users", admin, `{"username": "watcher", "password": "watcher-password", "role": "member"}`, http.StatusCreated)
	do("PUT", "/api/v1/apps/demo/members/watcher", admin, `{"role": "viewer"}`, http.StatusCreated)

	// open starts a stream, read to its end in the background; the
	// channel is closed when the server ends it.
	open := func(token string) chan struct{} {
		t.Helper()
		req, err := http.NewRequest("GET", c.front+"/api/v1/apps/demo/logs/stream", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := streamClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream: %d", resp.StatusCode)
		}
		ended := make(chan struct{})
		go func() {
			defer close(ended)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
		t.Cleanup(func() { resp.Body.Close() })
		return ended
	}
	waitEnd := func(what string, ended chan struct{}) {
		t.Helper()
		start := time.Now()
		select {
		case <-ended:
			t.Logf("the stream ended %v after %s", time.Since(start).Round(time.Millisecond), what)
		case <-time.After(3 * time.Second):
			t.Fatalf("the stream still runs 3s after %s", what)
		}
	}

	first, second := login("watcher", "watcher-password"), login("watcher", "watcher-password")
	a, b := open(first), open(second)
	do("POST", "/api/v1/auth/logout", first, "", http.StatusNoContent)
	waitEnd("its session's logout", a)
	select {
	case <-b:
		t.Fatal("the stream of the other session ended with the logout")
	default:
	}
	do("DELETE", "/api/v1/apps/demo/members/watcher", admin, "", http.StatusNoContent)
	waitEnd("the viewer's removal from the app", b)
}
