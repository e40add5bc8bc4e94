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
